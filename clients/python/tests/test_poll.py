"""The polling fallback's parts that need no daemon: the notifications a
change between two polls implies, and where it polls."""

import itertools
from typing import Any

from haul_client import DownloadState, DownloadStatus
from haul_client._jsonrpc import http_url_for
from haul_client._poll import POLLING_STREAM, changes


def status(gid: str, state: DownloadState, done: int) -> DownloadStatus:
    wire: dict[str, Any] = {
        "gid": gid,
        "url": "http://h/f",
        "state": state.value,
        "fileName": "f",
        "path": "/d/f",
        "totalLength": 100,
        "completedLength": done,
        "downloadSpeed": 0,
        "eta": None,
        "connections": 1,
        "speedLimit": 0,
        "error": None,
        "createdAt": "2026-01-01T00:00:00Z",
        "completedAt": None,
    }
    return DownloadStatus.from_wire(wire)


def test_state_changes_between_polls_become_the_notifications_they_imply() -> None:
    before = {
        d.gid: d
        for d in [
            status("a", DownloadState.QUEUED, 0),
            status("b", DownloadState.ACTIVE, 10),
            status("c", DownloadState.ACTIVE, 10),
            status("d", DownloadState.PAUSED, 5),
            status("e", DownloadState.ACTIVE, 20),
        ]
    }
    now = [
        status("a", DownloadState.ACTIVE, 0),
        status("b", DownloadState.ACTIVE, 50),
        status("c", DownloadState.COMPLETE, 100),
        status("e", DownloadState.ACTIVE, 20),
    ]
    implied = changes(before, now, itertools.count(1))
    assert [(n.seq, n.METHOD, n.gid) for n in implied] == [
        (1, "download.started", "a"),
        (2, "download.progress", "b"),
        (3, "download.complete", "c"),
        (4, "download.removed", "d"),
    ]
    assert {n.stream_id for n in implied} == {POLLING_STREAM}


def test_the_http_endpoint_is_derived_from_the_websocket_one() -> None:
    assert http_url_for("wss://h:1/jsonrpc/ws") == "https://h:1/jsonrpc"
    assert http_url_for("ws://h/jsonrpc/ws/") == "http://h/jsonrpc"
