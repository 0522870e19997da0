"""The event stream that survives disconnects (hand-written; the polling
fallback is in `_poll`).

A background task keeps a WebSocket open: it subscribes (`events.subscribe`)
with the last `seq` it delivered, drops what arrives before the answer (the
replay that follows it repeats those), delivers each notification once, and
when the connection drops it reconnects with exponential backoff and jitter.
When the daemon cannot replay (it restarted, or the stream was away longer
than its window) the stream yields a `Resync` with every download's current
state, then continues. When the WebSocket cannot be opened at all
(something in between refuses the upgrade) and `polling` allows it, the
stream polls `events.poll` over HTTP instead: the same notifications, from the
same window, a poll interval later.
"""

import asyncio
import contextlib
import logging
import random
import ssl
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, Optional, Union

from ._endpoint import Endpoint
from ._errors import HaulError, TransportError
from ._http import AsyncHttpRpc
from ._jsonrpc import http_url_for, reason, unexpected
from ._poll import POLL_LIMIT, Pages, list_all, poll
from ._websocket import Channel, refused_status
from ._wire import enum_value
from .errors import ErrorCode, EventsUnavailableErrorData, error_from_wire
from .events import NOTIFICATIONS, Notification
from .models import DownloadList, DownloadStatus, EventStream
from .params import EventsSubscribeParams

_log = logging.getLogger("haul_client")

UNREAD = 256
"""Events a stream holds for its reader; the task waits when they are unread
(and the daemon, whose writes then wait, coalesces progress meanwhile)."""


class EventsMode(str, Enum):
    """How an event stream is getting its events."""

    CONNECTING = "connecting"
    """Not connected (yet, or again)."""

    WEBSOCKET = "websocket"
    """Subscribed over a WebSocket."""

    POLLING = "polling"
    """Polling `events.poll` over HTTP: the same notifications, a poll interval
    later."""


class ResyncReason(str, Enum):
    """Why a stream lost notifications for good."""

    RESTARTED = "restarted"
    """The daemon restarted: its notification stream is a new one."""

    WINDOW_EXCEEDED = "windowExceeded"
    """The stream was away longer than the daemon's replay window."""

    POLLING = "polling"
    """The stream switched to polling; this is the first state it polled."""


@dataclass(frozen=True)
class Resync:
    """Notifications were lost for good; here is the state of every download
    instead. The notifications after it continue from that state."""

    reason: ResyncReason

    downloads: list[DownloadStatus]
    """Every download the daemon keeps (only those of the stream's `gids`,
    when it has them)."""


Event = Union[Notification, Resync]
"""One item of an event stream."""

# What the task hands the reader: an event, an error to raise, or None: the end.
_Item = Union[Event, Exception, None]


