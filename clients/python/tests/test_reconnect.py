"""`AsyncClient.events()` survives the network: dropped connections (cut by
a proxy, or its own), a restarted daemon, a replay window exceeded, and a
proxy that refuses WebSocket upgrades — each state change delivered once,
in order, or a `Resync` when that is impossible. What retrying cannot fix
ends the stream with its error."""

import asyncio
import math
import os
import time
from typing import Callable

import pytest
from support import Daemon, FileServer, Proxy

from haul_client import (
    AsyncClient,
    DownloadCompleteEvent,
    DownloadProgressEvent,
    DownloadRemovedEvent,
    DownloadStartedEvent,
    ErrorCode,
    Event,
    Events,
    EventsMode,
    HaulError,
    NotificationKind,
    Resync,
    ResyncReason,
    TransportError,
)

WAIT = 30.0
"""Seconds any one event may take: a failure fails, never hangs."""

UNREACHABLE = "http://127.0.0.1:9/f"


async def next_event(events: Events) -> Event:
    return await asyncio.wait_for(events.__anext__(), WAIT)


async def until(events: Events, wanted: Callable[[Event], bool]) -> Event:
    """The first event `wanted` accepts."""
    while True:
        event = await next_event(events)
        if wanted(event):
            return event


async def add(client: AsyncClient, url: str, name: str) -> str:
    added = await client.download_add(url=url, connections=1, file_name=name)
    return added.gid


async def test_the_stream_survives_dropped_connections_delivering_every_state_change_once_in_order(
    daemon: Daemon, files: FileServer, proxy: Proxy
) -> None:
    url = files.add("/cut.bin", os.urandom(1 << 20), rate=512 * 1024)
    direct = AsyncClient(daemon.url, token=daemon.token)
    through_proxy = AsyncClient(proxy.url, token=daemon.token)
    async with direct, through_proxy, through_proxy.events() as events:
        gids = [await add(direct, url, f"{i}.bin") for i in range(3)]

        async def cut_a_few_times() -> None:
            for _ in range(4):
                await asyncio.sleep(0.4)
                proxy.cut()

        cutter = asyncio.ensure_future(cut_a_few_times())
        states: dict[str, list[str]] = {}
        last_seq = 0
        while any(states.get(gid, [])[-1:] != ["download.complete"] for gid in gids):
            event = await next_event(events)
            assert not isinstance(event, Resync), f"the daemon kept everything: {event}"
            assert event.seq > last_seq, f"in order, once: {event.seq} after {last_seq}"
            last_seq = event.seq
            if not isinstance(event, DownloadProgressEvent):
                states.setdefault(event.gid, []).append(event.METHOD)
        await cutter

    assert states == {gid: ["download.started", "download.complete"] for gid in gids}
    assert proxy.accepted > 1, "the stream reconnected"


async def test_a_restarted_daemon_yields_a_resync_with_every_download_then_the_stream_continues(
    daemon: Daemon, files: FileServer, proxy: Proxy
) -> None:
    url = files.add("/restart.bin", os.urandom(2 << 20), rate=1 << 20)
    direct = AsyncClient(daemon.url, token=daemon.token)
    through_proxy = AsyncClient(proxy.url, token=daemon.token)
    async with direct, through_proxy, through_proxy.events() as events:
        gid = await add(direct, url, "r.bin")
        await until(events, lambda e: isinstance(e, DownloadStartedEvent))

        assert daemon.restart() == 0
        proxy.retarget(daemon.addr)
        resync = await next_event(events)
        while not isinstance(resync, Resync):
            assert not isinstance(
                resync, DownloadStartedEvent
            ), "no event of the old stream after the restart"
            resync = await next_event(events)
        assert resync.reason is ResyncReason.RESTARTED
        assert [d.gid for d in resync.downloads] == [gid]

        done = await until(events, lambda e: isinstance(e, DownloadCompleteEvent))
        assert isinstance(done, DownloadCompleteEvent) and done.gid == gid


@pytest.mark.parametrize(
    "daemon", [("--event-window", "3")], indirect=True, ids=["event-window-3"]
)
async def test_an_absence_longer_than_the_window_yields_a_window_exceeded_resync(
    daemon: Daemon, proxy: Proxy
) -> None:
    direct = AsyncClient(daemon.url, token=daemon.token)
    through_proxy = AsyncClient(proxy.url, token=daemon.token)
    async with direct, through_proxy, through_proxy.events(max_backoff=0.2) as events:
        proxy.set_down(True)
        gids = [
            (await direct.download_add(url=UNREACHABLE, paused=True)).gid
            for _ in range(6)
        ]
        *gone, kept = gids
        for gid in gone:
            await direct.download_remove(gid=gid)
        proxy.set_down(False)

        resync = await next_event(events)
        assert isinstance(resync, Resync), resync
        assert resync.reason is ResyncReason.WINDOW_EXCEEDED
        assert [d.gid for d in resync.downloads] == [kept]

        await direct.download_remove(gid=kept)
        live = await next_event(events)
        assert isinstance(live, DownloadRemovedEvent) and live.gid == kept, live


