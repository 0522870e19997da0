"""`AsyncClient.events()`: typed notifications in the daemon's order, from a
real download; and, from a stand-in WebSocket server, what a newer daemon
might send."""

import asyncio
import json
import os
from pathlib import Path
from typing import AsyncIterator, Optional

import pytest
from support import Daemon, FileServer
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request

from haul_client import (
    AsyncClient,
    DownloadCompleteEvent,
    DownloadErrorEvent,
    DownloadProgressEvent,
    DownloadRemovedEvent,
    DownloadStartedEvent,
    Notification,
    TransportError,
)


async def life_of(events: AsyncIterator[Notification], gid: str) -> list[Notification]:
    """The gid's notifications until it completes or fails."""
    seen: list[Notification] = []
    async for event in events:
        if event.gid == gid:
            seen.append(event)
            if isinstance(event, (DownloadCompleteEvent, DownloadErrorEvent)):
                return seen
    return seen


async def test_events_deliver_started_progress_and_complete_in_order_as_typed_objects(
    daemon: Daemon, files: FileServer
) -> None:
    data = os.urandom(1 << 20)
    url = files.add("/events.bin", data, rate=640 * 1024)
    async with AsyncClient(daemon.url, token=daemon.token) as client:
        async with client.events() as events:
            added = await client.download_add(url=url, connections=1)
            seen = await asyncio.wait_for(life_of(events, added.gid), timeout=30)

    kinds = [type(event) for event in seen]
    assert kinds[0] is DownloadStartedEvent, kinds
    assert kinds[-1] is DownloadCompleteEvent, kinds
    assert DownloadProgressEvent in kinds and set(kinds[1:-1]) == {
        DownloadProgressEvent
    }, kinds
    seqs = [event.seq for event in seen]
    assert seqs == sorted(set(seqs)), "seq strictly increases"
    assert len({event.stream_id for event in seen}) == 1

    started, complete = seen[0], seen[-1]
    assert isinstance(started, DownloadStartedEvent) and isinstance(
        complete, DownloadCompleteEvent
    )
    assert (started.file_name, started.total_length, started.resumed) == (
        "events.bin",
        len(data),
        False,
    )
    assert complete.total_length == len(data)
    assert Path(complete.path).read_bytes() == data
    progress = [event for event in seen if isinstance(event, DownloadProgressEvent)]
    lengths = [p.completed_length for p in progress]
    assert lengths == sorted(lengths) and all(
        p.total_length == len(data) for p in progress
    )


async def test_events_over_a_websocket_client_use_a_connection_of_their_own(
    daemon: Daemon, files: FileServer
) -> None:
    url = files.add("/events-ws.bin", os.urandom(64 * 1024))
    async with AsyncClient(daemon.ws_url, token=daemon.token) as client:
        async with client.events() as events:
            added = await client.download_add(url=url)
            seen = await asyncio.wait_for(life_of(events, added.gid), timeout=30)
            assert isinstance(seen[-1], DownloadCompleteEvent)
            removed = await client.download_remove(gid=added.gid)
            async for event in events:
                assert (
                    isinstance(event, DownloadRemovedEvent) and event.gid == removed.gid
                )
                break


class StandIn:
    """A WebSocket server that records the upgrade request and sends each
    connection these messages, then closes it."""

    def __init__(self, messages: list[object]) -> None:
        self.messages = messages
        self.request: Optional[Request] = None

    def process_request(self, connection: ServerConnection, request: Request) -> None:
        self.request = request

    async def handler(self, connection: ServerConnection) -> None:
        for message in self.messages:
            await connection.send(json.dumps(message))
        await connection.close()


REMOVED = {"seq": 7, "streamId": "c0ffee0ddba11e57", "gid": "2f1c0d9a7b3e4a51"}


async def test_events_skip_notifications_this_client_does_not_know_and_ignore_new_fields() -> (
    None
):
    stand_in = StandIn(
        [
            {
                "jsonrpc": "2.0",
                "method": "download.renamed",
                "params": {"gid": "2f1c0d9a7b3e4a51"},
            },
            {"jsonrpc": "2.0", "id": 3, "result": True},
            {
                "jsonrpc": "2.0",
                "method": "download.removed",
                "params": {**REMOVED, "reason": "new"},
            },
        ]
    )
    async with serve(
        stand_in.handler, "127.0.0.1", 0, process_request=stand_in.process_request
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        client = AsyncClient(f"http://127.0.0.1:{port}/jsonrpc", token="s3cret")
        events = client.events()
        event = await asyncio.wait_for(events.__anext__(), timeout=10)
        assert event == DownloadRemovedEvent(
            seq=7, stream_id="c0ffee0ddba11e57", gid="2f1c0d9a7b3e4a51"
        )
        with pytest.raises(
            TransportError, match="the connection to the haul daemon at ws://"
        ):
            await asyncio.wait_for(events.__anext__(), timeout=10)
        await events.aclose()
        await client.aclose()

    assert stand_in.request is not None
    assert stand_in.request.path == "/jsonrpc/ws"
    assert stand_in.request.headers["Authorization"] == "Bearer s3cret"


async def test_a_malformed_notification_raises_a_transport_error_and_the_stream_goes_on() -> (
    None
):
    stand_in = StandIn(
        [
            {
                "jsonrpc": "2.0",
                "method": "download.removed",
                "params": {"gid": "2f1c0d9a7b3e4a51"},
            },
            {"jsonrpc": "2.0", "method": "download.removed", "params": REMOVED},
        ]
    )
    async with serve(stand_in.handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        client = AsyncClient(f"ws://127.0.0.1:{port}/jsonrpc/ws", token="s3cret")
        async with client.events() as events:
            with pytest.raises(
                TransportError,
                match="malformed `download.removed` notification: missing 'seq'",
            ):
                await events.__anext__()
            assert (await events.__anext__()).seq == 7