class Events:
    """The daemon's notifications, typed, each delivered once and in the
    daemon's order across reconnects, or a `Resync` when some were lost for
    good. `AsyncClient.events()` makes one::

        async with client.events() as events:  # waits until subscribed
            added = await client.download_add(url=url)
            async for event in events:
                if isinstance(event, Resync):
                    ...  # carry on from event.downloads
                elif isinstance(event, DownloadCompleteEvent):
                    if event.gid == added.gid:
                        break

    A background task does the work: it starts connecting when the stream is
    made in a running event loop (else on first use), and keeps reading and
    reconnecting while you are busy elsewhere, holding up to `UNREAD` events.
    `ready()` waits for its first attempt; `mode` tells how events arrive.

    Notifications this client does not know (a newer daemon's) are skipped;
    a known one that does not decode raises `TransportError` and the stream
    goes on. A broken connection or an absent daemon is retried quietly.
    What retrying cannot fix is raised, then the stream ends: a refused
    token (`HaulError` with `ErrorCode.UNAUTHORIZED`) or subscribe params the
    daemon rejects (`ErrorCode.INVALID_PARAMS`). Iteration also ends after
    `aclose()` (which `async with` calls): it stops the task and closes the
    connection. Read a stream from one task at a time.
    """

    def __init__(
        self,
        url: Union[str, Endpoint],
        token: str,
        timeout: float,
        filters: EventsSubscribeParams,
        *,
        initial_backoff: float = 0.1,
        max_backoff: float = 10.0,
        polling: Optional[float] = None,
    ) -> None:
        """Streams from the WebSocket at `url` with `token`; `filters` are the
        `events.subscribe` params other than the position (`since`,
        `streamId`), which the stream sets itself. `url` may be an `Endpoint`
        (which `AsyncClient.events()` passes): the URL with the TLS context
        every connection of the stream, reconnections and polling included,
        verifies the daemon with. See `AsyncClient.events()` for the rest."""
        if not initial_backoff > 0:
            raise ValueError(
                f"invalid initial_backoff {initial_backoff!r}: "
                "it must be a positive number of seconds"
            )
        if not max_backoff >= initial_backoff:
            raise ValueError(
                f"invalid max_backoff {max_backoff!r}: "
                f"it must be at least initial_backoff ({initial_backoff!r})"
            )
        if polling is not None and not polling > 0:
            raise ValueError(
                f"invalid polling {polling!r}: "
                "it must be a positive number of seconds, or None"
            )
        endpoint = url if isinstance(url, Endpoint) else Endpoint(url)
        self._settings = _Settings(
            endpoint.url,
            token,
            timeout,
            filters,
            initial_backoff,
            max_backoff,
            polling,
            endpoint.ssl_context,
        )
        self._stream: Optional[_Stream] = None
        self._task: Optional["asyncio.Task[None]"] = None
        self._closed = False
        self._ended = False
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._start()

    @property
    def url(self) -> str:
        """The WebSocket URL the stream reads from."""
        return self._settings.url

    @property
    def mode(self) -> EventsMode:
        """How the stream gets its events right now."""
        return EventsMode.CONNECTING if self._stream is None else self._stream.mode

    async def ready(self) -> None:
        """Waits for the first connection attempt: returns once notifications
        flow (subscribed, or polled once), so that nothing the daemon sends
        after this is missed; else raises that attempt's error (`HaulError`
        or `TransportError`). The stream keeps retrying either way, unless
        the error is one retrying cannot fix."""
        stream = self._start()
        if stream is not None:
            await asyncio.shield(stream.first)

    async def aclose(self) -> None:
        """Stops the stream: its task ends and its connection closes;
        iteration ends."""
        self._closed = True
        stream, task = self._stream, self._task
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if stream is not None:
            stream.stop()

    async def __aenter__(self) -> "Events":
        """Waits until the stream is ready (see `ready`); when it is not, closes
        it and raises the first attempt's error."""
        try:
            await self.ready()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> "Events":
        return self

    async def __anext__(self) -> Event:
        stream = self._start()
        if stream is None or self._closed or self._ended:
            raise StopAsyncIteration
        item = await stream.queue.get()
        if self._closed:
            raise StopAsyncIteration
        if item is None:
            self._ended = True
            raise StopAsyncIteration
        if isinstance(item, Exception):
            raise item
        return item

    def __del__(self) -> None:
        # The task does not refer to this object, so a forgotten stream is
        # collected, and stops here.
        task = getattr(self, "_task", None)
        if task is not None and not task.done() and not task.get_loop().is_closed():
            task.cancel()

    def _start(self) -> "Optional[_Stream]":
        if self._stream is None and not self._closed:
            self._stream = _Stream(self._settings)
            self._task = asyncio.ensure_future(self._stream.run())
        return self._stream


@dataclass(frozen=True)
class _Settings:
    """What a stream connects to, and how (see `Events`)."""

    url: str
    token: str
    timeout: float
    filters: EventsSubscribeParams
    initial_backoff: float
    max_backoff: float
    polling: Optional[float]
    ssl_context: Optional[ssl.SSLContext]


