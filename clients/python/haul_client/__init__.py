# generated from openrpc.json by haul-codegen — do not edit; regenerate with `cargo run -p haul-codegen`
"""A typed client of haul's JSON-RPC API, generated from its OpenRPC document (version
0.2.0).

haul is a download daemon. This document is the single source of truth for its
JSON-RPC 2.0 API: the Rust, TypeScript and Python SDKs and these docs are generated
from it.

**Transports.** `POST /jsonrpc` (HTTP, one request or a batch per body) and a
WebSocket at `/jsonrpc/ws`; both serve every method. Params are always by name (a
JSON object). Byte counts and speeds are integers, times RFC 3339 UTC strings,
unknown values `null`.

**Auth.** Every request carries the daemon's token: `Authorization: Bearer <token>`
on HTTP and on the WebSocket upgrade, or, for browsers, a `Sec-WebSocket-Protocol`
entry `haul.bearer.<token>` next to the protocol `haul.jsonrpc` (the server answers
with `haul.jsonrpc`). A missing or wrong token gets HTTP 401 with error -32000. The
token is `--rpc-secret` / `HAUL_RPC_SECRET`, else one generated at first start and
stored in the state directory (`rpc-secret`, mode 0600). That token may call
everything; named tokens made with `token.add` carry a scope, `read`, `control` or
`admin`, and each method's `x-scope` names the least it needs (a param's `x-scope`
raises it when the param has the value `when`). A call beyond its token's scope gets
error -32016 Forbidden; a `read` token's WebSocket still receives every notification.

**Notifications.** Methods marked `x-notification` are sent by the daemon, not
called: every authenticated WebSocket connection receives them as plain JSON-RPC
notifications, e.g. `{"jsonrpc":"2.0","method":"download.progress","params":{…}}`,
without subscribing. Each carries `seq` (strictly increasing within a `streamId`) and
`streamId` (new at every daemon start); `events.subscribe` filters a connection's
notifications and replays the ones it missed after a reconnect.
"""

from ._errors import HaulError, TransportError
from ._events import Event, Events, EventsMode, Resync, ResyncReason
from ._local import LocalDaemonError, find_local
from .async_client import AsyncClient
from .client import Client
from .errors import (
    DestinationExistsErrorData,
    DownloadNotFoundErrorData,
    ErrorCode,
    EventsUnavailableErrorData,
    ForbiddenErrorData,
    InvalidParamsErrorData,
    InvalidStateErrorData,
    InvalidUrlErrorData,
    LimitExceededErrorData,
    OutsideDownloadRootErrorData,
    RemoteFileDiffersErrorData,
    StoreUnavailableErrorData,
    TokenNotFoundErrorData,
)
from .events import (
    DownloadCompleteEvent,
    DownloadErrorEvent,
    DownloadPausedEvent,
    DownloadProgressEvent,
    DownloadRemovedEvent,
    DownloadStartedEvent,
    EventPoll,
    Notification,
)
from .models import (
    AddResult,
    Checksum,
    DownloadList,
    DownloadState,
    DownloadStatus,
    EventStream,
    Failure,
    FailureCode,
    FileName,
    Gid,
    Headers,
    NewToken,
    NotificationKind,
    OpenrpcDocument,
    Options,
    OverwritePolicy,
    ProxyUrl,
    RemoveResult,
    RemovedToken,
    RestartReason,
    Source,
    SourceState,
    SpeedLimit,
    Stats,
    StoreHealth,
    StreamId,
    TokenInfo,
    TokenList,
    TokenName,
    TokenScope,
    VersionInfo,
)
from .params import (
    DownloadAddParams,
    DownloadListParams,
    DownloadPauseParams,
    DownloadRemoveParams,
    DownloadResumeParams,
    DownloadSetSpeedLimitParams,
    DownloadSetUrlParams,
    DownloadStatusParams,
    EventsPollParams,
    EventsSubscribeParams,
    SystemSetOptionsParams,
    TokenAddParams,
    TokenRemoveParams,
)

__version__ = "0.2.0"
"""The version of the API document this package was generated from."""

__all__ = [
    "AddResult",
    "AsyncClient",
    "Checksum",
    "Client",
    "DestinationExistsErrorData",
    "DownloadAddParams",
    "DownloadCompleteEvent",
    "DownloadErrorEvent",
    "DownloadList",
    "DownloadListParams",
    "DownloadNotFoundErrorData",
    "DownloadPauseParams",
    "DownloadPausedEvent",
    "DownloadProgressEvent",
    "DownloadRemoveParams",
    "DownloadRemovedEvent",
    "DownloadResumeParams",
    "DownloadSetSpeedLimitParams",
    "DownloadSetUrlParams",
    "DownloadStartedEvent",
    "DownloadState",
    "DownloadStatus",
    "DownloadStatusParams",
    "ErrorCode",
    "Event",
    "EventPoll",
    "EventStream",
    "Events",
    "EventsMode",
    "EventsPollParams",
    "EventsSubscribeParams",
    "EventsUnavailableErrorData",
    "Failure",
    "FailureCode",
    "FileName",
    "ForbiddenErrorData",
    "Gid",
    "HaulError",
    "Headers",
    "InvalidParamsErrorData",
    "InvalidStateErrorData",
    "InvalidUrlErrorData",
    "LimitExceededErrorData",
    "LocalDaemonError",
    "NewToken",
    "Notification",
    "NotificationKind",
    "OpenrpcDocument",
    "Options",
    "OutsideDownloadRootErrorData",
    "OverwritePolicy",
    "ProxyUrl",
    "RemoteFileDiffersErrorData",
    "RemoveResult",
    "RemovedToken",
    "RestartReason",
    "Resync",
    "ResyncReason",
    "Source",
    "SourceState",
    "SpeedLimit",
    "Stats",
    "StoreHealth",
    "StoreUnavailableErrorData",
    "StreamId",
    "SystemSetOptionsParams",
    "TokenAddParams",
    "TokenInfo",
    "TokenList",
    "TokenName",
    "TokenNotFoundErrorData",
    "TokenRemoveParams",
    "TokenScope",
    "TransportError",
    "VersionInfo",
    "__version__",
    "find_local",
]
