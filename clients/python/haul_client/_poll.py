"""The event stream's fallback when no WebSocket can be opened: poll
`events.poll` over HTTP (hand-written; the stream itself is in `_events`).
The daemon answers from the same window a WebSocket replays from, so the
stream delivers the very notifications a WebSocket would: the daemon's
`streamId`, its real `seq`, every state change.
"""

from typing import Any, Optional

from ._http import AsyncHttpRpc
from ._jsonrpc import decoded
from .events import EventPoll
from .models import DownloadList, DownloadStatus

POLL_LIMIT = 1000
"""Notifications asked for per poll; a full answer is followed at once by
the next poll instead of waiting for the interval."""


class Pages:
    """Every download the daemon keeps, gathered from `download.list` page by
    page: ask with `params` until `add` says it has all. Pages follow the
    list's cursor, so downloads added or removed between two pages never
    make one skip or repeat another."""

    def __init__(self) -> None:
        self._all: list[DownloadStatus] = []
        self._cursor: Optional[str] = None

    def params(self) -> dict[str, Any]:
        """The params of the next `download.list` call."""
        if self._cursor is None:
            return {"limit": 1000}
        return {"limit": 1000, "cursor": self._cursor}

    def add(self, page: DownloadList) -> bool:
        """Takes one page; whether that was the last."""
        self._all.extend(page.downloads)
        self._cursor = page.cursor
        return page.cursor is None

    def finish(self, gids: Optional[list[str]]) -> list[DownloadStatus]:
        """The downloads, only those of `gids` when given."""
        if gids is None:
            return self._all
        return [d for d in self._all if d.gid in gids]


async def list_all(
    rpc: AsyncHttpRpc, url: str, gids: Optional[list[str]]
) -> list[DownloadStatus]:
    """Every download (only those of `gids` when given), page by page."""
    pages = Pages()
    while True:
        result = await rpc.call("download.list", pages.params())
        if pages.add(decoded(url, "download.list", result, DownloadList.from_wire)):
            return pages.finish(gids)


async def poll(
    rpc: AsyncHttpRpc, url: str, params: dict[str, Any]
) -> EventPoll:
    """One `events.poll` call, decoded."""
    result = await rpc.call("events.poll", params)
    return decoded(url, "events.poll", result, EventPoll.from_wire)
