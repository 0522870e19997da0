# generated from openrpc.json by haul-codegen — do not edit; regenerate with `cargo run -p haul-codegen`
"""The notifications the daemon pushes to every WebSocket, as dataclasses, and the
`Notification` union of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Optional, Union

from ._wire import enum_or_str, enum_value
from .models import FailureCode, FileName, Gid, RestartReason, StreamId


@dataclass(frozen=True)
class DownloadStartedEvent:
    """The payload of the `download.started` notification: a download started.

    Sent when a download becomes active: for the first time, after a pause, after a
    retry of a failed download, or when the daemon restarts with it unfinished
    (`resumed` tells the last three from the first). A download whose kept bytes
    cannot continue starts again from zero, with `resumed` false and `restarted`
    saying why; bytes of two versions of a file are never mixed.
    """

    METHOD: ClassVar[str] = "download.started"
    """The notification's method name."""

    seq: int
    """The event's sequence number, strictly increasing within one `streamId`, so a
    client can tell which events it has seen. Progress for a client that falls behind
    is coalesced (only the latest per download is sent), so numbers of superseded
    progress are skipped; state changes (every other notification) never are.
    """

    stream_id: StreamId
    """Identifies the running daemon process; it changes when the daemon restarts, and
    `seq` values of different streams are unrelated.
    """

    gid: Gid
    """The download's gid."""

    file_name: FileName
    """The file name the download is saved as (known from here on)."""

    total_length: Optional[int]
    """The file's size in bytes, or null when the server does not say."""

    resumed: bool
    """True when the download continues from bytes it kept; false on a fresh start."""

    restarted: Optional[Union[RestartReason, str]]
    """Why the download started again from zero although it had bytes, or null (a fresh
    start, or a resume that kept them).
    """

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadStartedEvent:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            seq=wire["seq"],
            stream_id=wire["streamId"],
            gid=wire["gid"],
            file_name=wire["fileName"],
            total_length=wire["totalLength"],
            resumed=wire["resumed"],
            restarted=(
                None if wire["restarted"] is None else enum_or_str(RestartReason, wire["restarted"])
            ),
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "seq": self.seq,
            "streamId": self.stream_id,
            "gid": self.gid,
            "fileName": self.file_name,
            "totalLength": self.total_length,
            "resumed": self.resumed,
            "restarted": None if self.restarted is None else enum_value(self.restarted),
        }


@dataclass(frozen=True)
class DownloadProgressEvent:
    """The payload of the `download.progress` notification: a download made progress.

    Sent a few times a second per active download. Progress is coalesced, by one rule
    wherever notifications wait (the daemon's queue for a connection that reads
    slowly, its replay window, and every SDK's event stream): a download's progress
    that has not gone out yet is superseded by its newer progress, which keeps its
    own place in the order; state changes (every other notification) are never
    dropped, merged or reordered. So a slow reader gets every state change and the
    latest progress of each download, in the order they happened, never a backlog.
    """

    METHOD: ClassVar[str] = "download.progress"
    """The notification's method name."""

    seq: int
    """The event's sequence number, strictly increasing within one `streamId`, so a
    client can tell which events it has seen. Progress for a client that falls behind
    is coalesced (only the latest per download is sent), so numbers of superseded
    progress are skipped; state changes (every other notification) never are.
    """

    stream_id: StreamId
    """Identifies the running daemon process; it changes when the daemon restarts, and
    `seq` values of different streams are unrelated.
    """

    gid: Gid
    """The download's gid."""

    completed_length: int
    """Bytes downloaded and kept so far."""

    total_length: Optional[int]
    """The file's size in bytes, or null when unknown."""

    download_speed: int
    """Current speed in bytes per second."""

    eta: Optional[int]
    """Estimated seconds to completion, or null when unknown."""

    connections: int
    """Connections currently open for this download."""

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadProgressEvent:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            seq=wire["seq"],
            stream_id=wire["streamId"],
            gid=wire["gid"],
            completed_length=wire["completedLength"],
            total_length=wire["totalLength"],
            download_speed=wire["downloadSpeed"],
            eta=wire["eta"],
            connections=wire["connections"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "seq": self.seq,
            "streamId": self.stream_id,
            "gid": self.gid,
            "completedLength": self.completed_length,
            "totalLength": self.total_length,
            "downloadSpeed": self.download_speed,
            "eta": self.eta,
            "connections": self.connections,
        }


