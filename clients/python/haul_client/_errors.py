"""The two ways a call fails (hand-written runtime).

- `HaulError`: the daemon answered with a JSON-RPC error object.
- `TransportError`: there was no such answer: the daemon could not be
  reached, the connection broke, or what came back was not JSON-RPC.
"""

from enum import IntEnum
from typing import Any, Callable, Mapping


class HaulError(Exception):
    """The daemon answered a call with a JSON-RPC error.

    Attributes:
        code: The error code: an `ErrorCode` member when the API defines it
            (`ErrorCode` is an `IntEnum`, so it also compares equal to the
            plain number), else the plain `int` a newer daemon sent.
        message: The error's message, e.g. `"Download not found"`.
        data: The error's `data`: a typed dataclass (e.g.
            `DownloadNotFoundErrorData`) when the document describes it as
            an object, else the JSON value as sent (a `str` for the limit
            errors, `None` when absent). Data that does not decode as
            documented is kept as sent rather than hiding the error.
    """

    def __init__(self, code: int, message: str, data: object = None) -> None:
        super().__init__(code, message, data)
        self.code = code
        self.message = message
        self.data = data

    def __str__(self) -> str:
        text = f"{self.message} (code {int(self.code)}"
        if self.data is not None:
            text += f", data {self.data!r}"
        return text + ")"


class TransportError(Exception):
    """The call got no JSON-RPC answer from the daemon.

    The daemon could not be reached (connection refused, timeout, TLS), the
    connection broke, or the daemon's answer was not the JSON-RPC response
    this client expects. The message is a lowercase phrase naming the URL,
    e.g. `cannot reach the haul daemon at http://127.0.0.1:6801/jsonrpc:
    connection refused`.

    Attributes:
        url: The daemon URL the client was talking to.
    """

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message, url)
        self.message = message
        self.url = url

    def __str__(self) -> str:
        return self.message


ErrorFromWire = Callable[[int, str, Any], HaulError]
"""Builds the `HaulError` for an error object's code, message and data."""


def api_error(
    code: int,
    message: str,
    data: Any,
    codes: type[IntEnum],
    decoders: Mapping[int, Callable[[Any], object]],
) -> HaulError:
    """The `HaulError` for an error object, with the code as a member
    of `codes` when it is one and `data` decoded by `decoders[code]`
    when there is a decoder (kept as sent when it does not decode)."""
    known: int = code
    try:
        known = codes(code)
    except ValueError:
        pass
    decode = decoders.get(code)
    if decode is not None and data is not None:
        try:
            data = decode(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            pass
    return HaulError(known, message, data)
