"""Where haul's endpoint still answers otherwise than aria2 1.37 does, each
difference written as the test it should pass, with aria2p as the client.

Every test here is marked `xfail(strict=True)` with a reason starting
"HAUL-BUG": it fails as expected today, and once haul is fixed it passes,
which strict mode reports as a failure, so that the marker gets removed."""

import aria2p
import pytest
from support import KB, MB, SLOW, Daemon, FileServer, Heard, status


@pytest.mark.xfail(
    strict=True,
    reason="HAUL-BUG: onDownloadStart is sent once the server answers (the engine's "
    "Started), not when the download becomes active as aria2 sends it, so a download "
    "paused before that gets onDownloadPause with no onDownloadStart before it",
)
def test_a_download_paused_before_its_server_answers_was_announced_by_on_download_start(
    api: aria2p.API, files: FileServer, heard: Heard
) -> None:
    added = api.add_uris([files.url(64 * KB, delay=3000)])
    status(api, added.gid, "active")
    assert api.pause([added]) == [True]
    heard.until("pause", added.gid)
    assert heard.of(added.gid) == ["start", "pause"]


@pytest.mark.xfail(
    strict=True,
    reason="HAUL-BUG: a download that has not started shows files[0].path \"\" even when "
    "it was added with out; aria2 shows <dir>/<out> from the start (so aria2p names "
    "it after its URL instead)",
)
def test_a_download_added_with_out_has_its_path_before_it_starts(
    api: aria2p.API, daemon: Daemon, files: FileServer
) -> None:
    added = api.add_uris([files.url(64 * KB)], options={"out": "later.bin", "pause": "true"})
    assert [str(f.path) for f in added.files] == [str(daemon.root / "later.bin")]
    assert added.name == "later.bin"


@pytest.mark.xfail(
    strict=True,
    reason="HAUL-BUG: aria2.getOption on a removed download (still listed by tellStopped) "
    "answers 'GID … is not found'; aria2 answers with the options it was added with",
)
def test_the_options_of_a_removed_download_can_still_be_read(
    api: aria2p.API, files: FileServer
) -> None:
    added = api.add_uris([files.url(2 * MB, SLOW)], options={"max-download-limit": "100K"})
    api.client.remove(added.gid)
    removed = status(api, added.gid, "removed")
    assert api.get_options([removed])[0].max_download_limit == 100 * KB
