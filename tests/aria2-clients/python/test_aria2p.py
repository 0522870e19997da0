"""aria2p, the Python aria2 client, against haul's aria2-compatible port:
its high-level API (aria2p.API) for adding, listing, pausing, resuming,
removing and purging downloads, their options, the global stats, and its
own WebSocket notification listener."""

import time
from typing import Optional

import aria2p
import pytest
from support import KB, MB, SLOW, Daemon, FileServer, Heard, content, status, until


def test_a_download_added_with_dir_and_out_completes_into_that_file(
    api: aria2p.API, daemon: Daemon, files: FileServer
) -> None:
    target = daemon.root / "isos"
    added = api.add_uris([files.url(2 * MB)], options={"dir": str(target), "out": "named.bin"})
    done = status(api, added.gid, "complete")
    assert (target / "named.bin").read_bytes() == content(2 * MB)
    assert (done.total_length, done.completed_length) == (2 * MB, 2 * MB)
    assert done.dir == target
    assert [f.path for f in done.files] == [target / "named.bin"]
    assert done.name == "named.bin"


def test_get_downloads_lists_each_download_in_the_state_aria2_names_it(
    api: aria2p.API, files: FileServer
) -> None:
    done = api.add_uris([files.url(64 * KB)])
    status(api, done.gid, "complete")
    # One at a time, so that the next one waits behind the active one.
    assert api.set_global_options({"max-concurrent-downloads": "1"})
    active = api.add_uris([files.url(2 * MB, SLOW)])
    status(api, active.gid, "active")
    waiting = api.add_uris([files.url(2 * MB, SLOW)])
    paused = api.add_uris([files.url(2 * MB)], options={"pause": "true"})
    listed = {d.gid: d.status for d in api.get_downloads()}
    assert listed == {
        done.gid: "complete",
        active.gid: "active",
        waiting.gid: "waiting",
        paused.gid: "paused",
    }


def test_a_paused_download_resumes_with_its_bytes_and_a_removed_one_is_gone(
    api: aria2p.API, files: FileServer
) -> None:
    added = api.add_uris([files.url(2 * MB, SLOW)])
    until("some bytes have arrived", lambda: api.get_download(added.gid).completed_length)
    assert api.pause([added]) == [True]
    paused = status(api, added.gid, "paused")
    kept = paused.completed_length
    assert 0 < kept < 2 * MB
    assert api.resume([paused]) == [True]
    resumed = status(api, added.gid, "active")
    assert resumed.completed_length >= kept
    # aria2p removes the download, then its result: nothing is left to list.
    assert api.remove([resumed]) == [True]
    assert added.gid not in [d.gid for d in api.get_downloads()]


def test_a_removed_download_is_listed_as_removed_until_purged(
    api: aria2p.API, files: FileServer
) -> None:
    done = api.add_uris([files.url(64 * KB)])
    status(api, done.gid, "complete")
    added = api.add_uris([files.url(2 * MB, SLOW)])
    status(api, added.gid, "active")
    # The client's own aria2.remove, which (unlike API.remove) keeps the result.
    assert api.client.remove(added.gid) == added.gid
    status(api, added.gid, "removed")
    stopped = {d.gid: d.status for d in api.get_downloads()}
    assert stopped == {done.gid: "complete", added.gid: "removed"}
    assert api.purge()
    assert api.get_downloads() == []
    with pytest.raises(aria2p.ClientException, match="not found"):
        api.get_download(added.gid)


def test_a_download_option_and_a_global_option_read_back_as_they_were_set(
    api: aria2p.API, files: FileServer
) -> None:
    added = api.add_uris([files.url(2 * MB, SLOW)], options={"max-download-limit": "100K"})
    options = api.get_options([added])[0]
    assert options.max_download_limit == 100 * KB
    # aria2p's setter is an aria2.changeOption call.
    options.max_download_limit = 50 * KB
    assert api.get_options([added])[0].max_download_limit == 50 * KB

    assert api.get_global_options().max_concurrent_downloads == 5
    api.get_global_options().max_concurrent_downloads = 2
    assert api.get_global_options().max_concurrent_downloads == 2


def test_max_download_limit_holds_a_download_back_until_changed_to_zero(
    api: aria2p.API, files: FileServer
) -> None:
    # Unlimited, 4 MB from loopback take milliseconds.
    added = api.add_uris([files.url(4 * MB)], options={"max-download-limit": "256K"})
    time.sleep(1)
    held = api.get_download(added.gid)
    assert held.is_active and held.completed_length < 2 * MB
    assert api.set_options({"max-download-limit": "0"}, [held]) == [True]
    status(api, added.gid, "complete")


def test_get_stats_counts_active_waiting_and_stopped_downloads_and_the_speed(
    api: aria2p.API, files: FileServer
) -> None:
    done = api.add_uris([files.url(64 * KB)])
    status(api, done.gid, "complete")
    assert api.set_global_options({"max-concurrent-downloads": "1"})
    active = api.add_uris([files.url(2 * MB, SLOW)])
    status(api, active.gid, "active")
    api.add_uris([files.url(2 * MB, SLOW)])
    stats = until("a speed is measured", lambda: _moving(api.get_stats()))
    assert (stats.num_active, stats.num_waiting) == (1, 1)
    assert (stats.num_stopped, stats.num_stopped_total) == (1, 1)
    assert stats.upload_speed == 0


def _moving(stats: aria2p.Stats) -> Optional[aria2p.Stats]:
    return stats if stats.download_speed > 0 else None


def test_the_notification_listener_hears_a_real_download_start_and_complete(
    api: aria2p.API, daemon: Daemon, files: FileServer, heard: Heard
) -> None:
    added = api.add_uris([files.url(1 * MB)], options={"out": "heard.bin"})
    heard.until("complete", added.gid)
    assert heard.of(added.gid) == ["start", "complete"]
    assert (daemon.root / "heard.bin").read_bytes() == content(1 * MB)
    assert api.get_download(added.gid).status == "complete"
