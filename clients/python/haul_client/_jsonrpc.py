"""JSON-RPC 2.0 messages and the errors around them, shared by every
transport (hand-written runtime)."""

import json
import re
import ssl
from typing import Any, Callable, Optional, TypeVar
from urllib.parse import urlsplit, urlunsplit

from ._errors import ErrorFromWire, HaulError, TransportError

T = TypeVar("T")

DEFAULT_URL = "http://127.0.0.1:6801/jsonrpc"
"""The daemon's default address."""

DEFAULT_TIMEOUT = 60.0
"""Seconds a call may take before it fails with `TransportError`."""

MAX_MESSAGE_SIZE = 16 * 1024 * 1024
"""The largest WebSocket message accepted (the daemon's default response bound)."""


def request(id: int, method: str, params: Optional[dict[str, Any]]) -> dict[str, Any]:
    """A call; methods without params send no `params` member."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def check_token(token: str) -> None:
    """Refuses a token that cannot travel in an HTTP header."""
    if not token or not all(" " <= c <= "~" for c in token):
        raise ValueError("invalid token: it must be non-empty printable ASCII")


def websocket_url_for(http_url: str) -> str:
    """The daemon serves its WebSocket at the HTTP endpoint's path plus `/ws`;
    a `unix:` URL names the socket, which serves both."""
    if http_url.startswith("unix:"):
        return http_url
    parts = urlsplit(http_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = parts.path.rstrip("/") + "/ws"
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


def http_url_for(websocket_url: str) -> str:
    """The HTTP endpoint behind a WebSocket one (`ws://h/jsonrpc/ws` →
    `http://h/jsonrpc`; a `unix:` URL stays as it is)."""
    if websocket_url.startswith("unix:"):
        return websocket_url
    parts = urlsplit(websocket_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    path = parts.path.rstrip("/")
    if path.endswith("/ws"):
        path = path[: -len("/ws")]
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


def scheme_of(url: str, allowed: tuple[str, ...]) -> str:
    """The URL's scheme, which must be one of `allowed`."""
    scheme = urlsplit(url).scheme
    if scheme not in allowed:
        shown = scheme or "none"
        raise ValueError(
            f"invalid daemon url `{url}`: unsupported scheme `{shown}`: use {', '.join(allowed)}"
        )
    return scheme


UNTRUSTED = frozenset((2, 18, 19, 20, 21, 27))
"""OpenSSL's verification errors that mean the certificate's issuer is not
trusted (unable to get the issuer, self-signed, unable to verify the
leaf, untrusted), which `ca_certificate=` fixes; an expired certificate or
one for another host is another matter."""


def reason(error: BaseException) -> str:
    """An exception as a lowercase phrase: `connection refused`."""
    # httpx's async transport says "all connection attempts failed", with
    # the refusal as its cause; httpx wraps a TLS failure the same way.
    cause: Optional[BaseException] = error
    for _ in range(10):
        if cause is None:
            break
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return _unverified(cause)
        cause = cause.__cause__ or cause.__context__
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", str(error)) or type(error).__name__
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text


def _unverified(error: ssl.SSLCertVerificationError) -> str:
    detail = error.verify_message or error.reason or "certificate verify failed"
    if error.verify_code in UNTRUSTED:
        return (
            f"its TLS certificate is not trusted ({detail})\n"
            "hint: pass the certificate of the CA that signed it as ca_certificate= "
            "(a PEM file), or set SSL_CERT_FILE to it"
        )
    return f"its TLS certificate was refused ({detail})"


def unreachable(url: str, error: BaseException) -> TransportError:
    return TransportError(
        f"cannot reach the haul daemon at {url}: {reason(error)}", url
    )


def unexpected(url: str, what: str) -> TransportError:
    return TransportError(
        f"unexpected answer from the haul daemon at {url}: {what}", url
    )


def snippet(body: Any) -> str:
    """The start of a body, for messages."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    text = text.strip()
    return text if len(text) <= 200 else text[:200] + "…"


def http_result(
    url: str, status: int, body: bytes, id: int, error_from_wire: ErrorFromWire
) -> Any:
    """The result of an HTTP answer, or the exception it stands for. An error
    object is a `HaulError` whatever the status (the daemon answers
    401, 413 and 503 with one)."""
    try:
        message = json.loads(body)
    except ValueError:
        if status != 200:
            raise unexpected(url, f"HTTP {status}: {snippet(body)}") from None
        raise unexpected(url, f"the body is not JSON: {snippet(body)}") from None
    error = error_of(message, error_from_wire)
    if error is not None:
        raise error
    if status != 200:
        raise unexpected(url, f"HTTP {status}: {snippet(body)}")
    return result_of(url, message, id, error_from_wire)


def refusal(
    url: str, status: int, body: bytes, error_from_wire: ErrorFromWire
) -> Exception:
    """The exception for a refused WebSocket upgrade."""
    try:
        error = error_of(json.loads(body), error_from_wire)
    except ValueError:
        error = None
    if error is not None:
        return error
    shown = snippet(body)
    return unexpected(
        url,
        f"the WebSocket upgrade was refused with HTTP {status}"
        + (f": {shown}" if shown else ""),
    )


def error_of(message: Any, error_from_wire: ErrorFromWire) -> Optional[HaulError]:
    """The `HaulError` a response carries, if it is an error response."""
    if not isinstance(message, dict):
        return None
    error = message.get("error")
    if not isinstance(error, dict):
        return None
    code, text = error.get("code"), error.get("message")
    if not isinstance(code, int) or isinstance(code, bool) or not isinstance(text, str):
        return None
    return error_from_wire(code, text, error.get("data"))


def result_of(url: str, message: Any, id: int, error_from_wire: ErrorFromWire) -> Any:
    """The result of the response to call `id`, or the exception it stands for."""
    error = error_of(message, error_from_wire)
    if error is not None:
        raise error
    if not isinstance(message, dict) or "result" not in message:
        raise unexpected(
            url, f"not a JSON-RPC response: {snippet(json.dumps(message))}"
        )
    if message.get("id") != id:
        raise unexpected(
            url, f"a response to call {message.get('id')!r}, not to call {id}"
        )
    return message["result"]


def decoded(url: str, method: str, result: Any, decode: Callable[[Any], T]) -> T:
    """The typed result of `method`; a result that does not decode is the
    daemon's fault, reported as a `TransportError`."""
    try:
        return decode(result)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        what = f"missing {e}" if isinstance(e, KeyError) else reason(e)
        raise unexpected(url, f"cannot read the result of `{method}`: {what}") from e
