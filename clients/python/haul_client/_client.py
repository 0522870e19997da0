"""What the generated `Client` and `AsyncClient` share: construction,
transports, lifecycle and the call path (hand-written runtime). The
per-method calls are generated from `openrpc.json` into `client.py` and
`async_client.py`; `AsyncClient.events()` returns the `_events` stream."""

import os
import ssl
from typing import Any, Callable, Optional, TypeVar, Union

from ._endpoint import CaCertificate, Endpoint, check_unix, ssl_context_for
from ._errors import HaulError
from ._http import AsyncHttpRpc, HttpRpc
from ._local import find_local
from ._jsonrpc import (
    DEFAULT_TIMEOUT,
    DEFAULT_URL,
    check_token,
    decoded,
    scheme_of,
    websocket_url_for,
)
from ._websocket import WebSocketRpc

T = TypeVar("T")
C = TypeVar("C", bound="ClientBase")
A = TypeVar("A", bound="AsyncClientBase")


class _Base:
    def __init__(
        self,
        url: str,
        token: str,
        timeout: float,
        ca_certificate: Optional[CaCertificate],
        ssl_context: Optional[ssl.SSLContext],
    ) -> None:
        check_token(token)
        check_unix(url)
        self._url = url
        self._token = token
        self._timeout = timeout
        self._ssl_context = ssl_context_for(ca_certificate, ssl_context)

    @property
    def url(self) -> str:
        """The daemon URL calls go to."""
        return self._url

    def __repr__(self) -> str:
        # Never the token.
        return f"{type(self).__name__}({self._url!r})"

    def _error_from_wire(self, code: int, message: str, data: Any) -> HaulError:
        """Overridden by the generated client, which knows the error codes."""
        return HaulError(code, message, data)


class ClientBase(_Base):
    """Blocking calls over HTTP; see the generated `Client`."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        token: str,
        timeout: float = DEFAULT_TIMEOUT,
        ca_certificate: Optional[CaCertificate] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        """Calls the daemon at `url` (`http://`, `https://` or
        `unix:/path/haul.sock`, e.g. `http://127.0.0.1:6801/jsonrpc`) with
        `token`, sent as `Authorization: Bearer <token>`. `timeout` bounds
        each call, in seconds. Nothing connects until the first call.

        For `https://`, `ca_certificate` (a PEM file's path, or PEM text) is
        the CA that signed the daemon's certificate, trusted instead of the
        default roots; or `ssl_context` verifies it (not both). A `unix:` URL
        calls over HTTP on that socket (`haul daemon --listen unix:PATH`)."""
        super().__init__(url, token, timeout, ca_certificate, ssl_context)
        scheme_of(url, ("http", "https", "unix"))
        self._rpc = HttpRpc(
            url, token, timeout, self._error_from_wire, self._ssl_context
        )

    @classmethod
    def local(
        cls: type[C],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        ca_certificate: Optional[CaCertificate] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> C:
        """A client of the daemon on this machine, found as the `haul` CLI
        finds it: the URL is `HAUL_URL` (which may be `https://` or
        `unix:`), else `http://127.0.0.1:6801/jsonrpc`; the token
        `HAUL_RPC_SECRET`, else the `rpc-secret` file the daemon wrote in its
        state directory (`HAUL_STATE_DIR`, else `$XDG_STATE_HOME/haul`, else
        `~/.local/state/haul`); the CA to trust, when neither `ca_certificate`
        nor `ssl_context` is given, the file `HAUL_RPC_CA_CERTIFICATE` names.
        Raises `LocalDaemonError` without a token, naming where it looked.
        The other arguments are the constructor's."""
        url, token = find_local()
        if ca_certificate is None and ssl_context is None:
            # The CLI's --rpc-ca-certificate, as the Rust SDK reads it.
            ca_certificate = os.environ.get("HAUL_RPC_CA_CERTIFICATE") or None
        return cls(
            url,
            token=token,
            timeout=timeout,
            ca_certificate=ca_certificate,
            ssl_context=ssl_context,
        )

    def close(self) -> None:
        """Closes the kept-alive connections."""
        self._rpc.close()

    def __enter__(self: C) -> C:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(
        self, method: str, params: Optional[dict[str, Any]], decode: Callable[[Any], T]
    ) -> T:
        return decoded(self._url, method, self._rpc.call(method, params), decode)


class AsyncClientBase(_Base):
    """asyncio calls over HTTP or one WebSocket; see the generated `AsyncClient`."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        token: str,
        timeout: float = DEFAULT_TIMEOUT,
        ca_certificate: Optional[CaCertificate] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        """Calls the daemon at `url` with `token`, sent as
        `Authorization: Bearer <token>` (on the WebSocket upgrade too).

        `http(s)://…/jsonrpc` calls over HTTP; `ws(s)://…/jsonrpc/ws` over
        one WebSocket, opened by `connect` (or `async with`) or on
        the first call; `unix:/path/haul.sock` over HTTP on that socket
        (`haul daemon --listen unix:PATH`). Either way `events` opens a
        WebSocket of its own (the URL plus `/ws` for HTTP; the same socket
        for `unix:`). `timeout` bounds each call and each connection attempt,
        in seconds.

        For `https://` and `wss://`, `ca_certificate` (a PEM file's path, or
        PEM text) is the CA that signed the daemon's certificate, trusted
        instead of the default roots by calls and event streams, their
        reconnections included; or `ssl_context` verifies it (not both).
        """
        super().__init__(url, token, timeout, ca_certificate, ssl_context)
        self._rpc: Union[AsyncHttpRpc, WebSocketRpc]
        scheme = scheme_of(url, ("http", "https", "ws", "wss", "unix"))
        if scheme in ("http", "https", "unix"):
            self._rpc = AsyncHttpRpc(
                url, token, timeout, self._error_from_wire, self._ssl_context
            )
            events_url = websocket_url_for(url)
        else:
            self._rpc = WebSocketRpc(
                url, token, timeout, self._error_from_wire, self._ssl_context
            )
            events_url = url
        # What the generated `events()` hands to `Events`: the URL and the
        # TLS context, so the stream's reconnections verify as calls do.
        self._events_url = Endpoint(events_url, self._ssl_context)

    @classmethod
    def local(
        cls: type[A],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        ca_certificate: Optional[CaCertificate] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> A:
        """A client of the daemon on this machine, found as `Client.local()`
        finds it (`HAUL_URL` may be a `ws(s)://` URL here)."""
        url, token = find_local()
        if ca_certificate is None and ssl_context is None:
            # The CLI's --rpc-ca-certificate, as the Rust SDK reads it.
            ca_certificate = os.environ.get("HAUL_RPC_CA_CERTIFICATE") or None
        return cls(
            url,
            token=token,
            timeout=timeout,
            ca_certificate=ca_certificate,
            ssl_context=ssl_context,
        )

    async def connect(self) -> None:
        """Opens the WebSocket now, for a `ws(s)://` URL, so that an
        unreachable daemon or a wrong token shows at once; nothing for HTTP."""
        await self._rpc.connect()

    async def aclose(self) -> None:
        """Closes the connections calls use (not event streams)."""
        await self._rpc.aclose()

    async def __aenter__(self: A) -> A:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _call(
        self, method: str, params: Optional[dict[str, Any]], decode: Callable[[Any], T]
    ) -> T:
        return decoded(self._url, method, await self._rpc.call(method, params), decode)
