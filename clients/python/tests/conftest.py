"""Fixtures: a real `haul daemon` per test, a local HTTP file server, a
proxy that breaks connections, and clients of every kind pointed at the
daemon."""

import socket
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest
from support import Daemon, FileServer, Proxy

from haul_client import AsyncClient, Client


@pytest.fixture
def daemon(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Daemon]:
    """The daemon; a test passes it extra flags with
    `@pytest.mark.parametrize("daemon", [(flag, ...)], indirect=True)`."""
    daemon = Daemon.start(tmp_path, *getattr(request, "param", ()))
    yield daemon
    daemon.stop()


@pytest.fixture
def proxy(daemon: Daemon) -> Iterator[Proxy]:
    """A TCP proxy in front of the daemon."""
    proxy = Proxy(daemon.addr)
    yield proxy
    proxy.close()


@pytest.fixture(scope="session")
def files() -> Iterator[FileServer]:
    server = FileServer()
    yield server
    server.close()


@pytest.fixture
def client(daemon: Daemon) -> Iterator[Client]:
    with Client(daemon.url, token=daemon.token) as client:
        yield client


@pytest.fixture(params=["http", "websocket"])
async def async_client(
    request: pytest.FixtureRequest, daemon: Daemon
) -> AsyncIterator[AsyncClient]:
    """An `AsyncClient` calling over HTTP, then one calling over a WebSocket."""
    url = daemon.url if request.param == "http" else daemon.ws_url
    async with AsyncClient(url, token=daemon.token) as client:
        yield client


@pytest.fixture
def unused_url() -> str:
    """An HTTP URL on a local port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/jsonrpc"
