"""Remote daemons: HTTPS and WSS with a throwaway CA passed as
`ca_certificate=` or `ssl_context=` (calls, and an event stream that
reconnects through a proxy), the refusal without it, and `unix:` URLs
against a daemon listening on a unix socket (skipped when the haul binary
cannot)."""

import asyncio
import os
import re
import ssl
from pathlib import Path
from typing import Iterator

import pytest
from support import Certificates, Daemon, FileServer, Proxy

from haul_client import (
    AsyncClient,
    Client,
    DownloadCompleteEvent,
    DownloadStartedEvent,
    Events,
    Resync,
    TransportError,
)

UNTRUSTED = re.compile(
    r": its TLS certificate is not trusted \((unable to get local issuer certificate"
    r"|unable to verify the first certificate)\)\n"
    r"hint: pass the certificate of the CA that signed it as ca_certificate= "
    r"\(a PEM file\), or set SSL_CERT_FILE to it$"
)


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return Certificates(tmp_path / "tls")


@pytest.fixture
def tls(tmp_path: Path, certificates: Certificates) -> Iterator[Daemon]:
    """A daemon serving HTTPS and WSS with `certificates`."""
    daemon = Daemon.start(tmp_path / "daemon", *certificates.flags)
    yield daemon
    daemon.stop()


async def next_of(events: Events, kind: type, gid: str) -> None:
    """Reads the stream up to its next `kind` notification about `gid`."""
    async for event in events:
        assert not isinstance(event, Resync), event
        if event.gid == gid and isinstance(event, kind):
            return
    raise AssertionError("the stream ended")


def test_a_client_given_the_ca_certificate_calls_over_https(
    tls: Daemon, certificates: Certificates
) -> None:
    assert tls.url.startswith("https://")
    with Client(tls.url, token=tls.token, ca_certificate=certificates.ca) as client:
        assert client.system_get_version().version
    # PEM text does as well as its file, and so does a context made by hand.
    pem = certificates.ca.read_text()
    with Client(tls.url, token=tls.token, ca_certificate=pem) as client:
        assert client.system_get_version().version
    context = ssl.create_default_context(cafile=str(certificates.ca))
    with Client(tls.url, token=tls.token, ssl_context=context) as client:
        assert client.system_get_version().version


@pytest.mark.parametrize("over", ["https", "wss"])
async def test_an_async_client_given_the_ca_calls_and_streams_notifications_over_wss(
    tls: Daemon, certificates: Certificates, files: FileServer, over: str
) -> None:
    url = files.add(f"/tls-{over}.bin", os.urandom(64 << 10))
    daemon_url = tls.url if over == "https" else tls.ws_url
    async with AsyncClient(
        daemon_url, token=tls.token, ca_certificate=str(certificates.ca)
    ) as client:
        async with client.events() as events:
            assert events.url == tls.ws_url
            added = await client.download_add(url=url)
            await asyncio.wait_for(next_of(events, DownloadStartedEvent, added.gid), 30)
            await asyncio.wait_for(next_of(events, DownloadCompleteEvent, added.gid), 30)


async def test_the_event_stream_reconnects_over_wss_with_the_ca_after_the_connection_drops(
    tls: Daemon, certificates: Certificates, files: FileServer
) -> None:
    proxy = Proxy(tls.addr, opaque=True)
    through = proxy.url.replace("http://", "https://")
    direct = AsyncClient(tls.url, token=tls.token, ca_certificate=certificates.ca)
    proxied = AsyncClient(through, token=tls.token, ca_certificate=certificates.ca)
    try:
        async with direct, proxied, proxied.events(max_backoff=0.2) as events:
            first = await direct.download_add(url=files.add("/before.bin", b"x" * 1024))
            await asyncio.wait_for(next_of(events, DownloadCompleteEvent, first.gid), 30)
            proxy.cut()
            # Added after the cut: only a new connection, which must trust the
            # CA too, can tell of it.
            second = await direct.download_add(url=files.add("/after.bin", b"y" * 1024))
            await asyncio.wait_for(next_of(events, DownloadStartedEvent, second.gid), 30)
            await asyncio.wait_for(next_of(events, DownloadCompleteEvent, second.gid), 30)
        assert proxy.accepted > 1, "the stream reconnected"
    finally:
        proxy.close()


async def test_without_the_ca_calls_and_the_event_stream_fail_saying_the_certificate_is_not_trusted(
    tls: Daemon,
) -> None:
    with Client(tls.url, token=tls.token) as client:
        with pytest.raises(TransportError) as raised:
            client.system_get_version()
    assert str(raised.value).startswith(f"cannot reach the haul daemon at {tls.url}: ")
    assert UNTRUSTED.search(str(raised.value)), str(raised.value)

    async with AsyncClient(tls.url, token=tls.token) as client:
        with pytest.raises(TransportError) as raised:
            await client.system_get_version()
        assert UNTRUSTED.search(str(raised.value)), str(raised.value)
        with pytest.raises(TransportError) as raised:
            async with client.events():
                pass
    message = str(raised.value)
    assert message.startswith(f"cannot reach the haul daemon at {tls.ws_url}: "), message
    assert UNTRUSTED.search(message), message