class _Stream:
    """The background task's side of `Events`."""

    def __init__(self, settings: "_Settings") -> None:
        self.settings = settings
        self.queue: asyncio.Queue[_Item] = asyncio.Queue(UNREAD)
        self.first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        """The outcome of the first attempt, for `Events.ready`."""
        self.mode = EventsMode.CONNECTING
        self.channel: Optional[Channel] = None
        self.position: Optional[tuple[str, int]] = None
        """The last notification delivered: its `streamId` and `seq`."""
        self.resync: Optional[ResyncReason] = None
        """Set when notifications were lost, until the `Resync` is delivered."""
        self.backoff = settings.initial_backoff

    async def run(self) -> None:
        try:
            await self._reconnect()
        except Exception as error:
            # A bug rather than the network: end the stream with it instead
            # of leaving the reader waiting.
            await self._fail(error)

    def stop(self) -> None:
        """Wakes a reader waiting for the next event, after the task ended."""
        url = self.settings.url
        self._tell_first(TransportError(f"the event stream from {url} was closed", url))
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)

    async def _reconnect(self) -> None:
        while True:
            try:
                channel = await Channel.open(
                    self.settings.url,
                    self.settings.token,
                    self.settings.timeout,
                    error_from_wire,
                    self.settings.ssl_context,
                )
            except (HaulError, TransportError) as error:
                status = refused_status(error)
                if status == 401:
                    return await self._fail(error)
                # 503: the daemon at its --max-connections, to retry; any
                # other status: something in between refuses WebSockets.
                if (
                    status is not None
                    and status != 503
                    and self.settings.polling is not None
                    and self.position is None
                ):
                    _log.debug("event stream: polling: %s", error)
                    return await self._poll(self.settings.polling)
                self._retry(error)
            else:
                try:
                    self.channel = channel
                    await self._serve(channel)
                except HaulError as error:
                    return await self._fail(error)
                except TransportError as error:
                    self._retry(error)
                finally:
                    self.channel = None
                    self.mode = EventsMode.CONNECTING
                    await channel.aclose()
            await asyncio.sleep(self.backoff * (0.5 + random.random() / 2))
            self.backoff = min(self.backoff * 2, self.settings.max_backoff)

    async def _serve(self, channel: Channel) -> None:
        """Subscribes on `channel` and delivers until it breaks (which raises)."""
        try:
            stream = await self._subscribe(channel, self.position)
        except HaulError as error:
            if error.code != ErrorCode.EVENTS_UNAVAILABLE:
                raise
            ours = self.position[0] if self.position is not None else None
            data = error.data
            same = (
                isinstance(data, EventsUnavailableErrorData) and data.stream_id == ours
            )
            self.resync = (
                ResyncReason.WINDOW_EXCEEDED if same else ResyncReason.RESTARTED
            )
            self.position = None
            stream = await self._subscribe(channel, None)
        if self.position is None:
            self.position = (stream.stream_id, stream.seq)
        self.mode = EventsMode.WEBSOCKET
        self._tell_first(None)
        self.backoff = self.settings.initial_backoff
        if self.resync is not None:
            # Notifications that arrive meanwhile are kept, for after it.
            pages = Pages()
            while not pages.add(
                await channel.call(
                    "download.list", pages.params(), DownloadList.from_wire, keep=True
                )
            ):
                pass
            downloads = pages.finish(self.settings.filters.gids)
            await self.queue.put(Resync(self.resync, downloads))
            self.resync = None
        while True:
            message = await channel.notification()
            stamp = _stamp(message)
            if stamp is None:
                continue
            if (
                self.position is not None
                and self.position[0] == stamp[0]
                and stamp[1] <= self.position[1]
            ):
                continue
            self.position = stamp
            try:
                event = _decode(self.settings.url, message)
            except TransportError as error:
                await self.queue.put(error)
                continue
            if event is not None:
                await self.queue.put(event)

    async def _subscribe(
        self, channel: Channel, position: Optional[tuple[str, int]]
    ) -> EventStream:
        params = self.settings.filters
        if position is not None:
            params = replace(params, stream_id=position[0], since=position[1])
        return await channel.call(
            "events.subscribe", params.to_wire(), EventStream.from_wire, keep=False
        )

    async def _poll(self, interval: float) -> None:
        """Polls `events.poll` until closed: where the stream stands and every
        download first (a `Resync`), then the notifications after it."""
        self.mode = EventsMode.POLLING
        url = http_url_for(self.settings.url)
        rpc = AsyncHttpRpc(
            url,
            self.settings.token,
            self.settings.timeout,
            error_from_wire,
            self.settings.ssl_context,
        )
        filters = self.settings.filters
        reason = ResyncReason.POLLING
        position: Optional[tuple[str, int]] = None
        try:
            while True:
                wait = interval
                try:
                    if position is None:
                        stream = await poll(rpc, url, {})
                        downloads = await list_all(rpc, url, filters.gids)
                        self._tell_first(None)
                        await self.queue.put(Resync(reason, downloads))
                        position, wait = (stream.stream_id, stream.next), 0.0
                    else:
                        params: dict[str, Any] = {
                            "since": position[1],
                            "streamId": position[0],
                            "limit": POLL_LIMIT,
                        }
                        if filters.gids is not None:
                            params["gids"] = filters.gids
                        if filters.kinds is not None:
                            params["kinds"] = [enum_value(k) for k in filters.kinds]
                        found = await poll(rpc, url, params)
                        for notification in found.notifications:
                            await self.queue.put(notification)
                        position = (found.stream_id, found.next)
                        if len(found.notifications) >= POLL_LIMIT:
                            wait = 0.0
                except HaulError as error:
                    if error.code == ErrorCode.UNAUTHORIZED:
                        raise
                    if error.code != ErrorCode.EVENTS_UNAVAILABLE:
                        self._tell_first(error)
                    else:
                        data = error.data
                        same = isinstance(
                            data, EventsUnavailableErrorData
                        ) and position is not None and data.stream_id == position[0]
                        reason = (
                            ResyncReason.WINDOW_EXCEEDED if same else ResyncReason.RESTARTED
                        )
                        position, wait = None, 0.0
                except TransportError as error:
                    # The daemon is away: poll again later.
                    self._tell_first(error)
                await asyncio.sleep(wait)
        except HaulError as error:
            await self._fail(error)
        finally:
            await rpc.aclose()

    def _retry(self, error: Exception) -> None:
        _log.debug("event stream: reconnecting: %s", error)
        self._tell_first(error)

    async def _fail(self, error: Exception) -> None:
        self._tell_first(error)
        await self.queue.put(error)
        await self.queue.put(None)

    def _tell_first(self, error: Optional[Exception]) -> None:
        if self.first.done():
            return
        if error is None:
            self.first.set_result(None)
        else:
            self.first.set_exception(error)
            # Retrieved: nobody may ever call ready().
            self.first.exception()


def _stamp(message: Any) -> Optional[tuple[str, int]]:
    """A notification's `streamId` and `seq`."""
    params = message.get("params") if isinstance(message, dict) else None
    if not isinstance(params, dict):
        return None
    stream_id, seq = params.get("streamId"), params.get("seq")
    if not isinstance(stream_id, str) or type(seq) is not int:
        return None
    return stream_id, seq


def _decode(url: str, message: dict[str, Any]) -> Optional[Notification]:
    """The typed notification, or None for one this client does not know."""
    method = message.get("method")
    decode = NOTIFICATIONS.get(method) if isinstance(method, str) else None
    if decode is None:
        return None
    try:
        return decode(message.get("params"))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        what = f"missing {e}" if isinstance(e, KeyError) else reason(e)
        raise unexpected(url, f"malformed `{method}` notification: {what}") from e
