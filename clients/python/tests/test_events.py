"""`AsyncClient.events()`: typed notifications in the daemon's order, from a
real download; and, from a stand-in WebSocket server, the subscribe calls on
the wire, each notification once across a reconnect, and what a newer
daemon might send. (tests/test_reconnect.py breaks real connections.)"""

import asyncio
import json
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator

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
    Events,
    Notification,
    NotificationKind,
    Resync,
    TransportError,
)


async def life_of(events: Events, gid: str) -> list[Notification]:
    """The gid's notifications until it completes or fails."""
    seen: list[Notification] = []
    async for event in events:
        assert not isinstance(event, Resync), event
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


STREAM = "c0ffee0ddba11e57"
GID = "2f1c0d9a7b3e4a51"


def removed(seq: int, **extra: object) -> dict[str, Any]:
    params = {"seq": seq, "streamId": STREAM, "clusterSeq": None, "gid": GID, **extra}
    return {"jsonrpc": "2.0", "method": "download.removed", "params": params}


@dataclass(frozen=True)
class Answer:
    """Where a script sends the answer to `events.subscribe`, with this `seq`."""

    seq: int


class StandIn:
    """A WebSocket server playing the daemon: it records each upgrade request
    and `events.subscribe` params, and sends connection N script N (the
    subscribe answer where the script has an `Answer`). It closes each
    connection after its script but the last, which stays open."""

    def __init__(self, scripts: list[list[object]]) -> None:
        self.scripts = scripts
        self.requests: list[Request] = []
        self.subscriptions: list[object] = []

    def process_request(self, connection: ServerConnection, request: Request) -> None:
        self.requests.append(request)

    async def handler(self, connection: ServerConnection) -> None:
        script = self.scripts[min(len(self.requests), len(self.scripts)) - 1]
        subscribe = json.loads(await connection.recv())
        assert subscribe["method"] == "events.subscribe"
        self.subscriptions.append(subscribe["params"])
        for message in script:
            if isinstance(message, Answer):
                stream = {"streamId": STREAM, "seq": message.seq, "oldestSeq": 0}
                message = {"jsonrpc": "2.0", "id": subscribe["id"], "result": stream}
            await connection.send(json.dumps(message))
        if script is not self.scripts[-1]:
            await connection.close()
        await connection.wait_closed()


@asynccontextmanager
async def stand_in_at(stand_in: StandIn) -> AsyncIterator[str]:
    """Serves `stand_in`; the daemon URL to give a client."""
    async with serve(
        stand_in.handler, "127.0.0.1", 0, process_request=stand_in.process_request
    ) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"http://127.0.0.1:{port}/jsonrpc"


async def test_events_resubscribe_where_they_left_off_delivering_each_one_once() -> None:
    stand_in = StandIn(
        [
            [
                removed(5),  # before the answer: the daemon replays what counts
                Answer(seq=1),
                removed(1),  # up to the answer's seq: seen before
                {**removed(2), "method": "download.renamed"},
                removed(3, reason="a newer daemon's field"),
                removed(2),
            ],
            [Answer(seq=3), removed(3), removed(4)],
        ]
    )
    async with stand_in_at(stand_in) as url:
        async with AsyncClient(url, token="s3cret") as client:
            async with client.events(
                gids=[GID],
                kinds=[NotificationKind.DOWNLOAD_REMOVED],
                progress_interval=500,
            ) as events:
                seen = [
                    await asyncio.wait_for(events.__anext__(), timeout=10)
                    for _ in range(2)
                ]

    assert seen == [
        DownloadRemovedEvent(seq=3, stream_id=STREAM, cluster_seq=None, gid=GID),
        DownloadRemovedEvent(seq=4, stream_id=STREAM, cluster_seq=None, gid=GID),
    ]
    filters = {"gids": [GID], "kinds": ["download.removed"], "progressInterval": 500}
    assert stand_in.subscriptions == [
        filters,
        {"since": 3, "streamId": STREAM, **filters},
    ]
    for request in stand_in.requests:
        assert request.path == "/jsonrpc/ws"
        assert request.headers["Authorization"] == "Bearer s3cret"


async def test_a_malformed_notification_raises_a_transport_error_and_the_stream_goes_on() -> (
    None
):
    malformed = removed(1)
    del malformed["params"]["gid"]
    stand_in = StandIn([[Answer(seq=0), malformed, removed(2)]])
    async with stand_in_at(stand_in) as url:
        client = AsyncClient(url, token="s3cret")
        async with client.events() as events:
            with pytest.raises(
                TransportError,
                match="malformed `download.removed` notification: missing 'gid'",
            ):
                await events.__anext__()
            assert await events.__anext__() == DownloadRemovedEvent(seq=2, stream_id=STREAM, cluster_seq=None, gid=GID)
        await client.aclose()
