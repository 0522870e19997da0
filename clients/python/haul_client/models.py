# generated from openrpc.json by haul-codegen — do not edit; regenerate with `cargo run -p haul-codegen`
"""The API's named types (`components/schemas`): aliases, `str` enums and frozen
dataclasses. Each dataclass converts explicitly: `from_wire` reads the wire form
(camelCase keys, unknown keys ignored), `to_wire` writes it (optional fields that are
`None` left out).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional, Union

from ._wire import enum_or_str, enum_value


class NotificationKind(str, Enum):
    """The name of a notification the daemon sends.

    A value the daemon sends that this client does not know (a newer daemon's) is
    kept as a plain `str`: fields of this type are typed `Union[NotificationKind,
    str]`.
    """

    DOWNLOAD_STARTED = "download.started"
    DOWNLOAD_PROGRESS = "download.progress"
    DOWNLOAD_PAUSED = "download.paused"
    DOWNLOAD_COMPLETE = "download.complete"
    DOWNLOAD_ERROR = "download.error"
    DOWNLOAD_REMOVED = "download.removed"


class DownloadState(str, Enum):
    """Where a download is in its life: `queued` (waiting for a free slot), `active`
    (transferring), `paused` (stopped by request, bytes kept), `complete` (the file
    is in place), `error` (failed; bytes kept, can be resumed).

    A value the daemon sends that this client does not know (a newer daemon's) is
    kept as a plain `str`: fields of this type are typed `Union[DownloadState, str]`.
    """

    QUEUED = "queued"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETE = "complete"
    ERROR = "error"


class OverwritePolicy(str, Enum):
    """What to do when the destination exists: `rename` saves as `name (1).ext` (the
    next free number), `overwrite` replaces the file, `fail` refuses the download.

    A value the daemon sends that this client does not know (a newer daemon's) is
    kept as a plain `str`: fields of this type are typed `Union[OverwritePolicy,
    str]`.
    """

    RENAME = "rename"
    OVERWRITE = "overwrite"
    FAIL = "fail"


class FailureCode(str, Enum):
    """Why a download failed: `network` (connection failures, resets, timeouts or stalls
    outlasted the retries), `http-status` (the server answered an error status),
    `invalid-response` (the server's answer broke its own promises: wrong length,
    ignored ranges, too many redirects), `checksum-mismatch` (the file's digest
    differs from the one given), `destination-exists` (the destination appeared and
    the policy is `fail`), `disk-full` (no space left), `io` (another local file
    error), `internal` (a fault in haul itself, whose details are in the daemon's
    log; resuming tries again), `tls` (the server's certificate failed verification —
    an unknown authority, another host's, expired — or the handshake did; the message
    names the cause and the fix), `proxy` (the proxy refused the download: its
    credentials, or a tunnel to the server).

    A value the daemon sends that this client does not know (a newer daemon's) is
    kept as a plain `str`: fields of this type are typed `Union[FailureCode, str]`.
    """

    NETWORK = "network"
    HTTP_STATUS = "http-status"
    INVALID_RESPONSE = "invalid-response"
    CHECKSUM_MISMATCH = "checksum-mismatch"
    DESTINATION_EXISTS = "destination-exists"
    DISK_FULL = "disk-full"
    IO = "io"
    INTERNAL = "internal"
    TLS = "tls"
    PROXY = "proxy"


class RestartReason(str, Enum):
    """Why a download that had bytes started again from zero: `remote-changed` (the
    remote file is another version now: its validators, length or range answers say
    so, so its old bytes must not be mixed with the new), `not-resumable` (the server
    no longer serves ranges, or the `.part` file is gone).

    A value the daemon sends that this client does not know (a newer daemon's) is
    kept as a plain `str`: fields of this type are typed `Union[RestartReason, str]`.
    """

    REMOTE_CHANGED = "remote-changed"
    NOT_RESUMABLE = "not-resumable"


class SourceState(str, Enum):
    """A source's part in its download: `waiting` while the download is not running (or
    before its transfer begins), `active` while in use, `dropped` when this run no
    longer uses it (see `reason`).

    A value the daemon sends that this client does not know (a newer daemon's) is
    kept as a plain `str`: fields of this type are typed `Union[SourceState, str]`.
    """

    WAITING = "waiting"
    ACTIVE = "active"
    DROPPED = "dropped"


class TokenScope(str, Enum):
    """What a token may do: `read` calls the methods that change nothing and receives
    notifications, `control` also adds, pauses, resumes and removes downloads
    (without deleting files) and sets their URLs and speed limits, `admin` may do
    everything. Each method's `x-scope` names the least it needs.

    A value the daemon sends that this client does not know (a newer daemon's) is
    kept as a plain `str`: fields of this type are typed `Union[TokenScope, str]`.
    """

    READ = "read"
    CONTROL = "control"
    ADMIN = "admin"


Gid = str
"""A download's id: 16 lowercase hexadecimal characters."""


StreamId = str
"""A daemon process's event stream id: 16 lowercase hexadecimal characters, new at every
start.
"""


FileName = str
"""A plain file name: no path separators, not `.` or `..`, no control characters, at
most 255 bytes.
"""


Checksum = str
"""An expected digest: `sha-256=` followed by 64 hex digits, or `sha-512=` followed by
128.
"""


SpeedLimit = int
"""A speed limit in bytes per second; 0 means no limit."""


Headers = dict[str, str]
"""HTTP request headers by name. Names are HTTP tokens; values are single-line strings.
"""


OpenrpcDocument = dict[str, Any]
"""An OpenRPC 1.3.2 document (this one)."""


TokenName = str
"""A named token's name: 1 to 64 letters, digits, `.`, `_` or `-`."""


ProxyUrl = str
"""A proxy: `http://`, `https://` (TLS to the proxy), `socks5://` (host names resolved
by the daemon) or `socks5h://` (resolved by the proxy, so no DNS query leaves the
daemon's machine), with `user:password@` when the proxy wants credentials.
Credentials are kept to connect, never shown.
"""


@dataclass(frozen=True)
class Failure:
    """Why a download is in the `error` state."""

    code: Union[FailureCode, str]
    """What kind of failure."""

    message: str
    """A human-readable description naming the value at fault."""

    @classmethod
    def from_wire(cls, wire: Any) -> Failure:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            code=enum_or_str(FailureCode, wire["code"]),
            message=wire["message"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "code": enum_value(self.code),
            "message": self.message,
        }


@dataclass(frozen=True)
class Source:
    """One source of a download: its URL or a mirror."""

    url: str
    """The URL as given, without its password."""

    state: Union[SourceState, str]
    """Its part in the download now."""

    download_speed: int
    """Bytes per second from it (0 unless active)."""

    connections: int
    """Connections open to it now."""

    reason: Optional[str]
    """Why it is dropped (`failed: …`, `serves another file: …`, `dropped as slow: …`),
    or null.
    """

    @classmethod
    def from_wire(cls, wire: Any) -> Source:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            url=wire["url"],
            state=enum_or_str(SourceState, wire["state"]),
            download_speed=wire["downloadSpeed"],
            connections=wire["connections"],
            reason=wire["reason"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "url": self.url,
            "state": enum_value(self.state),
            "downloadSpeed": self.download_speed,
            "connections": self.connections,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class DownloadStatus:
    """A download's current status."""

    gid: Gid
    """The download's gid."""

    url: str
    """The URL as given to `download.add`."""

    state: Union[DownloadState, str]
    """The download's state."""

    file_name: Optional[str]
    """The file name it is saved as, or null until known (before the first response when
    no `fileName` was given).
    """

    path: Optional[str]
    """The absolute path of the final file, or null until the name is known. While
    downloading, data goes to this path plus `.part`.
    """

    total_length: Optional[int]
    """The file's size in bytes, or null until known (or when the server does not say).
    """

    completed_length: int
    """Bytes downloaded and kept so far."""

    download_speed: int
    """Current speed in bytes per second (0 unless active)."""

    eta: Optional[int]
    """Estimated seconds to completion, or null when unknown or not active."""

    connections: int
    """Connections currently open for this download."""

    sources: list[Source]
    """Where the file comes from: its `url`, then its mirrors (`urls`), each with its
    part in the running download.
    """

    speed_limit: SpeedLimit
    """This download's speed limit in bytes per second; 0 means none."""

    proxy: Optional[str]
    """The proxy this download's requests take now (its own `proxy`, else the daemon's
    for its URL), without credentials; null when it goes direct.
    """

    insecure: bool
    """Whether this download skips TLS certificate verification (added with `insecure:
    true`).
    """

    error: Optional[Failure]
    """Why the download failed, or null unless the state is `error`."""

    created_at: str
    """When the download was added (RFC 3339, UTC)."""

    completed_at: Optional[str]
    """When the download completed (RFC 3339, UTC), or null."""

    node: Optional[str]
    """In a cluster (`haul daemon --cluster-db`), the name of the node running the
    download (`--node-name`); null when no node runs it, and always on a lone daemon.
    """

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadStatus:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            gid=wire["gid"],
            url=wire["url"],
            state=enum_or_str(DownloadState, wire["state"]),
            file_name=wire["fileName"],
            path=wire["path"],
            total_length=wire["totalLength"],
            completed_length=wire["completedLength"],
            download_speed=wire["downloadSpeed"],
            eta=wire["eta"],
            connections=wire["connections"],
            sources=[Source.from_wire(x0) for x0 in wire["sources"]],
            speed_limit=wire["speedLimit"],
            proxy=wire["proxy"],
            insecure=wire["insecure"],
            error=None if wire["error"] is None else Failure.from_wire(wire["error"]),
            created_at=wire["createdAt"],
            completed_at=wire["completedAt"],
            node=wire["node"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "gid": self.gid,
            "url": self.url,
            "state": enum_value(self.state),
            "fileName": self.file_name,
            "path": self.path,
            "totalLength": self.total_length,
            "completedLength": self.completed_length,
            "downloadSpeed": self.download_speed,
            "eta": self.eta,
            "connections": self.connections,
            "sources": [x0.to_wire() for x0 in self.sources],
            "speedLimit": self.speed_limit,
            "proxy": self.proxy,
            "insecure": self.insecure,
            "error": None if self.error is None else self.error.to_wire(),
            "createdAt": self.created_at,
            "completedAt": self.completed_at,
            "node": self.node,
        }


@dataclass(frozen=True)
class AddResult:
    """The result of `download.add`."""

    gid: Gid
    """The new download's gid."""

    @classmethod
    def from_wire(cls, wire: Any) -> AddResult:
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
class RemoveResult:
    """The result of `download.remove`."""

    gid: Gid
    """The removed download's gid."""

    @classmethod
    def from_wire(cls, wire: Any) -> RemoveResult:
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
class DownloadList:
    """A page of downloads."""

    downloads: list[DownloadStatus]
    """The downloads on this page, oldest first."""

    total: int
    """How many downloads match the filter in all."""

    cursor: Optional[str]
    """Where the next page starts: pass it as `cursor` to get the downloads after this
    page (created later), whatever was added or removed meanwhile. Null when this
    page is the last.
    """

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadList:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            downloads=[DownloadStatus.from_wire(x0) for x0 in wire["downloads"]],
            total=wire["total"],
            cursor=wire["cursor"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "downloads": [x0.to_wire() for x0 in self.downloads],
            "total": self.total,
            "cursor": self.cursor,
        }


@dataclass(frozen=True)
class VersionInfo:
    """The daemon's version information."""

    version: str
    """The daemon's version (semver)."""

    commit: Optional[str]
    """The git commit the daemon was built from, or null when unknown."""

    features: list[str]
    """The cargo features the daemon was built with."""

    @classmethod
    def from_wire(cls, wire: Any) -> VersionInfo:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            version=wire["version"],
            commit=wire["commit"],
            features=wire["features"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "version": self.version,
            "commit": self.commit,
            "features": self.features,
        }


@dataclass(frozen=True)
class Stats:
    """Global statistics."""

    active: int
    """Downloads transferring now."""

    queued: int
    """Downloads waiting for a free slot."""

    paused: int
    """Paused downloads."""

    complete: int
    """Completed downloads still listed."""

    error: int
    """Failed downloads."""

    download_speed: int
    """Total speed over all downloads in bytes per second."""

    store: StoreHealth
    """Whether the state store records changes. While it does not, mutating calls fail
    with `StoreUnavailable`.
    """

    @classmethod
    def from_wire(cls, wire: Any) -> Stats:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            active=wire["active"],
            queued=wire["queued"],
            paused=wire["paused"],
            complete=wire["complete"],
            error=wire["error"],
            download_speed=wire["downloadSpeed"],
            store=StoreHealth.from_wire(wire["store"]),
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "active": self.active,
            "queued": self.queued,
            "paused": self.paused,
            "complete": self.complete,
            "error": self.error,
            "downloadSpeed": self.download_speed,
            "store": self.store.to_wire(),
        }


@dataclass(frozen=True)
class StoreHealth:
    """Whether the daemon's state store records changes."""

    healthy: bool
    """True when the last commit succeeded."""

    error: Optional[str]
    """Why the last commit failed, or null while the store is healthy."""

    @classmethod
    def from_wire(cls, wire: Any) -> StoreHealth:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            healthy=wire["healthy"],
            error=wire["error"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "healthy": self.healthy,
            "error": self.error,
        }


@dataclass(frozen=True)
class Options:
    """The daemon options that can be changed at run time."""

    max_concurrent: int
    """How many downloads may be active at once."""

    speed_limit: SpeedLimit
    """The global speed limit in bytes per second; 0 means none."""

    all_proxy: Optional[str]
    """The proxy for URLs without a proxy of their scheme, without credentials; null for
    none. From `--all-proxy`, else `ALL_PROXY`.
    """

    http_proxy: Optional[str]
    """The proxy for `http://` URLs, without credentials; null for none. From
    `--http-proxy`, else `HTTP_PROXY`.
    """

    https_proxy: Optional[str]
    """The proxy for `https://` URLs, without credentials; null for none. From
    `--https-proxy`, else `HTTPS_PROXY`.
    """

    no_proxy: Optional[str]
    """The hosts reached directly, as curl reads `NO_PROXY`: comma-separated names (each
    covering its subdomains), IP addresses, CIDR blocks, or `*`; null for none.
    """

    @classmethod
    def from_wire(cls, wire: Any) -> Options:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            max_concurrent=wire["maxConcurrent"],
            speed_limit=wire["speedLimit"],
            all_proxy=wire["allProxy"],
            http_proxy=wire["httpProxy"],
            https_proxy=wire["httpsProxy"],
            no_proxy=wire["noProxy"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "maxConcurrent": self.max_concurrent,
            "speedLimit": self.speed_limit,
            "allProxy": self.all_proxy,
            "httpProxy": self.http_proxy,
            "httpsProxy": self.https_proxy,
            "noProxy": self.no_proxy,
        }


@dataclass(frozen=True)
class EventStream:
    """Where the daemon's notification stream stands."""

    stream_id: StreamId
    """The running daemon's stream."""

    seq: int
    """The `seq` of the latest notification sent so far (0 before the first). Replayed
    notifications end here; live ones continue above it.
    """

    oldest_seq: int
    """The lowest `since` that can still be replayed without a gap: every notification
    above it is kept (or superseded progress).
    """

    @classmethod
    def from_wire(cls, wire: Any) -> EventStream:
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
class NewToken:
    """A token just created, with its secret: shown this once."""

    name: TokenName
    """The token's name."""

    scope: Union[TokenScope, str]
    """What the token may do."""

    token: str
    """The secret to send as `Authorization: Bearer <token>`. Not stored by the daemon:
    keep it.
    """

    created_at: str
    """When it was created (RFC 3339, UTC)."""

    @classmethod
    def from_wire(cls, wire: Any) -> NewToken:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            name=wire["name"],
            scope=enum_or_str(TokenScope, wire["scope"]),
            token=wire["token"],
            created_at=wire["createdAt"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "name": self.name,
            "scope": enum_value(self.scope),
            "token": self.token,
            "createdAt": self.created_at,
        }


@dataclass(frozen=True)
class TokenInfo:
    """A named token, without its secret."""

    name: TokenName
    """The token's name."""

    scope: Union[TokenScope, str]
    """What the token may do."""

    created_at: str
    """When it was created (RFC 3339, UTC)."""

    @classmethod
    def from_wire(cls, wire: Any) -> TokenInfo:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            name=wire["name"],
            scope=enum_or_str(TokenScope, wire["scope"]),
            created_at=wire["createdAt"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "name": self.name,
            "scope": enum_value(self.scope),
            "createdAt": self.created_at,
        }


@dataclass(frozen=True)
class TokenList:
    """The named tokens, oldest first."""

    tokens: list[TokenInfo]
    """Every named token."""

    @classmethod
    def from_wire(cls, wire: Any) -> TokenList:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            tokens=[TokenInfo.from_wire(x0) for x0 in wire["tokens"]],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "tokens": [x0.to_wire() for x0 in self.tokens],
        }


@dataclass(frozen=True)
class RemovedToken:
    """A token just revoked."""

    name: TokenName
    """The token's name."""

    @classmethod
    def from_wire(cls, wire: Any) -> RemovedToken:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            name=wire["name"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "name": self.name,
        }