async def test_a_proxy_that_refuses_upgrades_falls_back_to_polling_with_the_same_events(
    daemon: Daemon, files: FileServer, proxy: Proxy
) -> None:
    url = files.add("/polled.bin", os.urandom(1 << 20), rate=512 * 1024)
    proxy.refuse_upgrades(True)
    async with AsyncClient(proxy.url, token=daemon.token) as client:
        refused = client.events()
        with pytest.raises(TransportError, match="refused with HTTP 403"):
            await asyncio.wait_for(refused.ready(), WAIT)
        assert refused.mode is EventsMode.CONNECTING
        await refused.aclose()

        methods: list[str] = []
        async with client.events(polling=0.1) as events:
            assert events.mode is EventsMode.POLLING
            first = await next_event(events)
            assert isinstance(first, Resync) and first.reason is ResyncReason.POLLING
            gid = await add(client, url, "p.bin")
            stream = await client.events_poll()
            last_seq = 0
            while methods[-1:] != ["download.complete"]:
                event = await next_event(events)
                assert not isinstance(event, Resync), "one resync only"
                # The daemon's own notifications: its stream, its seq.
                assert event.stream_id == stream.stream_id
                assert event.seq > last_seq, (event.seq, last_seq)
                last_seq = event.seq
                assert event.gid == gid
                if methods[-1:] != [event.METHOD]:
                    methods.append(event.METHOD)

    assert methods == ["download.started", "download.progress", "download.complete"]


async def test_polling_sees_a_download_that_starts_and_finishes_between_two_polls(
    daemon: Daemon, files: FileServer, proxy: Proxy
) -> None:
    url = files.add("/quick.bin", os.urandom(64 * 1024))
    proxy.refuse_upgrades(True)
    async with AsyncClient(proxy.url, token=daemon.token) as client:
        async with client.events(polling=2.0) as events:
            first = await next_event(events)
            assert isinstance(first, Resync)
            gid = await add(client, url, "quick.bin")
            methods: list[str] = []
            while methods[-1:] != ["download.complete"]:
                event = await next_event(events)
                assert not isinstance(event, Resync), "one resync only"
                assert event.gid == gid
                methods.append(event.METHOD)
    # All in one poll, all of them: diffing two lists saw `complete` alone.
    assert methods[0] == "download.started", methods


async def test_the_stream_recovers_when_its_own_connection_breaks(
    daemon: Daemon,
) -> None:
    async with AsyncClient(daemon.url, token=daemon.token) as client:
        added = await client.download_add(url=UNREACHABLE, paused=True)
        async with client.events() as events:
            assert events._stream is not None and events._stream.channel is not None
            broken = events._stream.channel
            broken.connection.transport.abort()
            await client.download_remove(gid=added.gid)

            removed = await next_event(events)
            assert isinstance(removed, DownloadRemovedEvent), removed
            assert removed.gid == added.gid
            assert events._stream.channel is not broken


async def test_a_stream_delivers_only_the_downloads_and_kinds_it_was_given(
    daemon: Daemon, files: FileServer
) -> None:
    url = files.add("/filtered.bin", os.urandom(1 << 20), rate=256 * 1024)
    async with AsyncClient(daemon.url, token=daemon.token) as client:
        mine = (await client.download_add(url=url, paused=True)).gid
        other = (await client.download_add(url=url, paused=True)).gid
        kinds = [NotificationKind.DOWNLOAD_PAUSED, NotificationKind.DOWNLOAD_REMOVED]
        filtered = client.events(gids=[mine], kinds=kinds)
        async with filtered as events, client.events() as everything:
            for gid in (mine, other):
                await client.download_resume(gid=gid)
            # Both started (which `events` does not want) before what it wants.
            started: set[str] = set()
            while started != {mine, other}:
                event = await next_event(everything)
                if isinstance(event, DownloadStartedEvent):
                    started.add(event.gid)
            # The other download's events come first: they would show first.
            for gid in (other, mine):
                await client.download_pause(gid=gid)
                await client.download_remove(gid=gid)

            seen = [await next_event(events) for _ in range(2)]
    assert [(type(e).__name__, getattr(e, "gid", None)) for e in seen] == [
        ("DownloadPausedEvent", mine),
        ("DownloadRemovedEvent", mine),
    ]


async def test_a_progress_interval_paces_one_stream_while_another_keeps_the_daemons_pace(
    daemon: Daemon, files: FileServer
) -> None:
    url = files.add("/paced.bin", os.urandom(1 << 20), rate=512 * 1024)
    kinds = [NotificationKind.DOWNLOAD_PROGRESS, NotificationKind.DOWNLOAD_COMPLETE]
    async with AsyncClient(daemon.url, token=daemon.token) as client:
        paced = client.events(kinds=kinds, progress_interval=1000)
        async with paced, client.events(kinds=kinds) as unpaced:
            started = time.monotonic()
            gid = await add(client, url, "paced.bin")

            async def progress_until_complete(events: Events) -> int:
                count = 0
                while True:
                    event = await next_event(events)
                    if isinstance(event, DownloadCompleteEvent) and event.gid == gid:
                        return count
                    if isinstance(event, DownloadProgressEvent) and event.gid == gid:
                        count += 1

            slow, fast = await asyncio.gather(
                progress_until_complete(paced), progress_until_complete(unpaced)
            )
            seconds = math.ceil(time.monotonic() - started)
    assert slow <= seconds, f"at most one progress per second: {slow} in {seconds} s"
    assert fast > slow, f"the other stream keeps the daemon's pace: {fast} against {slow}"


async def test_subscribe_params_the_daemon_refuses_end_the_stream_with_its_error(
    daemon: Daemon,
) -> None:
    async with AsyncClient(daemon.url, token=daemon.token) as client:
        events = client.events(progress_interval=50)
        with pytest.raises(HaulError) as raised:
            await asyncio.wait_for(events.ready(), WAIT)
        assert raised.value.code is ErrorCode.INVALID_PARAMS
        with pytest.raises(HaulError, match="code -32602"):
            await next_event(events)
        with pytest.raises(StopAsyncIteration):
            await next_event(events)
        await events.aclose()
