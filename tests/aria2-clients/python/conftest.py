"""Fixtures: a fresh haul daemon per test, one file server for the session,
aria2p's API pointed at the daemon's aria2 port, and aria2p's notification
listener running in its thread."""

from pathlib import Path
from typing import Iterator

import aria2p
import pytest
from support import Daemon, FileServer, Heard


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    daemon = Daemon(tmp_path)
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def files() -> Iterator[FileServer]:
    server = FileServer()
    yield server
    server.close()


@pytest.fixture
def api(daemon: Daemon) -> aria2p.API:
    # aria2p wants the host with its scheme and the port apart, as aria2c's
    # --rpc-listen-port; it adds "token:SECRET" to every aria2.* call.
    client = aria2p.Client(host="http://127.0.0.1", port=daemon.port, secret=daemon.secret)
    return aria2p.API(client)


@pytest.fixture
def heard(api: aria2p.API, files: FileServer) -> Iterator[Heard]:
    """aria2p's own listener (API.listen_to_notifications, threaded), once
    it is listening."""
    heard = Heard()
    callbacks = {f"on_download_{kind}": heard.callback(kind) for kind in Heard.KINDS}
    # timeout: how soon stop_listening ends the thread.
    api.listen_to_notifications(threaded=True, timeout=1, **callbacks)
    try:
        # aria2p opens its WebSocket inside its thread and tells no one when
        # it is open: small probe downloads are added until one is heard of,
        # so that no download of the test can start before the listener.
        for _ in range(50):
            probe = api.add_uris([files.url(1024)]).gid
            try:
                heard.until("complete", probe, timeout=0.5)
                break
            except AssertionError:
                continue
        else:
            raise AssertionError("aria2p's listener heard none of 50 probe downloads")
        yield heard
    finally:
        api.stop_listening()
