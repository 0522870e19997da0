"""What aria2's clients rely on that a first version of haul's endpoint
answered otherwise (found by these tests; aria2 1.37's source is the
authority), with aria2p as the client: onDownloadStart as a download becomes
active, a named download's path before it starts, and the options of a
removed download."""

import aria2p
from support import KB, MB, SLOW, Daemon, FileServer, Heard, status


def test_a_download_paused_before_its_server_answers_was_announced_by_on_download_start(
    api: aria2p.API, files: FileServer, heard: Heard
) -> None:
    added = api.add_uris([files.url(64 * KB, delay=3000)])
    status(api, added.gid, "active")
    assert api.pause([added]) == [True]
    heard.until("pause", added.gid)
    assert heard.of(added.gid) == ["start", "pause"]


def test_a_download_added_with_out_has_its_path_before_it_starts(
    api: aria2p.API, daemon: Daemon, files: FileServer
) -> None:
    added = api.add_uris([files.url(64 * KB)], options={"out": "later.bin", "pause": "true"})
    assert [str(f.path) for f in added.files] == [str(daemon.root / "later.bin")]
    assert added.name == "later.bin"


def test_the_options_of_a_removed_download_can_still_be_read(
    api: aria2p.API, files: FileServer
) -> None:
    added = api.add_uris([files.url(2 * MB, SLOW)], options={"max-download-limit": "100K"})
    api.client.remove(added.gid)
    removed = status(api, added.gid, "removed")
    assert api.get_options([removed])[0].max_download_limit == 100 * KB
