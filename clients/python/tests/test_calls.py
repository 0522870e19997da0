"""Every method's happy path against a real daemon, through the blocking
client and through the asyncio client (over HTTP and over a WebSocket)."""

import asyncio
import os
import re
from dataclasses import replace

from support import Daemon, FileServer, document

from haul_client import (
    AddResult,
    AsyncClient,
    Client,
    DownloadNotFoundErrorData,
    DownloadState,
    ErrorCode,
    HaulError,
    Options,
    OverwritePolicy,
    Stats,
    StoreHealth,
    __version__,
)

# Slow enough per connection that no test download finishes on its own.
CRAWL = 16 * 1024
GID = re.compile(r"[0-9a-f]{16}")


def test_a_download_is_added_listed_paused_resumed_limited_and_removed(
    client: Client, files: FileServer
) -> None:
    url = files.add("/lifecycle.bin", os.urandom(4 << 20), rate=CRAWL)
    added = client.download_add(
        url=url,
        file_name="kept.bin",
        dir="sub",
        connections=2,
        headers={"X-Test": "1"},
        speed_limit=1 << 20,
        paused=True,
        overwrite=OverwritePolicy.RENAME,
    )
    assert isinstance(added, AddResult) and GID.fullmatch(added.gid)

    status = client.download_status(gid=added.gid)
    assert (status.gid, status.url, status.state) == (
        added.gid,
        url,
        DownloadState.PAUSED,
    )
    assert (status.file_name, status.speed_limit, status.error) == (
        "kept.bin",
        1 << 20,
        None,
    )

    listed = client.download_list()
    assert listed.total == 1 and [d.gid for d in listed.downloads] == [added.gid]
    assert client.download_list(states=[DownloadState.ACTIVE]).total == 0
    assert client.system_get_stats().paused == 1

    resumed = client.download_resume(gid=added.gid)
    assert resumed.state in (DownloadState.QUEUED, DownloadState.ACTIVE)
    paused = client.download_pause(gid=added.gid)
    assert paused.state == DownloadState.PAUSED
    # The same file at the same address: its bytes are kept.
    moved = client.download_set_url(gid=added.gid, url=url)
    assert (moved.url, moved.completed_length) == (url, paused.completed_length)

    limited = client.download_set_speed_limit(gid=added.gid, speed_limit=4096)
    assert (limited.gid, limited.speed_limit) == (added.gid, 4096)

    assert client.download_remove(gid=added.gid, delete_files=True).gid == added.gid
    assert client.download_list().total == 0


async def test_a_download_is_added_listed_paused_resumed_limited_and_removed_asynchronously(
    async_client: AsyncClient, files: FileServer
) -> None:
    url = files.add("/lifecycle-async.bin", os.urandom(4 << 20), rate=CRAWL)
    added = await async_client.download_add(url=url, file_name="kept.bin", paused=True)
    assert GID.fullmatch(added.gid)

    status = await async_client.download_status(gid=added.gid)
    assert (status.gid, status.state, status.file_name) == (
        added.gid,
        DownloadState.PAUSED,
        "kept.bin",
    )

    listed = await async_client.download_list(states=[DownloadState.PAUSED], limit=10)
    assert listed.total == 1 and listed.downloads[0].gid == added.gid

    resumed = await async_client.download_resume(gid=added.gid)
    assert resumed.state in (DownloadState.QUEUED, DownloadState.ACTIVE)
    assert (
        await async_client.download_pause(gid=added.gid)
    ).state == DownloadState.PAUSED

    limited = await async_client.download_set_speed_limit(
        gid=added.gid, speed_limit=4096
    )
    assert limited.speed_limit == 4096

    assert (await async_client.download_remove(gid=added.gid)).gid == added.gid
    assert (await async_client.download_list()).total == 0


def test_system_methods_report_version_stats_and_options(client: Client) -> None:
    version = client.system_get_version()
    assert version.version and all(isinstance(f, str) for f in version.features)
    assert client.system_get_stats() == Stats(
        active=0,
        queued=0,
        paused=0,
        complete=0,
        error=0,
        download_speed=0,
        store=StoreHealth(healthy=True, error=None),
    )
    before = client.system_get_options()
    # Only the option given changes: the absent one is not sent (as null or otherwise).
    changed = client.system_set_options(speed_limit=1000)
    assert changed == replace(before, speed_limit=1000)
    assert client.system_set_options(max_concurrent=2) == replace(
        before, max_concurrent=2, speed_limit=1000
    )
    assert client.system_get_options() == replace(before, max_concurrent=2, speed_limit=1000)
    # A proxy set is shown without its credentials, and "" removes it.
    proxied = client.system_set_options(all_proxy="socks5h://ada:secret@127.0.0.1:1080")
    assert proxied.all_proxy == "socks5h://127.0.0.1:1080"
    assert client.system_set_options(all_proxy="").all_proxy is None


async def test_system_methods_report_version_stats_and_options_asynchronously(
    async_client: AsyncClient,
) -> None:
    assert (await async_client.system_get_version()).version
    assert (await async_client.system_get_stats()).active == 0
    before = await async_client.system_get_options()
    changed = await async_client.system_set_options(speed_limit=1000)
    assert changed == replace(before, speed_limit=1000)
    assert await async_client.system_get_options() == changed


def test_rpc_discover_returns_the_document_this_package_was_generated_from(
    client: Client,
) -> None:
    discovered = client.rpc_discover()
    assert discovered == document()
    assert discovered["info"]["version"] == __version__


async def test_rpc_discover_returns_the_document_asynchronously(
    async_client: AsyncClient,
) -> None:
    assert await async_client.rpc_discover() == document()


async def test_concurrent_calls_over_one_websocket_each_get_their_own_answer(
    daemon: Daemon,
) -> None:
    gids = [f"{n:016x}" for n in range(20)]
    async with AsyncClient(daemon.ws_url, token=daemon.token) as client:
        answers = await asyncio.gather(
            *(client.download_status(gid=gid) for gid in gids), return_exceptions=True
        )
    for gid, answer in zip(gids, answers):
        assert (
            isinstance(answer, HaulError)
            and answer.code == ErrorCode.DOWNLOAD_NOT_FOUND
        )
        assert answer.data == DownloadNotFoundErrorData(gid=gid)


def test_the_client_repr_names_the_url_but_never_the_token(daemon: Daemon) -> None:
    with Client(daemon.url, token=daemon.token) as client:
        assert repr(client) == f"Client({daemon.url!r})"
        assert daemon.token not in repr(client)
