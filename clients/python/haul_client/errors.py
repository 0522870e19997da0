# generated from openrpc.json by haul-codegen — do not edit; regenerate with `cargo run -p haul-codegen`
"""The API's errors: `ErrorCode`, the dataclasses of their data, and how an error object
becomes a `HaulError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Callable, Optional, Union

from ._errors import HaulError, api_error
from ._wire import enum_or_str, enum_value
from .models import DownloadState, Gid, StreamId, TokenScope


class ErrorCode(IntEnum):
    """The API's error codes (`components/errors`), the numeric `code` of a `HaulError`.

    Every call can return `PARSE_ERROR`, `INVALID_REQUEST`, `METHOD_NOT_FOUND`,
    `INVALID_PARAMS`, `INTERNAL_ERROR`, `UNAUTHORIZED`, `REQUEST_TOO_LARGE`,
    `RESPONSE_TOO_LARGE`, `SERVER_BUSY`, `BATCH_TOO_LARGE`,
    `BATCH_RESPONSE_TOO_LARGE`, `FORBIDDEN`; each method's docs name the others it
    returns.
    """

    #: `-32700` Parse error: The request body is not valid JSON. `id` in the response is
    #: null.
    PARSE_ERROR = -32700
    #: `-32600` Invalid request: The JSON is not a valid JSON-RPC 2.0 request object (or
    #: batch of them), or a batch is empty or larger than the daemon's batch limit.
    INVALID_REQUEST = -32600
    #: `-32601` Method not found: No method of this name exists.
    METHOD_NOT_FOUND = -32601
    #: `-32602` Invalid params: The params do not match the method's schema: a missing
    #: or unknown field, a wrong type, a value out of range, or positional params (haul
    #: takes params by name). `data` says which param and why. Data:
    #: `InvalidParamsErrorData`.
    INVALID_PARAMS = -32602
    #: `-32603` Internal error: The daemon failed in a way that is not the caller's
    #: fault; details are in the daemon's log, never in the response.
    INTERNAL_ERROR = -32603
    #: `-32000` Unauthorized: The request carried no bearer token or a wrong one. Sent
    #: with HTTP status 401 before the request is parsed.
    UNAUTHORIZED = -32000
    #: `-32001` Download not found: No download has this gid: it never existed or was
    #: removed. Data: `DownloadNotFoundErrorData`.
    DOWNLOAD_NOT_FOUND = -32001
    #: `-32002` Invalid state for this operation: The download is in a state that does
    #: not allow the operation, e.g. pausing a complete download. Data:
    #: `InvalidStateErrorData`.
    INVALID_STATE = -32002
    #: `-32003` Invalid or unsupported URL: The URL does not parse or its scheme is not
    #: http or https. Data: `InvalidUrlErrorData`.
    INVALID_URL = -32003
    #: `-32004` Destination outside the download root: The file name or directory would
    #: put the file outside the daemon's download root (an absolute path, `..`, a path
    #: separator in `fileName`, or a symlink leading out). Data:
    #: `OutsideDownloadRootErrorData`.
    OUTSIDE_DOWNLOAD_ROOT = -32004
    #: `-32005` Destination exists: The destination file exists and `overwrite` is
    #: `fail`. Data: `DestinationExistsErrorData`.
    DESTINATION_EXISTS = -32005
    #: `-32006` Limit exceeded: A daemon limit would be exceeded, e.g. the number of
    #: downloads it keeps. Data: `LimitExceededErrorData`.
    LIMIT_EXCEEDED = -32006
    #: `-32012` Events no longer available: `events.subscribe` cannot replay from
    #: `since`: the window no longer reaches back that far, or `streamId` is not the
    #: running daemon's because it restarted. Nothing changed; resynchronise from
    #: `download.list`, then subscribe from `seq` without `since`. Data:
    #: `EventsUnavailableErrorData`.
    EVENTS_UNAVAILABLE = -32012
    #: `-32013` Needs a WebSocket connection: The method configures a WebSocket
    #: connection's notifications: call it over WebSocket, on its own rather than in a
    #: batch.
    WEB_SOCKET_REQUIRED = -32013
    #: `-32014` The state store cannot record changes: The daemon could not commit the
    #: change to its state store (a full or broken state disk), so it is not
    #: acknowledged: an added download was not kept; a pause, resume or remove took
    #: effect but may be lost at the next start. The store retries by itself;
    #: `system.getStats` shows when it works again. Data: `StoreUnavailableErrorData`.
    STORE_UNAVAILABLE = -32014
    #: `-32007` Request is too big: The request body, or a WebSocket call's params, is
    #: larger than the daemon's `--max-request-size`. Over HTTP the status is 413.
    #: `data` is a short text saying which limit, e.g. `Exceeded max limit of 1048576`.
    #: Data: the JSON value as sent.
    REQUEST_TOO_LARGE = -32007
    #: `-32008` Response is too big: The response would be larger than the daemon's
    #: `--max-response-size`; ask for less (e.g. a smaller `limit` in `download.list`).
    #: `data` is a short text saying which limit, e.g. `Exceeded max limit of 16777216`.
    #: Data: the JSON value as sent.
    RESPONSE_TOO_LARGE = -32008
    #: `-32009` Server is busy, try again later: The daemon is serving as many
    #: connections as `--max-connections` allows; retry shortly. The answer comes at
    #: once, with HTTP status 503, and the connection is closed. `data` is a short text
    #: saying which limit, e.g. `too many connections`. Data: the JSON value as sent.
    SERVER_BUSY = -32009
    #: `-32010` The batch request was too large: The batch has more calls than the
    #: daemon's `--max-batch`. `data` is a short text saying which limit, e.g. `Exceeded
    #: max limit of 100`. Data: the JSON value as sent.
    BATCH_TOO_LARGE = -32010
    #: `-32011` The batch response was too large: The batch's responses together exceed
    #: the daemon's `--max-response-size`; split the batch. `data` is a short text
    #: saying which limit, e.g. `Exceeded max limit of 16777216`. Data: the JSON value
    #: as sent.
    BATCH_RESPONSE_TOO_LARGE = -32011
    #: `-32015` The new URL serves another file: `download.setUrl` found another file at
    #: the new URL than the bytes kept belong to, or could not ask it; pass `restart:
    #: true` to start again from zero there. Data: `RemoteFileDiffersErrorData`.
    REMOTE_FILE_DIFFERS = -32015
    #: `-32016` Forbidden: The call needs a token of a wider scope than the one it came
    #: with (see the method's `x-scope`); over HTTP the status stays 200, as for every
    #: answered call. A `read` token's WebSocket still receives every notification.
    #: Data: `ForbiddenErrorData`.
    FORBIDDEN = -32016
    #: `-32017` Token not found: No named token has this name: it never existed or was
    #: removed. Data: `TokenNotFoundErrorData`.
    TOKEN_NOT_FOUND = -32017


@dataclass(frozen=True)
class InvalidParamsErrorData:
    """The params do not match the method's schema: a missing or unknown field, a wrong
    type, a value out of range, or positional params (haul takes params by name).
    `data` says which param and why.
    """

    param: Optional[str]
    """The param at fault, or null when the params object as a whole is wrong."""

    reason: str
    """What is wrong, as a lowercase phrase naming the value."""

    @classmethod
    def from_wire(cls, wire: Any) -> InvalidParamsErrorData:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            param=wire["param"],
            reason=wire["reason"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "param": self.param,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class DownloadNotFoundErrorData:
    """No download has this gid: it never existed or was removed."""

    gid: Gid
    """The gid asked for."""

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadNotFoundErrorData:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            gid=wire["gid"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "gid": self.gid,
        }


@dataclass(frozen=True)
class InvalidStateErrorData:
    """The download is in a state that does not allow the operation, e.g. pausing a
    complete download.
    """

    gid: Gid
    """The download's gid."""

    state: Union[DownloadState, str]
    """The download's current state."""

    @classmethod
    def from_wire(cls, wire: Any) -> InvalidStateErrorData:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            gid=wire["gid"],
            state=enum_or_str(DownloadState, wire["state"]),
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "gid": self.gid,
            "state": enum_value(self.state),
        }


