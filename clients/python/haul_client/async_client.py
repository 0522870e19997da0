# generated from openrpc.json by haul-codegen — do not edit; regenerate with `cargo run -p haul-codegen`
"""`AsyncClient`: the daemon's API for asyncio, generated from the document."""

from __future__ import annotations

from typing import Any, Optional

from ._client import AsyncClientBase
from ._errors import HaulError
from ._events import Events
from ._wire import json_object
from .errors import error_from_wire
from .events import EventPoll
from .models import (
    AddResult,
    Checksum,
    DownloadList,
    DownloadState,
    DownloadStatus,
    EventStream,
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
    SpeedLimit,
    Stats,
    StreamId,
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


class AsyncClient(AsyncClientBase):
    """The haul daemon's API for asyncio, one method per API method.

    `AsyncClient("http://127.0.0.1:6801/jsonrpc", token=...)` calls over HTTP; a
    `ws://…/jsonrpc/ws` URL calls over one WebSocket. `events()` streams the daemon's
    notifications. Every method raises `HaulError` when the daemon answers with an
    error and `TransportError` when there is no JSON-RPC answer. Use `async with` (or
    `aclose()`) to release connections.
    """

    def _error_from_wire(self, code: int, message: str, data: Any) -> HaulError:
        return error_from_wire(code, message, data)

    async def download_add(
        self,
        *,
        url: str,
        urls: Optional[list[str]] = None,
        file_name: Optional[FileName] = None,
        dir: Optional[str] = None,
        connections: Optional[int] = None,
        headers: Optional[Headers] = None,
        checksum: Optional[Checksum] = None,
        speed_limit: Optional[SpeedLimit] = None,
        paused: Optional[bool] = None,
        overwrite: Optional[OverwritePolicy] = None,
        proxy: Optional[ProxyUrl] = None,
        insecure: Optional[bool] = None,
        cookies: Optional[str] = None,
    ) -> AddResult:
        """Add a download (`download.add`).

        Queues a new HTTP(S) download and returns its gid at once; the transfer itself
        happens in the background and is reported by notifications. The destination is
        resolved inside the daemon's download root: `dir` is relative to it and the file
        name (given, or taken from the server's Content-Disposition or the URL) must be
        a plain name. A download starts when fewer than the daemon's `maxConcurrent`
        downloads are active, unless `paused` is true. Needs a `control` token (`admin`
        with `overwrite` `"overwrite"`).

        Args:
            url: The http or https URL to download. Redirects (up to 10) are followed.
            urls: Mirrors: more http or https URLs of the same file. Connections are
                spread over `url` and these; a source that fails, serves another file
                (another length, no ranges) or is far slower than the others per
                connection is dropped for the rest of that run, and `sources` in the
                status says which and why. The first source that answers is the one the
                others are checked against. Default none.
            file_name: The name to save the file as: a plain file name, no directory
                parts. When absent, the name comes from the server's Content-Disposition
                header, else the URL's last path segment, else `download`.
            dir: A directory relative to the download root, created when missing.
                Absolute paths, `..` and symlinks that lead out of the root are refused.
            connections: How many TCP connections to download with (ranged HTTP/1.1
                GETs). Servers without range support get one. Default 8.
            headers: Extra request headers sent with every request of this download, by
                name.
            checksum: The expected digest of the whole file, `sha-256=<hex>` or
                `sha-512=<hex>`. The file gets its final name only after it matches; a
                mismatch moves the download to `error` with code `checksum-mismatch`.
            speed_limit: Speed limit for this download in bytes per second; 0 means
                none. Default 0.
            paused: Add the download in the `paused` state instead of queueing it.
                Default false.
            overwrite: What to do when the destination file already exists. Default
                `rename`; `overwrite` (which replaces a file) needs an `admin` token.
            proxy: This download's proxy, over the daemon's: a proxy URL (`http://`,
                `https://`, `socks5://`, `socks5h://`, with `user:password@` if needed),
                or `none` to go direct whatever the daemon's proxies. Default: the
                daemon's (`system.setOptions`, its flags, else the standard environment
                variables), chosen per request by the URL's scheme and `noProxy`.
            insecure: Skip TLS certificate verification for this download only.
                Dangerous: anyone on the path can then serve another file. Prefer
                trusting the server's authority (`--ca-certificate` or the system's
                store). Shown in the download's status. Default false.
            cookies: Cookies this download sends, besides the daemon's
                (`--load-cookies`): a `Cookie` header value (`name=value; name2=value2`,
                for the URL's host), or the contents of a Netscape cookies.txt (as curl
                and browser exporters write it: each cookie goes only to the hosts and
                paths it names). Cookies the server sets during the download are kept
                for its later requests. Kept to resume, never shown.

        Returns:
            The new download's gid.

        Raises:
            HaulError: Besides the errors every call can return (see `ErrorCode`):
                - `ErrorCode.INVALID_URL`: The URL does not parse or its scheme is not
                  http or https.
                - `ErrorCode.OUTSIDE_DOWNLOAD_ROOT`: The file name or directory would
                  put the file outside the daemon's download root (an absolute path,
                  `..`, a path separator in `fileName`, or a symlink leading out).
                - `ErrorCode.DESTINATION_EXISTS`: The destination file exists and
                  `overwrite` is `fail`.
                - `ErrorCode.LIMIT_EXCEEDED`: A daemon limit would be exceeded, e.g. the
                  number of downloads it keeps.
                - `ErrorCode.STORE_UNAVAILABLE`: The daemon could not commit the change
                  to its state store (a full or broken state disk), so it is not
                  acknowledged: an added download was not kept; a pause, resume or
                  remove took effect but may be lost at the next start. The store
                  retries by itself; `system.getStats` shows when it works again.
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        params = DownloadAddParams(
            url=url,
            urls=urls,
            file_name=file_name,
            dir=dir,
            connections=connections,
            headers=headers,
            checksum=checksum,
            speed_limit=speed_limit,
            paused=paused,
            overwrite=overwrite,
            proxy=proxy,
            insecure=insecure,
            cookies=cookies,
        )
        return await self._call("download.add", params.to_wire(), AddResult.from_wire)

    async def download_pause(self, *, gid: Gid) -> DownloadStatus:
        """Pause a download (`download.pause`).

        Stops a queued or active download, keeping every finished byte, and answers once
        it is stopped, its progress checkpointed and its state committed, with its
        status then. Pausing a paused download changes nothing. A complete or failed
        download cannot be paused. When a `download.remove` arrives while the pause is
        in flight the remove wins (and this call answers `DownloadNotFound`); a
        `download.resume` that arrives meanwhile leaves the download queued. Needs a
        `control` token.

        Args:
            gid: The download's gid.

        Returns:
            The download's status after pausing.

        Raises:
            HaulError: Besides the errors every call can return (see `ErrorCode`):
                - `ErrorCode.DOWNLOAD_NOT_FOUND`: No download has this gid: it never
                  existed or was removed.
                - `ErrorCode.INVALID_STATE`: The download is in a state that does not
                  allow the operation, e.g. pausing a complete download.
                - `ErrorCode.STORE_UNAVAILABLE`: The daemon could not commit the change
                  to its state store (a full or broken state disk), so it is not
                  acknowledged: an added download was not kept; a pause, resume or
                  remove took effect but may be lost at the next start. The store
                  retries by itself; `system.getStats` shows when it works again.
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        params = DownloadPauseParams(
            gid=gid,
        )
        return await self._call(
            "download.pause", params.to_wire(), DownloadStatus.from_wire
        )

    async def download_resume(self, *, gid: Gid) -> DownloadStatus:
        """Resume a download (`download.resume`).

        Puts a paused download back in the queue, or retries a failed one from the bytes
        it kept, and returns its status. Resuming a queued or active download changes
        nothing; a complete download cannot be resumed. A resumed download announces
        itself with `download.started` (`resumed: true`). Needs a `control` token.

        Args:
            gid: The download's gid.

        Returns:
            The download's status after resuming.

        Raises:
            HaulError: Besides the errors every call can return (see `ErrorCode`):
                - `ErrorCode.DOWNLOAD_NOT_FOUND`: No download has this gid: it never
                  existed or was removed.
                - `ErrorCode.INVALID_STATE`: The download is in a state that does not
                  allow the operation, e.g. pausing a complete download.
                - `ErrorCode.STORE_UNAVAILABLE`: The daemon could not commit the change
                  to its state store (a full or broken state disk), so it is not
                  acknowledged: an added download was not kept; a pause, resume or
                  remove took effect but may be lost at the next start. The store
                  retries by itself; `system.getStats` shows when it works again.
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        params = DownloadResumeParams(
            gid=gid,
        )
        return await self._call(
            "download.resume", params.to_wire(), DownloadStatus.from_wire
        )

    async def download_remove(
        self,
        *,
        gid: Gid,
        delete_files: Optional[bool] = None,
    ) -> RemoveResult:
        """Remove a download (`download.remove`).

        Stops the download if it is running and forgets it. With `deleteFiles`, its
        partial or finished file is deleted too; without, a finished file stays where it
        is and a partial `.part` file is kept. Needs a `control` token (`admin` with
        `deleteFiles` `true`).

        Args:
            gid: The download's gid.
            delete_files: Also delete the download's file (finished or partial): needs
                an `admin` token. Default false.

        Returns:
            The removed download's gid.

        Raises:
            HaulError: Besides the errors every call can return (see `ErrorCode`):
                - `ErrorCode.DOWNLOAD_NOT_FOUND`: No download has this gid: it never
                  existed or was removed.
                - `ErrorCode.STORE_UNAVAILABLE`: The daemon could not commit the change
                  to its state store (a full or broken state disk), so it is not
                  acknowledged: an added download was not kept; a pause, resume or
                  remove took effect but may be lost at the next start. The store
                  retries by itself; `system.getStats` shows when it works again.
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        params = DownloadRemoveParams(
            gid=gid,
            delete_files=delete_files,
        )
        return await self._call(
            "download.remove", params.to_wire(), RemoveResult.from_wire
        )

    async def download_status(self, *, gid: Gid) -> DownloadStatus:
        """Get a download's status (`download.status`).

        Returns the current status of one download. Needs a `read` token.

        Args:
            gid: The download's gid.

        Returns:
            The download's status.

        Raises:
            HaulError: Besides the errors every call can return (see `ErrorCode`):
                - `ErrorCode.DOWNLOAD_NOT_FOUND`: No download has this gid: it never
                  existed or was removed.
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        params = DownloadStatusParams(
            gid=gid,
        )
        return await self._call(
            "download.status", params.to_wire(), DownloadStatus.from_wire
        )

    async def download_list(
        self,
        *,
        states: Optional[list[DownloadState]] = None,
        offset: Optional[int] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> DownloadList:
        """List downloads (`download.list`).

        Returns one page of downloads in the order they were added, optionally only
        those in the given states, with the total number that match. For every download,
        page with `cursor` rather than `offset`: `offset` counts positions in a list
        that changes when downloads are added or removed between two calls. Needs a
        `read` token.

        Args:
            states: Only list downloads in one of these states. Default: every state.
            offset: How many matching downloads to skip. Default 0.
            limit: The most downloads to return. Default 100, at most 1000.
            cursor: Continue after the page that returned this `cursor` (use it instead
                of `offset`, which counts over a list that may change between pages).
                The downloads are in creation order, so a page never repeats or skips
                one that was there on both calls.

        Returns:
            The page of downloads and the total that match.

        Raises:
            HaulError: One of the errors every call can return (see `ErrorCode`).
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        params = DownloadListParams(
            states=states,
            offset=offset,
            limit=limit,
            cursor=cursor,
        )
        return await self._call(
            "download.list", params.to_wire(), DownloadList.from_wire
        )

    async def download_set_speed_limit(
        self,
        *,
        gid: Gid,
        speed_limit: SpeedLimit,
    ) -> DownloadStatus:
        """Change a download's speed limit (`download.setSpeedLimit`).

        Changes the speed limit of one download; it takes effect at once, also while the
        download is running. Needs a `control` token.

        Args:
            gid: The download's gid.
            speed_limit: The new limit in bytes per second; 0 removes the limit.

        Returns:
            The download's status with the new limit.

        Raises:
            HaulError: Besides the errors every call can return (see `ErrorCode`):
                - `ErrorCode.DOWNLOAD_NOT_FOUND`: No download has this gid: it never
                  existed or was removed.
                - `ErrorCode.STORE_UNAVAILABLE`: The daemon could not commit the change
                  to its state store (a full or broken state disk), so it is not
                  acknowledged: an added download was not kept; a pause, resume or
                  remove took effect but may be lost at the next start. The store
                  retries by itself; `system.getStats` shows when it works again.
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        params = DownloadSetSpeedLimitParams(
            gid=gid,
            speed_limit=speed_limit,
        )
        return await self._call(
            "download.setSpeedLimit", params.to_wire(), DownloadStatus.from_wire
        )

    async def download_set_url(
        self,
        *,
        gid: Gid,
        url: str,
        restart: Optional[bool] = None,
    ) -> DownloadStatus:
        """Point a download at another URL of the same file (`download.setUrl`).

        Replaces the URL of a download that is queued, active, paused or in error: a
        signed link that expired, a mirror, a moved file. When the download has bytes on
        disk, the daemon first asks the new URL for the file and keeps the bytes only if
        it is the same file: the same length, and the same ETag and Last-Modified where
        both URLs give them; otherwise it refuses with `RemoteFileDiffers` and changes
        nothing, unless `restart` is true, which starts the download again from zero at
        the new URL (when the file turns out different). An active download goes on from
        its bytes at the new URL: its connections end after a last checkpoint, and it
        starts again (a `download.started` with `resumed` true) without leaving the
        `active` state. The request's own headers, proxy and settings stay. Needs a
        `control` token.

        Args:
            gid: The download's gid.
            url: The new URL (http or https; `user:password@` is sent as Basic auth and
                never shown).
            restart: Allow starting again from zero when the new URL serves another file
                (or cannot say which it serves), instead of refusing. Default false.

        Returns:
            The download's status with the new URL.

        Raises:
            HaulError: Besides the errors every call can return (see `ErrorCode`):
                - `ErrorCode.DOWNLOAD_NOT_FOUND`: No download has this gid: it never
                  existed or was removed.
                - `ErrorCode.INVALID_STATE`: The download is in a state that does not
                  allow the operation, e.g. pausing a complete download.
                - `ErrorCode.INVALID_URL`: The URL does not parse or its scheme is not
                  http or https.
                - `ErrorCode.STORE_UNAVAILABLE`: The daemon could not commit the change
                  to its state store (a full or broken state disk), so it is not
                  acknowledged: an added download was not kept; a pause, resume or
                  remove took effect but may be lost at the next start. The store
                  retries by itself; `system.getStats` shows when it works again.
                - `ErrorCode.REMOTE_FILE_DIFFERS`: `download.setUrl` found another file
                  at the new URL than the bytes kept belong to, or could not ask it;
                  pass `restart: true` to start again from zero there.
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        params = DownloadSetUrlParams(
            gid=gid,
            url=url,
            restart=restart,
        )
        return await self._call(
            "download.setUrl", params.to_wire(), DownloadStatus.from_wire
        )

    async def system_get_version(self) -> VersionInfo:
        """Get the daemon's version (`system.getVersion`).

        Returns the daemon's version, the commit it was built from and its compiled-in
        features. Needs a `read` token.

        Returns:
            Version information.

        Raises:
            HaulError: One of the errors every call can return (see `ErrorCode`).
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        return await self._call("system.getVersion", None, VersionInfo.from_wire)

    async def system_get_stats(self) -> Stats:
        """Get global statistics (`system.getStats`).

        Returns how many downloads are in each state and the total download speed. Needs
        a `read` token.

        Returns:
            Global statistics.

        Raises:
            HaulError: One of the errors every call can return (see `ErrorCode`).
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        return await self._call("system.getStats", None, Stats.from_wire)

    async def system_get_options(self) -> Options:
        """Get the daemon's runtime options (`system.getOptions`).

        Returns the options that can be changed while the daemon runs. Needs a `read`
        token.

        Returns:
            The current options.

        Raises:
            HaulError: One of the errors every call can return (see `ErrorCode`).
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        return await self._call("system.getOptions", None, Options.from_wire)

    async def system_set_options(
        self,
        *,
        max_concurrent: Optional[int] = None,
        speed_limit: Optional[SpeedLimit] = None,
        all_proxy: Optional[str] = None,
        http_proxy: Optional[str] = None,
        https_proxy: Optional[str] = None,
        no_proxy: Optional[str] = None,
    ) -> Options:
        """Change the daemon's runtime options (`system.setOptions`).

        Changes the global speed limit and/or the number of downloads that may be active
        at once; both take effect at once. Options left out keep their value. Needs a
        `admin` token.

        Args:
            max_concurrent: How many downloads may be active at once (1 to 1000).
            speed_limit: The global speed limit over all downloads in bytes per second;
                0 means none.
            all_proxy: The proxy for URLs without a proxy of their scheme; an empty
                string removes it.
            http_proxy: The proxy for `http://` URLs; an empty string removes it.
            https_proxy: The proxy for `https://` URLs; an empty string removes it.
            no_proxy: The hosts reached directly (curl's `NO_PROXY` syntax); an empty
                string removes the list.

        Returns:
            The options after the change.

        Raises:
            HaulError: One of the errors every call can return (see `ErrorCode`).
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        params = SystemSetOptionsParams(
            max_concurrent=max_concurrent,
            speed_limit=speed_limit,
            all_proxy=all_proxy,
            http_proxy=http_proxy,
            https_proxy=https_proxy,
            no_proxy=no_proxy,
        )
        return await self._call(
            "system.setOptions", params.to_wire(), Options.from_wire
        )

    async def events_subscribe(
        self,
        *,
        since: Optional[int] = None,
        stream_id: Optional[StreamId] = None,
        gids: Optional[list[Gid]] = None,
        kinds: Optional[list[NotificationKind]] = None,
        progress_interval: Optional[int] = None,
    ) -> EventStream:
        """Choose this connection's notifications and replay missed ones
        (`events.subscribe`).

        Configures which notifications this WebSocket connection receives, and, with
        `since`, first replays the ones it missed. A connection that never calls this
        receives every notification.

        The daemon keeps a window of recent notifications (`--event-window`, default
        10000): every state change, and the latest progress of each download. With
        `since` (the last `seq` the client processed, of the stream `streamId`), the
        answer to this call is followed by every kept notification with a higher `seq`,
        in order, then by live ones: no gap, no duplicate. When the window no longer
        reaches back to `since`, or `streamId` is not the running daemon's (it
        restarted), the call fails with `EventsUnavailable` and changes nothing:
        resynchronise from `download.list`, then subscribe without `since`.

        Only over WebSocket, as a single call (not in a batch); elsewhere it fails with
        `WebSocketRequired` (over HTTP, `events.poll` gets the same notifications).
        Calling it again replaces the previous settings. Needs a `read` token.

        Args:
            since: Replay the kept notifications with a higher `seq` than this before
                live ones. 0 replays the whole window.
            stream_id: The stream `since` counts in. When given and not the running
                daemon's, the call fails with `EventsUnavailable`; always give it with
                `since`.
            gids: Only notifications about these downloads. Absent: every download.
            kinds: Only these notifications. Absent: all of them.
            progress_interval: At least this many milliseconds between two
                `download.progress` notifications of one download on this connection;
                the ones in between are skipped (the next one carries the latest
                values). Absent: the daemon's own pace, a few per second.

        Returns:
            Where the stream stands: replayed notifications follow this answer, up to
            `seq`.

        Raises:
            HaulError: Besides the errors every call can return (see `ErrorCode`):
                - `ErrorCode.EVENTS_UNAVAILABLE`: `events.subscribe` cannot replay from
                  `since`: the window no longer reaches back that far, or `streamId` is
                  not the running daemon's because it restarted. Nothing changed;
                  resynchronise from `download.list`, then subscribe from `seq` without
                  `since`.
                - `ErrorCode.WEB_SOCKET_REQUIRED`: The method configures a WebSocket
                  connection's notifications: call it over WebSocket, on its own rather
                  than in a batch.
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        params = EventsSubscribeParams(
            since=since,
            stream_id=stream_id,
            gids=gids,
            kinds=kinds,
            progress_interval=progress_interval,
        )
        return await self._call(
            "events.subscribe", params.to_wire(), EventStream.from_wire
        )

    async def events_unsubscribe(self) -> EventStream:
        """Receive every notification again (`events.unsubscribe`).

        Drops this connection's `events.subscribe` settings: it receives every
        notification again, at the daemon's own pace. Only over WebSocket, as a single
        call; elsewhere it fails with `WebSocketRequired`. Needs a `read` token.

        Returns:
            Where the stream stands.

        Raises:
            HaulError: Besides the errors every call can return (see `ErrorCode`):
                - `ErrorCode.WEB_SOCKET_REQUIRED`: The method configures a WebSocket
                  connection's notifications: call it over WebSocket, on its own rather
                  than in a batch.
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        return await self._call("events.unsubscribe", None, EventStream.from_wire)

    async def events_poll(
        self,
        *,
        since: Optional[int] = None,
        stream_id: Optional[StreamId] = None,
        limit: Optional[int] = None,
        gids: Optional[list[Gid]] = None,
        kinds: Optional[list[NotificationKind]] = None,
    ) -> EventPoll:
        """Fetch the notifications since a point, over any transport (`events.poll`).

        Returns the kept notifications with a `seq` above `since`, as a WebSocket
        receives them (the same window as `events.subscribe`: every state change, and
        the latest progress of each download), for clients that cannot keep a WebSocket
        open. Call it again with `since` set to the answer's `next`: notifications are
        never skipped or repeated. Without `since` it returns none, and `next` is where
        the stream stands now: start there after listing the downloads. When the window
        no longer reaches back to `since`, or `streamId` is not the running daemon's (it
        restarted), it fails with `EventsUnavailable`, exactly as `events.subscribe`
        does: list the downloads again, then poll without `since`. Needs a `read` token.

        Args:
            since: Return the kept notifications with a higher `seq` than this. 0
                returns the whole window. Absent: none, only where the stream stands.
            stream_id: The stream `since` counts in. When given and not the running
                daemon's, the call fails with `EventsUnavailable`; always give it with
                `since`.
            limit: The most notifications to return. Default 1000.
            gids: Only notifications about these downloads. Absent: every download.
            kinds: Only these notifications. Absent: all of them.

        Returns:
            The notifications, and where to continue.

        Raises:
            HaulError: Besides the errors every call can return (see `ErrorCode`):
                - `ErrorCode.EVENTS_UNAVAILABLE`: `events.subscribe` cannot replay from
                  `since`: the window no longer reaches back that far, or `streamId` is
                  not the running daemon's because it restarted. Nothing changed;
                  resynchronise from `download.list`, then subscribe from `seq` without
                  `since`.
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        params = EventsPollParams(
            since=since,
            stream_id=stream_id,
            limit=limit,
            gids=gids,
            kinds=kinds,
        )
        return await self._call("events.poll", params.to_wire(), EventPoll.from_wire)

    async def token_add(self, *, name: TokenName, scope: TokenScope) -> NewToken:
        """Add a named token (`token.add`).

        Creates a token with a scope, for a program or a person that should be able to
        do less than the daemon's own token: `read` (status, lists, stats, options,
        events), `control` (read, and adding, pausing, resuming, removing downloads
        without deleting files, setting URLs and speed limits) or `admin` (everything).
        The answer holds the token itself, the only time it is shown: the daemon keeps
        only its SHA-256 digest (`tokens.json` in the state directory, mode 0600). It is
        valid at once, on HTTP and WebSocket alike, until `token.remove`. Also `haul
        token add NAME --scope SCOPE`. Needs a `admin` token.

        Args:
            name: The token's name, unique among the daemon's tokens: what `token.list`
                shows and `token.remove` takes.
            scope: What the token may do.

        Returns:
            The new token, with its secret.

        Raises:
            HaulError: Besides the errors every call can return (see `ErrorCode`):
                - `ErrorCode.STORE_UNAVAILABLE`: The daemon could not commit the change
                  to its state store (a full or broken state disk), so it is not
                  acknowledged: an added download was not kept; a pause, resume or
                  remove took effect but may be lost at the next start. The store
                  retries by itself; `system.getStats` shows when it works again.
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        params = TokenAddParams(
            name=name,
            scope=scope,
        )
        return await self._call("token.add", params.to_wire(), NewToken.from_wire)

    async def token_list(self) -> TokenList:
        """List the named tokens (`token.list`).

        Returns every named token's name, scope and creation time, oldest first; never a
        secret (the daemon does not have them). The daemon's own token (`--rpc-secret`,
        or the `rpc-secret` file) is not among them: it is always `admin`. Also `haul
        token ls`. Needs a `admin` token.

        Returns:
            The named tokens.

        Raises:
            HaulError: One of the errors every call can return (see `ErrorCode`).
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        return await self._call("token.list", None, TokenList.from_wire)

    async def token_remove(self, *, name: TokenName) -> RemovedToken:
        """Revoke a named token (`token.remove`).

        Forgets the token: from the answer on, requests with it get 401, and WebSocket
        connections opened with it are closed. Also `haul token rm NAME`. Needs a
        `admin` token.

        Args:
            name: The token's name.

        Returns:
            The revoked token.

        Raises:
            HaulError: Besides the errors every call can return (see `ErrorCode`):
                - `ErrorCode.STORE_UNAVAILABLE`: The daemon could not commit the change
                  to its state store (a full or broken state disk), so it is not
                  acknowledged: an added download was not kept; a pause, resume or
                  remove took effect but may be lost at the next start. The store
                  retries by itself; `system.getStats` shows when it works again.
                - `ErrorCode.TOKEN_NOT_FOUND`: No named token has this name: it never
                  existed or was removed.
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        params = TokenRemoveParams(
            name=name,
        )
        return await self._call(
            "token.remove", params.to_wire(), RemovedToken.from_wire
        )

    async def rpc_discover(self) -> OpenrpcDocument:
        """Get this document (`rpc.discover`).

        Returns this OpenRPC document, byte for byte as the daemon ships it (also served
        at `GET /openrpc.json`). Needs a `read` token.

        Returns:
            The OpenRPC document.

        Raises:
            HaulError: One of the errors every call can return (see `ErrorCode`).
            TransportError: The daemon could not be reached or gave no JSON-RPC answer.
        """
        return await self._call("rpc.discover", None, json_object)

    def events(
        self,
        *,
        gids: Optional[list[Gid]] = None,
        kinds: Optional[list[NotificationKind]] = None,
        progress_interval: Optional[int] = None,
        initial_backoff: float = 0.1,
        max_backoff: float = 10.0,
        polling: Optional[float] = None,
    ) -> Events:
        """The daemon's notifications as typed `Notification`s, each delivered once and in
        the daemon's order across reconnects, or a `Resync` when some were lost for
        good.

        The stream reads a WebSocket of its own and subscribes with `events.subscribe`.
        When the connection drops, it reconnects with exponential backoff and
        resubscribes from the last `seq` it delivered; when the daemon cannot replay
        what was missed (it restarted, or the stream was away longer than its replay
        window), it yields a `Resync` with every download's state, then continues.
        `async with client.events() as events:` waits until it is subscribed, so that
        nothing you do next is missed, then `async for event in events:`. Notifications
        this client does not know (a newer daemon's) are skipped; see `Events` for
        errors.

        Args:
            gids: Only notifications about these downloads. Absent: every download.
            kinds: Only these notifications. Absent: all of them.
            progress_interval: At least this many milliseconds between two
                `download.progress` notifications of one download on this connection;
                the ones in between are skipped (the next one carries the latest
                values). Absent: the daemon's own pace, a few per second.
            initial_backoff: Seconds to wait before reconnecting; the wait doubles (with
                jitter: a factor in [0.5, 1)) up to `max_backoff` while the daemon stays
                away, and starts over once subscribed.
            max_backoff: The longest wait between two connection attempts, in seconds.
            polling: When the WebSocket upgrade is answered with an HTTP error other
                than 401 (something in between does not pass WebSockets) before the
                stream ever subscribed, poll `events.poll` over HTTP every this many
                seconds instead (`mode` `EventsMode.POLLING`): the same notifications,
                from the daemon's window, a poll interval later. None never polls.

        Raises:
            ValueError: A backoff or polling interval that is not a positive number of
                seconds.
        """
        filters = EventsSubscribeParams(
            gids=gids,
            kinds=kinds,
            progress_interval=progress_interval,
        )
        return Events(
            self._events_url,
            self._token,
            self._timeout,
            filters,
            initial_backoff=initial_backoff,
            max_backoff=max_backoff,
            polling=polling,
        )