@dataclass(frozen=True)
class DownloadPausedEvent:
    """The payload of the `download.paused` notification: a download was paused.

    Sent when a queued or active download is paused.
    """

    METHOD: ClassVar[str] = "download.paused"
    """The notification's method name."""

    seq: int
    """The event's sequence number, strictly increasing within one `streamId`, so a
    client can tell which events it has seen. Progress for a client that falls behind
    is coalesced (only the latest per download is sent), so numbers of superseded
    progress are skipped; state changes (every other notification) never are.
    """

    stream_id: StreamId
    """Identifies the running daemon process; it changes when the daemon restarts, and
    `seq` values of different streams are unrelated.
    """

    cluster_seq: Optional[int]
    """In a cluster (`haul daemon --cluster-db`), the state change's number in the
    cluster's event log: gap-free and in commit order across every node, so a client
    of any node sees each download's changes, and all of them, in the order they
    happened; null on a lone daemon. `seq` stays this node's own numbering.
    """

    gid: Gid
    """The download's gid."""

    completed_length: int
    """Bytes kept at the moment of pausing."""

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadPausedEvent:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            seq=wire["seq"],
            stream_id=wire["streamId"],
            cluster_seq=wire["clusterSeq"],
            gid=wire["gid"],
            completed_length=wire["completedLength"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "seq": self.seq,
            "streamId": self.stream_id,
            "clusterSeq": self.cluster_seq,
            "gid": self.gid,
            "completedLength": self.completed_length,
        }


@dataclass(frozen=True)
class DownloadCompleteEvent:
    """The payload of the `download.complete` notification: a download finished.

    Sent when the whole file is on disk under its final name (and matched its
    checksum, when one was given).
    """

    METHOD: ClassVar[str] = "download.complete"
    """The notification's method name."""

    seq: int
    """The event's sequence number, strictly increasing within one `streamId`, so a
    client can tell which events it has seen. Progress for a client that falls behind
    is coalesced (only the latest per download is sent), so numbers of superseded
    progress are skipped; state changes (every other notification) never are.
    """

    stream_id: StreamId
    """Identifies the running daemon process; it changes when the daemon restarts, and
    `seq` values of different streams are unrelated.
    """

    cluster_seq: Optional[int]
    """In a cluster (`haul daemon --cluster-db`), the state change's number in the
    cluster's event log: gap-free and in commit order across every node, so a client
    of any node sees each download's changes, and all of them, in the order they
    happened; null on a lone daemon. `seq` stays this node's own numbering.
    """

    gid: Gid
    """The download's gid."""

    path: str
    """The absolute path of the finished file."""

    total_length: int
    """The file's size in bytes."""

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadCompleteEvent:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            seq=wire["seq"],
            stream_id=wire["streamId"],
            cluster_seq=wire["clusterSeq"],
            gid=wire["gid"],
            path=wire["path"],
            total_length=wire["totalLength"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "seq": self.seq,
            "streamId": self.stream_id,
            "clusterSeq": self.cluster_seq,
            "gid": self.gid,
            "path": self.path,
            "totalLength": self.total_length,
        }


@dataclass(frozen=True)
class DownloadErrorEvent:
    """The payload of the `download.error` notification: a download failed.

    Sent when a download moves to the `error` state: a permanent failure, or
    transient failures that outlasted the retries. Finished bytes are kept;
    `download.resume` retries from them.
    """

    METHOD: ClassVar[str] = "download.error"
    """The notification's method name."""

    seq: int
    """The event's sequence number, strictly increasing within one `streamId`, so a
    client can tell which events it has seen. Progress for a client that falls behind
    is coalesced (only the latest per download is sent), so numbers of superseded
    progress are skipped; state changes (every other notification) never are.
    """

    stream_id: StreamId
    """Identifies the running daemon process; it changes when the daemon restarts, and
    `seq` values of different streams are unrelated.
    """

    cluster_seq: Optional[int]
    """In a cluster (`haul daemon --cluster-db`), the state change's number in the
    cluster's event log: gap-free and in commit order across every node, so a client
    of any node sees each download's changes, and all of them, in the order they
    happened; null on a lone daemon. `seq` stays this node's own numbering.
    """

    gid: Gid
    """The download's gid."""

    code: Union[FailureCode, str]
    """What kind of failure."""

    message: str
    """A human-readable description naming the value at fault."""

    completed_length: int
    """Bytes kept."""

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadErrorEvent:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            seq=wire["seq"],
            stream_id=wire["streamId"],
            cluster_seq=wire["clusterSeq"],
            gid=wire["gid"],
            code=enum_or_str(FailureCode, wire["code"]),
            message=wire["message"],
            completed_length=wire["completedLength"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "seq": self.seq,
            "streamId": self.stream_id,
            "clusterSeq": self.cluster_seq,
            "gid": self.gid,
            "code": enum_value(self.code),
            "message": self.message,
            "completedLength": self.completed_length,
        }


