# generated from openrpc.json by haul-codegen — do not edit; regenerate with `cargo run -p haul-codegen`
"""The params of each method, as the dataclasses the clients send: `None` means absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ._wire import enum_value
from .models import (
    Checksum,
    DownloadState,
    FileName,
    Gid,
    Headers,
    NotificationKind,
    OverwritePolicy,
    ProxyUrl,
    SpeedLimit,
    StreamId,
    TokenName,
    TokenScope,
)


@dataclass(frozen=True)
class DownloadAddParams:
    """The params of `download.add`: add a download."""

    url: str
    """The http or https URL to download. Redirects (up to 10) are followed."""

    urls: Optional[list[str]] = None
    """Mirrors: more http or https URLs of the same file. Connections are spread over
    `url` and these; a source that fails, serves another file (another length, no
    ranges) or is far slower than the others per connection is dropped for the rest
    of that run, and `sources` in the status says which and why. The first source
    that answers is the one the others are checked against. Default none.
    """

    file_name: Optional[FileName] = None
    """The name to save the file as: a plain file name, no directory parts. When absent,
    the name comes from the server's Content-Disposition header, else the URL's last
    path segment, else `download`.
    """

    dir: Optional[str] = None
    """A directory relative to the download root, created when missing. Absolute paths,
    `..` and symlinks that lead out of the root are refused.
    """

    connections: Optional[int] = None
    """How many TCP connections to download with (ranged HTTP/1.1 GETs). Servers without
    range support get one. Default 8.
    """

    headers: Optional[Headers] = None
    """Extra request headers sent with every request of this download, by name."""

    checksum: Optional[Checksum] = None
    """The expected digest of the whole file, `sha-256=<hex>` or `sha-512=<hex>`. The
    file gets its final name only after it matches; a mismatch moves the download to
    `error` with code `checksum-mismatch`.
    """

    speed_limit: Optional[SpeedLimit] = None
    """Speed limit for this download in bytes per second; 0 means none. Default 0."""

    paused: Optional[bool] = None
    """Add the download in the `paused` state instead of queueing it. Default false."""

    overwrite: Optional[OverwritePolicy] = None
    """What to do when the destination file already exists. Default `rename`;
    `overwrite` (which replaces a file) needs an `admin` token.
    """

    proxy: Optional[ProxyUrl] = None
    """This download's proxy, over the daemon's: a proxy URL (`http://`, `https://`,
    `socks5://`, `socks5h://`, with `user:password@` if needed), or `none` to go
    direct whatever the daemon's proxies. Default: the daemon's (`system.setOptions`,
    its flags, else the standard environment variables), chosen per request by the
    URL's scheme and `noProxy`.
    """

    insecure: Optional[bool] = None
    """Skip TLS certificate verification for this download only. Dangerous: anyone on
    the path can then serve another file. Prefer trusting the server's authority
    (`--ca-certificate` or the system's store). Shown in the download's status.
    Default false.
    """

    cookies: Optional[str] = None
    """Cookies this download sends, besides the daemon's (`--load-cookies`): a `Cookie`
    header value (`name=value; name2=value2`, for the URL's host), or the contents of
    a Netscape cookies.txt (as curl and browser exporters write it: each cookie goes
    only to the hosts and paths it names). Cookies the server sets during the
    download are kept for its later requests. Kept to resume, never shown.
    """

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadAddParams:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            url=wire["url"],
            urls=wire.get("urls"),
            file_name=wire.get("fileName"),
            dir=wire.get("dir"),
            connections=wire.get("connections"),
            headers=wire.get("headers"),
            checksum=wire.get("checksum"),
            speed_limit=wire.get("speedLimit"),
            paused=wire.get("paused"),
            overwrite=(
                None if wire.get("overwrite") is None else OverwritePolicy(wire["overwrite"])
            ),
            proxy=wire.get("proxy"),
            insecure=wire.get("insecure"),
            cookies=wire.get("cookies"),
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        wire: dict[str, Any] = {
            "url": self.url,
        }
        if self.urls is not None:
            wire["urls"] = self.urls
        if self.file_name is not None:
            wire["fileName"] = self.file_name
        if self.dir is not None:
            wire["dir"] = self.dir
        if self.connections is not None:
            wire["connections"] = self.connections
        if self.headers is not None:
            wire["headers"] = self.headers
        if self.checksum is not None:
            wire["checksum"] = self.checksum
        if self.speed_limit is not None:
            wire["speedLimit"] = self.speed_limit
        if self.paused is not None:
            wire["paused"] = self.paused
        if self.overwrite is not None:
            wire["overwrite"] = enum_value(self.overwrite)
        if self.proxy is not None:
            wire["proxy"] = self.proxy
        if self.insecure is not None:
            wire["insecure"] = self.insecure
        if self.cookies is not None:
            wire["cookies"] = self.cookies
        return wire


@dataclass(frozen=True)
class DownloadPauseParams:
    """The params of `download.pause`: pause a download."""

    gid: Gid
    """The download's gid."""

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadPauseParams:
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
class DownloadResumeParams:
    """The params of `download.resume`: resume a download."""

    gid: Gid
    """The download's gid."""

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadResumeParams:
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
class DownloadRemoveParams:
    """The params of `download.remove`: remove a download."""

    gid: Gid
    """The download's gid."""

    delete_files: Optional[bool] = None
    """Also delete the download's file (finished or partial): needs an `admin` token.
    Default false.
    """

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadRemoveParams:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            gid=wire["gid"],
            delete_files=wire.get("deleteFiles"),
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        wire: dict[str, Any] = {
            "gid": self.gid,
        }
        if self.delete_files is not None:
            wire["deleteFiles"] = self.delete_files
        return wire


@dataclass(frozen=True)
class DownloadStatusParams:
    """The params of `download.status`: get a download's status."""

    gid: Gid
    """The download's gid."""

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadStatusParams:
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
class DownloadListParams:
    """The params of `download.list`: list downloads."""

    states: Optional[list[DownloadState]] = None
    """Only list downloads in one of these states. Default: every state."""

    offset: Optional[int] = None
    """How many matching downloads to skip. Default 0."""

    limit: Optional[int] = None
    """The most downloads to return. Default 100, at most 1000."""

    cursor: Optional[str] = None
    """Continue after the page that returned this `cursor` (use it instead of `offset`,
    which counts over a list that may change between pages). The downloads are in
    creation order, so a page never repeats or skips one that was there on both
    calls.
    """

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadListParams:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            states=(
                None if wire.get("states") is None else [DownloadState(x0) for x0 in wire["states"]]
            ),
            offset=wire.get("offset"),
            limit=wire.get("limit"),
            cursor=wire.get("cursor"),
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        wire: dict[str, Any] = {}
        if self.states is not None:
            wire["states"] = [enum_value(x0) for x0 in self.states]
        if self.offset is not None:
            wire["offset"] = self.offset
        if self.limit is not None:
            wire["limit"] = self.limit
        if self.cursor is not None:
            wire["cursor"] = self.cursor
        return wire


@dataclass(frozen=True)
class DownloadSetSpeedLimitParams:
    """The params of `download.setSpeedLimit`: change a download's speed limit."""

    gid: Gid
    """The download's gid."""

    speed_limit: SpeedLimit
    """The new limit in bytes per second; 0 removes the limit."""

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadSetSpeedLimitParams:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            gid=wire["gid"],
            speed_limit=wire["speedLimit"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "gid": self.gid,
            "speedLimit": self.speed_limit,
        }


@dataclass(frozen=True)
class DownloadSetUrlParams:
    """The params of `download.setUrl`: point a download at another URL of the same
    file.
    """

    gid: Gid
    """The download's gid."""

    url: str
    """The new URL (http or https; `user:password@` is sent as Basic auth and never
    shown).
    """

    restart: Optional[bool] = None
    """Allow starting again from zero when the new URL serves another file (or cannot
    say which it serves), instead of refusing. Default false.
    """

    @classmethod
    def from_wire(cls, wire: Any) -> DownloadSetUrlParams:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            gid=wire["gid"],
            url=wire["url"],
            restart=wire.get("restart"),
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        wire: dict[str, Any] = {
            "gid": self.gid,
            "url": self.url,
        }
        if self.restart is not None:
            wire["restart"] = self.restart
        return wire


@dataclass(frozen=True)
class SystemSetOptionsParams:
    """The params of `system.setOptions`: change the daemon's runtime options."""

    max_concurrent: Optional[int] = None
    """How many downloads may be active at once (1 to 1000)."""

    speed_limit: Optional[SpeedLimit] = None
    """The global speed limit over all downloads in bytes per second; 0 means none."""

    all_proxy: Optional[str] = None
    """The proxy for URLs without a proxy of their scheme; an empty string removes it.
    """

    http_proxy: Optional[str] = None
    """The proxy for `http://` URLs; an empty string removes it."""

    https_proxy: Optional[str] = None
    """The proxy for `https://` URLs; an empty string removes it."""

    no_proxy: Optional[str] = None
    """The hosts reached directly (curl's `NO_PROXY` syntax); an empty string removes
    the list.
    """

    @classmethod
    def from_wire(cls, wire: Any) -> SystemSetOptionsParams:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            max_concurrent=wire.get("maxConcurrent"),
            speed_limit=wire.get("speedLimit"),
            all_proxy=wire.get("allProxy"),
            http_proxy=wire.get("httpProxy"),
            https_proxy=wire.get("httpsProxy"),
            no_proxy=wire.get("noProxy"),
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        wire: dict[str, Any] = {}
        if self.max_concurrent is not None:
            wire["maxConcurrent"] = self.max_concurrent
        if self.speed_limit is not None:
            wire["speedLimit"] = self.speed_limit
        if self.all_proxy is not None:
            wire["allProxy"] = self.all_proxy
        if self.http_proxy is not None:
            wire["httpProxy"] = self.http_proxy
        if self.https_proxy is not None:
            wire["httpsProxy"] = self.https_proxy
        if self.no_proxy is not None:
            wire["noProxy"] = self.no_proxy
        return wire


@dataclass(frozen=True)
class EventsSubscribeParams:
    """The params of `events.subscribe`: choose this connection's notifications and
    replay missed ones.
    """

    since: Optional[int] = None
    """Replay the kept notifications with a higher `seq` than this before live ones. 0
    replays the whole window.
    """

    stream_id: Optional[StreamId] = None
    """The stream `since` counts in. When given and not the running daemon's, the call
    fails with `EventsUnavailable`; always give it with `since`.
    """

    gids: Optional[list[Gid]] = None
    """Only notifications about these downloads. Absent: every download."""

    kinds: Optional[list[NotificationKind]] = None
    """Only these notifications. Absent: all of them."""

    progress_interval: Optional[int] = None
    """At least this many milliseconds between two `download.progress` notifications of
    one download on this connection; the ones in between are skipped (the next one
    carries the latest values). Absent: the daemon's own pace, a few per second.
    """

    @classmethod
    def from_wire(cls, wire: Any) -> EventsSubscribeParams:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            since=wire.get("since"),
            stream_id=wire.get("streamId"),
            gids=wire.get("gids"),
            kinds=(
                None if wire.get("kinds") is None else [NotificationKind(x0) for x0 in wire["kinds"]]
            ),
            progress_interval=wire.get("progressInterval"),
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        wire: dict[str, Any] = {}
        if self.since is not None:
            wire["since"] = self.since
        if self.stream_id is not None:
            wire["streamId"] = self.stream_id
        if self.gids is not None:
            wire["gids"] = self.gids
        if self.kinds is not None:
            wire["kinds"] = [enum_value(x0) for x0 in self.kinds]
        if self.progress_interval is not None:
            wire["progressInterval"] = self.progress_interval
        return wire


@dataclass(frozen=True)
class EventsPollParams:
    """The params of `events.poll`: fetch the notifications since a point, over any
    transport.
    """

    since: Optional[int] = None
    """Return the kept notifications with a higher `seq` than this. 0 returns the whole
    window. Absent: none, only where the stream stands.
    """

    stream_id: Optional[StreamId] = None
    """The stream `since` counts in. When given and not the running daemon's, the call
    fails with `EventsUnavailable`; always give it with `since`.
    """

    limit: Optional[int] = None
    """The most notifications to return. Default 1000."""

    gids: Optional[list[Gid]] = None
    """Only notifications about these downloads. Absent: every download."""

    kinds: Optional[list[NotificationKind]] = None
    """Only these notifications. Absent: all of them."""

    @classmethod
    def from_wire(cls, wire: Any) -> EventsPollParams:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            since=wire.get("since"),
            stream_id=wire.get("streamId"),
            limit=wire.get("limit"),
            gids=wire.get("gids"),
            kinds=(
                None if wire.get("kinds") is None else [NotificationKind(x0) for x0 in wire["kinds"]]
            ),
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        wire: dict[str, Any] = {}
        if self.since is not None:
            wire["since"] = self.since
        if self.stream_id is not None:
            wire["streamId"] = self.stream_id
        if self.limit is not None:
            wire["limit"] = self.limit
        if self.gids is not None:
            wire["gids"] = self.gids
        if self.kinds is not None:
            wire["kinds"] = [enum_value(x0) for x0 in self.kinds]
        return wire


@dataclass(frozen=True)
class TokenAddParams:
    """The params of `token.add`: add a named token."""

    name: TokenName
    """The token's name, unique among the daemon's tokens: what `token.list` shows and
    `token.remove` takes.
    """

    scope: TokenScope
    """What the token may do."""

    @classmethod
    def from_wire(cls, wire: Any) -> TokenAddParams:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            name=wire["name"],
            scope=TokenScope(wire["scope"]),
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "name": self.name,
            "scope": enum_value(self.scope),
        }


@dataclass(frozen=True)
class TokenRemoveParams:
    """The params of `token.remove`: revoke a named token."""

    name: TokenName
    """The token's name."""

    @classmethod
    def from_wire(cls, wire: Any) -> TokenRemoveParams:
        """Reads the wire form; keys this client does not know are ignored."""
        return cls(
            name=wire["name"],
        )

    def to_wire(self) -> dict[str, Any]:
        """The wire form; optional fields that are None are left out."""
        return {
            "name": self.name,
        }
