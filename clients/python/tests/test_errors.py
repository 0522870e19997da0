"""Documented errors arrive as HaulError with typed data; a refused token is
HaulError -32000 on every transport; no daemon at all is TransportError."""

import os
import time

import pytest
from support import Daemon, FileServer

from haul_client import (
    AsyncClient,
    Client,
    DownloadNotFoundErrorData,
    DownloadState,
    ErrorCode,
    HaulError,
    InvalidParamsErrorData,
    InvalidStateErrorData,
    TransportError,
)

UNKNOWN_GID = "0123456789abcdef"


def test_status_of_an_unknown_gid_raises_download_not_found_with_the_gid(
    client: Client,
) -> None:
    with pytest.raises(HaulError) as raised:
        client.download_status(gid=UNKNOWN_GID)
    error = raised.value
    assert error.code is ErrorCode.DOWNLOAD_NOT_FOUND and int(error.code) == -32001
    assert error.message == "Download not found"
    assert error.data == DownloadNotFoundErrorData(gid=UNKNOWN_GID)
    assert str(error) == (
        "Download not found (code -32001, data DownloadNotFoundErrorData(gid='0123456789abcdef'))"
    )


async def test_status_of_an_unknown_gid_raises_download_not_found_asynchronously(
    async_client: AsyncClient,
) -> None:
    with pytest.raises(HaulError) as raised:
        await async_client.download_status(gid=UNKNOWN_GID)
    assert raised.value.code is ErrorCode.DOWNLOAD_NOT_FOUND
    assert raised.value.data == DownloadNotFoundErrorData(gid=UNKNOWN_GID)


def test_a_param_out_of_range_raises_invalid_params_naming_the_param(
    client: Client, files: FileServer
) -> None:
    url = files.add("/never.bin", b"x")
    with pytest.raises(HaulError) as raised:
        client.download_add(url=url, connections=65)
    assert raised.value.code is ErrorCode.INVALID_PARAMS
    data = raised.value.data
    assert isinstance(data, InvalidParamsErrorData) and data.param == "connections"


def test_pausing_a_complete_download_raises_invalid_state_with_its_state(
    client: Client, files: FileServer
) -> None:
    gid = client.download_add(url=files.add("/small.bin", os.urandom(10_000))).gid
    deadline = time.monotonic() + 30
    while client.download_status(gid=gid).state != DownloadState.COMPLETE:
        assert time.monotonic() < deadline, "the download completes within 30 s"
        time.sleep(0.05)
    with pytest.raises(HaulError) as raised:
        client.download_pause(gid=gid)
    assert raised.value.code is ErrorCode.INVALID_STATE
    assert raised.value.data == InvalidStateErrorData(
        gid=gid, state=DownloadState.COMPLETE
    )


def test_a_wrong_token_raises_unauthorized(daemon: Daemon) -> None:
    with Client(daemon.url, token="wrong") as client:
        with pytest.raises(HaulError) as raised:
            client.system_get_version()
    assert (
        raised.value.code is ErrorCode.UNAUTHORIZED and int(raised.value.code) == -32000
    )
    assert raised.value.message == "Unauthorized"


async def first_call(client: AsyncClient, transport: str) -> None:
    """One call, or for "events" a stream's first subscription."""
    if transport == "events":
        events = client.events()
        try:
            await events.ready()
        finally:
            await events.aclose()
    else:
        await client.system_get_version()


@pytest.mark.parametrize("transport", ["http", "websocket", "events"])
async def test_a_wrong_token_raises_unauthorized_asynchronously(
    daemon: Daemon, transport: str
) -> None:
    url = daemon.ws_url if transport == "websocket" else daemon.url
    client = AsyncClient(url, token="wrong")
    with pytest.raises(HaulError) as raised:
        await first_call(client, transport)
    await client.aclose()
    assert raised.value.code is ErrorCode.UNAUTHORIZED


def test_an_unreachable_daemon_raises_a_transport_error_naming_the_url(
    unused_url: str,
) -> None:
    with Client(unused_url, token="t") as client:
        with pytest.raises(TransportError) as raised:
            client.system_get_version()
    assert (
        str(raised.value)
        == f"cannot reach the haul daemon at {unused_url}: connection refused"
    )
    assert raised.value.url == unused_url


@pytest.mark.parametrize("transport", ["http", "websocket", "events"])
async def test_an_unreachable_daemon_raises_a_transport_error_asynchronously(
    unused_url: str, transport: str
) -> None:
    ws_url = unused_url.replace("http:", "ws:") + "/ws"
    client = AsyncClient(ws_url if transport == "websocket" else unused_url, token="t")
    with pytest.raises(TransportError) as raised:
        await first_call(client, transport)
    await client.aclose()
    url = unused_url if transport == "http" else ws_url
    assert (
        str(raised.value)
        == f"cannot reach the haul daemon at {url}: connection refused"
    )


def test_a_url_with_another_scheme_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="invalid daemon url `ftp://x/jsonrpc`"):
        Client("ftp://x/jsonrpc", token="t")
    with pytest.raises(ValueError, match="use http, https, unix$"):
        Client("ws://127.0.0.1:6801/jsonrpc/ws", token="t")
