"""How to reach a daemon beyond its URL (hand-written runtime): the TLS trust
of `https://` and `wss://` URLs (`ca_certificate=` or `ssl_context=`), and
`unix:/path/haul.sock` URLs, which the daemon serves with `--listen
unix:PATH`: the same HTTP API on a unix socket, calls at `POST /jsonrpc` and
the WebSocket at `/jsonrpc/ws`."""

import os
import ssl
from dataclasses import dataclass
from typing import Optional, Union

from ._jsonrpc import reason

CaCertificate = Union[str, "os.PathLike[str]"]
"""A CA certificate to trust: a PEM file's path, or PEM text."""

UNIX = "unix:"

UNIX_HOST = "localhost"
"""The Host header on a unix socket: the daemon answers only to loopback
names (its DNS rebinding guard), and a socket has no host name of its own."""

HTTP_URL = f"http://{UNIX_HOST}/jsonrpc"
"""What a call on a unix socket asks for (the connection goes to the socket)."""

WEBSOCKET_URL = f"ws://{UNIX_HOST}/jsonrpc/ws"
"""What a WebSocket on a unix socket asks for."""


@dataclass(frozen=True)
class Endpoint:
    """A daemon URL and the TLS trust its connections use (`None`: the
    defaults of httpx and websockets). What `AsyncClient.events()` hands to
    the event stream, which reconnects with it."""

    url: str
    ssl_context: Optional[ssl.SSLContext] = None


def socket_path(url: str) -> Optional[str]:
    """The socket of a `unix:/abs/path/haul.sock` URL, else `None`. The path
    is taken literally (not URL-decoded), as the daemon prints it."""
    return url[len(UNIX) :] if url.startswith(UNIX) else None


def check_unix(url: str) -> None:
    """Refuses a `unix:` URL whose path is not absolute."""
    path = socket_path(url)
    if path is not None and not path.startswith("/"):
        raise ValueError(
            f"invalid daemon url `{url}`: a unix: URL takes an absolute socket path, "
            "e.g. unix:/run/haul/haul.sock"
        )


def ssl_context_for(
    ca_certificate: Optional[CaCertificate], ssl_context: Optional[ssl.SSLContext]
) -> Optional[ssl.SSLContext]:
    """The context `https://` and `wss://` connections verify the daemon
    with: `ssl_context` as given, or one that trusts `ca_certificate` and
    nothing else (a pinned private CA), or `None` for the defaults."""
    if ca_certificate is not None and ssl_context is not None:
        raise ValueError(
            "give ca_certificate or ssl_context, not both\n"
            "hint: load the CA into the context: ssl_context.load_verify_locations(cafile=...)"
        )
    if ca_certificate is None:
        return ssl_context
    given = os.fspath(ca_certificate)
    # PEM text is told from a path by its armour, which no path has.
    pem = "-----BEGIN" in given
    shown = "(PEM text)" if pem else repr(given)
    try:
        if pem:
            return ssl.create_default_context(cadata=given)
        return ssl.create_default_context(cafile=given)
    except ssl.SSLError as e:
        raise ValueError(
            f"invalid ca_certificate {shown}: no PEM certificate in it ({e.reason or reason(e)})"
        ) from e
    except OSError as e:
        raise ValueError(f"invalid ca_certificate {shown}: {reason(e)}") from e
