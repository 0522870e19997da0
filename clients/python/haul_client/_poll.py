"""The event stream's fallback when no WebSocket can be opened: poll
`download.list` and synthesise the notifications its changes imply, so that
a caller handles one kind of stream either way (hand-written; the stream
itself is in `_events`).

Synthesised notifications carry `streamId` `POLLING_STREAM` and a local
`seq`. What polling cannot see it cannot report: a download that starts and
finishes between two polls shows up as `download.complete` alone.
"""

import asyncio
import itertools
from typing import Any, AsyncGenerator, Callable, Iterator, Mapping, Optional

from ._errors import HaulError, TransportError
from ._http import AsyncHttpRpc
from ._jsonrpc import decoded
from .errors import ErrorCode
from .events import (
    DownloadCompleteEvent,
    DownloadErrorEvent,
    DownloadPausedEvent,
    DownloadProgressEvent,
    DownloadRemovedEvent,
    DownloadStartedEvent,
    Notification,
)
from .models import DownloadList, DownloadState, DownloadStatus

POLLING_STREAM = "0000000000000000"
"""The `streamId` of the notifications a polling stream synthesises."""


class Pages:
    """Every download the daemon keeps, gathered from `download.list` page by
    page: ask with `params` until `add` says it has all."""

    def __init__(self) -> None:
        self._all: list[DownloadStatus] = []

    def params(self) -> dict[str, Any]:
        """The params of the next `download.list` call."""
        return {"offset": len(self._all), "limit": 1000}

    def add(self, page: DownloadList) -> bool:
        """Takes one page; whether that was the last."""
        done = not page.downloads or len(self._all) + len(page.downloads) >= page.total
        self._all.extend(page.downloads)
        return done

    def finish(self, gids: Optional[list[str]]) -> list[DownloadStatus]:
        """The downloads, only those of `gids` when given."""
        if gids is None:
            return self._all
        return [d for d in self._all if d.gid in gids]


async def polls(
    rpc: AsyncHttpRpc,
    url: str,
    interval: float,
    gids: Optional[list[str]],
    failed: Callable[[Exception], None],
) -> AsyncGenerator[tuple[list[DownloadStatus], list[Notification]], None]:
    """Polls `download.list` over `rpc` every `interval` seconds, for ever:
    yields each successful poll's downloads (only those of `gids` when
    given) and the notifications that take the previous successful poll's
    to them (none after the first). A refused token is raised; any other
    error goes to `failed`, and it polls again later."""
    previous: Optional[dict[str, DownloadStatus]] = None
    seq = itertools.count(1)
    while True:
        try:
            downloads = await _list_all(rpc, url, gids)
        except HaulError as e:
            if e.code == ErrorCode.UNAUTHORIZED:
                raise
            failed(e)
        except TransportError as e:
            # The daemon is away: poll again later.
            failed(e)
        else:
            implied = [] if previous is None else changes(previous, downloads, seq)
            yield downloads, implied
            previous = {d.gid: d for d in downloads}
        await asyncio.sleep(interval)


async def _list_all(
    rpc: AsyncHttpRpc, url: str, gids: Optional[list[str]]
) -> list[DownloadStatus]:
    pages = Pages()
    while True:
        result = await rpc.call("download.list", pages.params())
        if pages.add(decoded(url, "download.list", result, DownloadList.from_wire)):
            return pages.finish(gids)


def changes(
    before: Mapping[str, DownloadStatus],
    now: list[DownloadStatus],
    seq: Iterator[int],
) -> list[Notification]:
    """The notifications that take `before` to `now`, in list order, removals
    last; each takes the next `seq`."""
    out: list[Notification] = []
    for d in now:
        old = before.get(d.gid)
        moved = old is None or old.state != d.state
        if d.state == DownloadState.ACTIVE and moved:
            out.append(
                DownloadStartedEvent(
                    seq=next(seq),
                    stream_id=POLLING_STREAM,
                    gid=d.gid,
                    file_name=d.file_name or "",
                    total_length=d.total_length,
                    resumed=old is not None or d.completed_length > 0,
                )
            )
        elif (
            d.state == DownloadState.ACTIVE
            and old is not None
            and old.completed_length != d.completed_length
        ):
            out.append(
                DownloadProgressEvent(
                    seq=next(seq),
                    stream_id=POLLING_STREAM,
                    gid=d.gid,
                    completed_length=d.completed_length,
                    total_length=d.total_length,
                    download_speed=d.download_speed,
                    eta=d.eta,
                    connections=d.connections,
                )
            )
        elif d.state == DownloadState.PAUSED and moved:
            out.append(
                DownloadPausedEvent(
                    seq=next(seq),
                    stream_id=POLLING_STREAM,
                    gid=d.gid,
                    completed_length=d.completed_length,
                )
            )
        elif d.state == DownloadState.COMPLETE and moved:
            out.append(
                DownloadCompleteEvent(
                    seq=next(seq),
                    stream_id=POLLING_STREAM,
                    gid=d.gid,
                    path=d.path or "",
                    total_length=(
                        d.completed_length if d.total_length is None else d.total_length
                    ),
                )
            )
        elif d.state == DownloadState.ERROR and moved and d.error is not None:
            out.append(
                DownloadErrorEvent(
                    seq=next(seq),
                    stream_id=POLLING_STREAM,
                    gid=d.gid,
                    code=d.error.code,
                    message=d.error.message,
                    completed_length=d.completed_length,
                )
            )
    for gid in sorted(set(before) - {d.gid for d in now}):
        removed = DownloadRemovedEvent(seq=next(seq), stream_id=POLLING_STREAM, gid=gid)
        out.append(removed)
    return out