async def test_without_ca_certificate_the_ca_that_ssl_cert_file_names_is_trusted(
    tls: Daemon, certificates: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read by httpx (trust_env) and by OpenSSL's default paths (websockets).
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca))
    async with AsyncClient(tls.url, token=tls.token) as client:
        assert (await client.system_get_version()).version
        async with client.events() as events:
            assert events.mode.value == "websocket"


def test_local_trusts_the_ca_that_haul_rpc_ca_certificate_names(
    tls: Daemon, certificates: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HAUL_URL", tls.url)
    monkeypatch.setenv("HAUL_RPC_SECRET", tls.token)
    monkeypatch.setenv("HAUL_RPC_CA_CERTIFICATE", str(certificates.ca))
    with Client.local() as client:
        assert client.system_get_version().version


def test_another_ca_is_not_trusted_either(tls: Daemon, tmp_path: Path) -> None:
    other = Certificates(tmp_path / "other")
    with Client(tls.url, token=tls.token, ca_certificate=other.ca) as client:
        with pytest.raises(TransportError, match=UNTRUSTED):
            client.system_get_version()


def test_a_ca_certificate_that_is_missing_or_not_pem_is_refused_at_once(
    tmp_path: Path, certificates: Certificates
) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(ValueError) as raised:
        Client("https://127.0.0.1:6801/jsonrpc", token="t", ca_certificate=missing)
    assert str(raised.value) == f"invalid ca_certificate {str(missing)!r}: no such file or directory"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ValueError, match=r"^invalid ca_certificate '.*garbage.pem': no PEM certificate in it"):
        AsyncClient("https://127.0.0.1:6801/jsonrpc", token="t", ca_certificate=garbage)
    with pytest.raises(ValueError, match="^give ca_certificate or ssl_context, not both\nhint: "):
        Client(
            "https://127.0.0.1:6801/jsonrpc",
            token="t",
            ca_certificate=certificates.ca,
            ssl_context=ssl.create_default_context(),
        )


def test_a_unix_url_without_an_absolute_socket_path_is_refused() -> None:
    with pytest.raises(ValueError) as raised:
        Client("unix:haul.sock", token="t")
    assert str(raised.value) == (
        "invalid daemon url `unix:haul.sock`: a unix: URL takes an absolute socket path, "
        "e.g. unix:/run/haul/haul.sock"
    )


@pytest.fixture
def unix(tmp_path: Path) -> Iterator[Daemon]:
    """A daemon also listening on a unix socket; the test is skipped when
    this haul binary has no unix sockets (it refuses the flag)."""
    # Short: a socket path has a limit of about 100 bytes.
    socket = tmp_path / "h.sock"
    try:
        daemon = Daemon.start(tmp_path / "daemon", "--listen", f"unix:{socket}")
    except RuntimeError as e:
        # An older haul takes one --listen, and only HOST:PORT.
        refusal = re.search(
            r"error: (invalid value 'unix:[^']*' for '--listen|the argument '--listen)[^\n]*",
            str(e),
        )
        if refusal is None:
            raise
        binary = os.environ.get("HAUL_BIN", "the haul binary")
        pytest.skip(f"{binary} has no unix sockets: {refusal[0]}")
    assert daemon.unix_urls == [f"unix:{socket}"]
    yield daemon
    daemon.stop()


def test_a_unix_url_calls_over_http_on_the_socket(unix: Daemon) -> None:
    with Client(unix.unix_urls[0], token=unix.token) as client:
        assert client.url == unix.unix_urls[0]
        assert client.system_get_version().version


async def test_an_async_client_on_a_unix_socket_calls_and_streams_notifications(
    unix: Daemon, files: FileServer
) -> None:
    url = files.add("/unix.bin", os.urandom(64 << 10))
    async with AsyncClient(unix.unix_urls[0], token=unix.token) as client:
        async with client.events() as events:
            assert events.url == unix.unix_urls[0]
            added = await client.download_add(url=url)
            await asyncio.wait_for(next_of(events, DownloadStartedEvent, added.gid), 30)
            await asyncio.wait_for(next_of(events, DownloadCompleteEvent, added.gid), 30)


async def test_local_takes_a_unix_haul_url_and_a_socket_nobody_listens_on_is_a_transport_error(
    unix: Daemon, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HAUL_URL", unix.unix_urls[0])
    monkeypatch.setenv("HAUL_RPC_SECRET", unix.token)
    with Client.local() as client:
        assert client.system_get_version().version
    async with AsyncClient.local() as async_client:
        assert (await async_client.system_get_version()).version

    missing = f"unix:{tmp_path / 'nobody.sock'}"
    with Client(missing, token=unix.token) as client:
        with pytest.raises(TransportError) as raised:
            client.system_get_version()
    assert str(raised.value) == f"cannot reach the haul daemon at {missing}: no such file or directory"
    async with AsyncClient(missing, token=unix.token) as async_client:
        with pytest.raises(TransportError, match="no such file or directory"):
            async with async_client.events():
                pass