@dataclass(frozen=True)
class DownloadRemovedEvent:
    """The payload of the `download.removed` notification: a download was removed.

    Sent when a download is removed with `download.remove`.
    """

    METHOD: ClassVar[str] = "download.removed"
    """The notification's method name."""

    seq: int
    """The event's sequence number, strictly increasing within one `streamId`, so a
    client can tell which events it has seen. Progress for a client that falls behind
    is coalesced (only the latest per download is sent), so numbers of superseded
    progress are skipped; state changes (every other notification) never are.
    """

    stream_id: StreamId
    """Identifies the running daemon process; it changes when the daemon restarts, and
    `seq` values of different streams are unrelated.
    """

    cluster_seq: Optional[int]
    """In a cluster (`haul daemon --cluster-db`), the state change's number in the
    cluster's event log: gap-free and in commit order across every node, so a client
    of any node sees each download's changes, and all of them, in the order they
    happened; null on a lone daemon. `seq` stays this node's own numbering.
    """

    gid: Gid
    """The download's gid."""

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadRemovedEvent:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            seq=wire["seq"],
            stream_id=wire["streamId"],
            cluster_seq=wire["clusterSeq"],
            gid=wire["gid"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "seq": self.seq,
            "streamId": self.stream_id,
            "clusterSeq": self.cluster_seq,
            "gid": self.gid,
        }


Notification = Union[
    DownloadStartedEvent,
    DownloadProgressEvent,
    DownloadPausedEvent,
    DownloadCompleteEvent,
    DownloadErrorEvent,
    DownloadRemovedEvent,
]
"""A notification this client knows, as `AsyncClient.events()` yields it."""

NOTIFICATIONS: dict[str, Callable[[Any], Notification]] = {
    DownloadStartedEvent.METHOD: DownloadStartedEvent.from_wire,
    DownloadProgressEvent.METHOD: DownloadProgressEvent.from_wire,
    DownloadPausedEvent.METHOD: DownloadPausedEvent.from_wire,
    DownloadCompleteEvent.METHOD: DownloadCompleteEvent.from_wire,
    DownloadErrorEvent.METHOD: DownloadErrorEvent.from_wire,
    DownloadRemovedEvent.METHOD: DownloadRemovedEvent.from_wire,
}
"""How each notification's params decode, by method name."""


@dataclass(frozen=True)
class EventPoll:
    """What `events.poll` found: the notifications after `since`, in order, and where to
    go on from.
    """

    stream_id: StreamId
    """The running daemon's stream."""

    seq: int
    """The `seq` of the latest notification sent so far (0 before the first)."""

    oldest_seq: int
    """The lowest `since` that can still be polled without a gap."""

    notifications: list[Notification]
    """The kept notifications with a `seq` above `since` that pass the filters, oldest
    first, at most `limit`: every state change, and the latest progress of each
    download. Each is what a WebSocket receives (but for its `jsonrpc` member), with
    its real `seq`.
    """

    next: int
    """The `since` of the next poll: no notification at or below it is left to fetch (it
    is `seq` unless `limit` cut the answer short).
    """

    @classmethod
    def from_wire(cls, wire: Any) -> EventPoll:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            stream_id=wire["streamId"],
            seq=wire["seq"],
            oldest_seq=wire["oldestSeq"],
            notifications=(
                [NOTIFICATIONS[x0["method"]](x0["params"]) for x0 in wire["notifications"] if x0.get("method") in NOTIFICATIONS]
            ),
            next=wire["next"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "streamId": self.stream_id,
            "seq": self.seq,
            "oldestSeq": self.oldest_seq,
            "notifications": (
                [{"method": x0.METHOD, "params": x0.to_wire()} for x0 in self.notifications]
            ),
            "next": self.next,
        }