@dataclass(frozen=True)
class InvalidUrlErrorData:
    """The URL does not parse or its scheme is not http or https."""

    url: str
    """The URL as given."""

    reason: str
    """What is wrong with it."""

    @classmethod
    def from_wire(cls, wire: Any) -> InvalidUrlErrorData:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            url=wire["url"],
            reason=wire["reason"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "url": self.url,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class OutsideDownloadRootErrorData:
    """The file name or directory would put the file outside the daemon's download root
    (an absolute path, `..`, a path separator in `fileName`, or a symlink leading
    out).
    """

    path: str
    """The offending name or directory as given."""

    @classmethod
    def from_wire(cls, wire: Any) -> OutsideDownloadRootErrorData:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            path=wire["path"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "path": self.path,
        }


@dataclass(frozen=True)
class DestinationExistsErrorData:
    """The destination file exists and `overwrite` is `fail`."""

    path: str
    """The existing file's path."""

    @classmethod
    def from_wire(cls, wire: Any) -> DestinationExistsErrorData:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            path=wire["path"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "path": self.path,
        }


@dataclass(frozen=True)
class LimitExceededErrorData:
    """A daemon limit would be exceeded, e.g. the number of downloads it keeps."""

    limit: str
    """The limit's name."""

    max: int
    """The limit's value."""

    @classmethod
    def from_wire(cls, wire: Any) -> LimitExceededErrorData:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            limit=wire["limit"],
            max=wire["max"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "limit": self.limit,
            "max": self.max,
        }


@dataclass(frozen=True)
class EventsUnavailableErrorData:
    """`events.subscribe` cannot replay from `since`: the window no longer reaches back
    that far, or `streamId` is not the running daemon's because it restarted. Nothing
    changed; resynchronise from `download.list`, then subscribe from `seq` without
    `since`.
    """

    stream_id: StreamId
    """The running daemon's stream."""

    seq: int
    """The `seq` of the latest notification sent so far."""

    oldest_seq: int
    """The lowest `since` the window can still replay from."""

    @classmethod
    def from_wire(cls, wire: Any) -> EventsUnavailableErrorData:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            stream_id=wire["streamId"],
            seq=wire["seq"],
            oldest_seq=wire["oldestSeq"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "streamId": self.stream_id,
            "seq": self.seq,
            "oldestSeq": self.oldest_seq,
        }


@dataclass(frozen=True)
class StoreUnavailableErrorData:
    """The daemon could not commit the change to its state store (a full or broken state
    disk), so it is not acknowledged: an added download was not kept; a pause, resume
    or remove took effect but may be lost at the next start. The store retries by
    itself; `system.getStats` shows when it works again.
    """

    reason: str
    """The store's own error."""

    @classmethod
    def from_wire(cls, wire: Any) -> StoreUnavailableErrorData:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            reason=wire["reason"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "reason": self.reason,
        }


@dataclass(frozen=True)
class RemoteFileDiffersErrorData:
    """`download.setUrl` found another file at the new URL than the bytes kept belong
    to, or could not ask it; pass `restart: true` to start again from zero there.
    """

    url: str
    """The new URL, without its password."""

    reason: str
    """What differs (the length, the ETag, Last-Modified), or why the URL could not be
    asked.
    """

    @classmethod
    def from_wire(cls, wire: Any) -> RemoteFileDiffersErrorData:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            url=wire["url"],
            reason=wire["reason"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "url": self.url,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ForbiddenErrorData:
    """The call needs a token of a wider scope than the one it came with (see the
    method's `x-scope`); over HTTP the status stays 200, as for every answered call.
    A `read` token's WebSocket still receives every notification.
    """

    required_scope: Union[TokenScope, str]
    """The least scope the call needs."""

    token_scope: Union[TokenScope, str]
    """The scope of the call's token."""

    @classmethod
    def from_wire(cls, wire: Any) -> ForbiddenErrorData:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            required_scope=enum_or_str(TokenScope, wire["requiredScope"]),
            token_scope=enum_or_str(TokenScope, wire["tokenScope"]),
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "requiredScope": enum_value(self.required_scope),
            "tokenScope": enum_value(self.token_scope),
        }


@dataclass(frozen=True)
class TokenNotFoundErrorData:
    """No named token has this name: it never existed or was removed."""

    name: str
    """The name asked for."""

    @classmethod
    def from_wire(cls, wire: Any) -> TokenNotFoundErrorData:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            name=wire["name"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "name": self.name,
        }


_ERROR_DATA: dict[int, Callable[[Any], object]] = {
    ErrorCode.INVALID_PARAMS: InvalidParamsErrorData.from_wire,
    ErrorCode.DOWNLOAD_NOT_FOUND: DownloadNotFoundErrorData.from_wire,
    ErrorCode.INVALID_STATE: InvalidStateErrorData.from_wire,
    ErrorCode.INVALID_URL: InvalidUrlErrorData.from_wire,
    ErrorCode.OUTSIDE_DOWNLOAD_ROOT: OutsideDownloadRootErrorData.from_wire,
    ErrorCode.DESTINATION_EXISTS: DestinationExistsErrorData.from_wire,
    ErrorCode.LIMIT_EXCEEDED: LimitExceededErrorData.from_wire,
    ErrorCode.EVENTS_UNAVAILABLE: EventsUnavailableErrorData.from_wire,
    ErrorCode.STORE_UNAVAILABLE: StoreUnavailableErrorData.from_wire,
    ErrorCode.REMOTE_FILE_DIFFERS: RemoteFileDiffersErrorData.from_wire,
    ErrorCode.FORBIDDEN: ForbiddenErrorData.from_wire,
    ErrorCode.TOKEN_NOT_FOUND: TokenNotFoundErrorData.from_wire,
}
"""How each error's data decodes, for the errors whose data is an object."""


def error_from_wire(code: int, message: str, data: Any) -> HaulError:
    """The `HaulError` for an error object: `code` as an `ErrorCode` when the API
    defines it, `data` as its dataclass when it has one (as sent otherwise)."""
    return api_error(code, message, data, ErrorCode, _ERROR_DATA)
