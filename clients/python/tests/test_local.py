"""`Client.local()` and `AsyncClient.local()` against a daemon that wrote its
own token: the same variables, order and errors as the Rust SDK and the CLI."""

import os
from pathlib import Path
from typing import Iterator

import pytest
from support import Daemon

from haul_client import AsyncClient, Client, LocalDaemonError, find_local

LOCATING = ("HAUL_URL", "HAUL_RPC_SECRET", "HAUL_STATE_DIR", "XDG_STATE_HOME", "HOME")


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[Daemon]:
    """A daemon that generated its token into `$XDG_STATE_HOME/haul`, with
    XDG_STATE_HOME at `tmp_path / "xdg"`."""
    daemon = Daemon.start_generated(tmp_path, tmp_path / "xdg" / "haul")
    yield daemon
    daemon.stop()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No locating variable set, as in a fresh shell; the test sets its own."""
    for name in LOCATING:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_client_local_finds_the_token_in_the_xdg_state_directory(
    generated: Daemon, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("HAUL_URL", generated.url)
    clean_env.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    with Client.local() as client:
        assert client.url == generated.url
        assert client.system_get_version().version


async def test_async_client_local_finds_it_too_over_a_websocket(
    generated: Daemon, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("HAUL_URL", generated.ws_url)
    clean_env.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    async with AsyncClient.local() as client:
        assert (await client.system_get_version()).version


def test_haul_rpc_secret_comes_first_then_the_state_directories_in_order(
    generated: Daemon, tmp_path: Path
) -> None:
    state, xdg = str(generated.state), str(tmp_path / "xdg")
    home = tmp_path / "home"
    (home / ".local" / "state" / "haul").mkdir(parents=True)
    token_file = home / ".local" / "state" / "haul" / "rpc-secret"
    token_file.write_text(" from-home \n")
    token_file.chmod(0o600)
    given = {"HAUL_URL": generated.url, "HAUL_RPC_SECRET": "given", "HAUL_STATE_DIR": state}
    assert find_local(given) == (generated.url, "given")
    assert find_local({"HAUL_STATE_DIR": state, "HOME": str(home)})[1] == generated.token
    assert find_local({"XDG_STATE_HOME": xdg, "HOME": str(home)})[1] == generated.token
    # A relative XDG_STATE_HOME is ignored (the XDG spec); empty is unset.
    relative = {"XDG_STATE_HOME": "xdg", "HOME": str(home), "HAUL_RPC_SECRET": ""}
    assert find_local(relative) == ("http://127.0.0.1:6801/jsonrpc", "from-home")


def test_without_a_token_the_error_names_where_it_looked(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("XDG_STATE_HOME", str(tmp_path))
    file = os.path.join(tmp_path, "haul", "rpc-secret")
    with pytest.raises(LocalDaemonError) as raised:
        Client.local()
    assert raised.value.file == file
    assert str(raised.value) == (
        f"no daemon token: HAUL_RPC_SECRET is not set and there is no {file}\n"
        "hint: start the daemon (`haul daemon`), which writes that file; or set "
        "HAUL_RPC_SECRET to the daemon's --rpc-secret, or HAUL_STATE_DIR to its --state-dir"
    )


def test_a_token_file_that_others_can_read_or_that_is_empty_is_refused(
    tmp_path: Path,
) -> None:
    file = tmp_path / "rpc-secret"
    file.write_text("abc\n")
    file.chmod(0o644)
    with pytest.raises(LocalDaemonError) as raised:
        find_local({"HAUL_STATE_DIR": str(tmp_path)})
    assert str(raised.value) == (
        f"the daemon token {file} is readable by other users (mode 644)\nhint: chmod 600 {file}"
    )
    file.write_text("\n")
    file.chmod(0o600)
    with pytest.raises(LocalDaemonError, match="is empty\nhint: delete it and restart"):
        find_local({"HAUL_STATE_DIR": str(tmp_path)})
