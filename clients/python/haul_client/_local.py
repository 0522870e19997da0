"""Finding the daemon on this machine the way the `haul` CLI does, and the
Rust (`Client::connect_local`) and TypeScript (`connectLocal`) SDKs: the same
variables, the same order, the same errors (hand-written runtime).

The URL is `HAUL_URL`, else `http://127.0.0.1:6801/jsonrpc`. The token is
`HAUL_RPC_SECRET`, else the `rpc-secret` file the daemon wrote at its first
start in its state directory: `HAUL_STATE_DIR`, else `$XDG_STATE_HOME/haul`,
else `~/.local/state/haul`."""

import os
import stat
from typing import Mapping, Optional, Tuple

from ._jsonrpc import DEFAULT_URL

TOKEN_FILE = "rpc-secret"
"""The token file's name in the daemon's state directory."""


class LocalDaemonError(Exception):
    """`Client.local()` found no token, or a token file it cannot use.

    `file` is the token file looked for, when there was one to look for.
    """

    def __init__(self, message: str, file: Optional[str] = None) -> None:
        super().__init__(message)
        self.file = file


def find_local(env: Optional[Mapping[str, str]] = None) -> Tuple[str, str]:
    """The local daemon's URL and token, from `env` (default `os.environ`)
    and the daemon's state directory.

    Raises `LocalDaemonError` without a token, naming where it looked, and
    for a token file other users can read (they could have read the token).
    """
    env = os.environ if env is None else env

    def var(name: str) -> Optional[str]:
        return env.get(name) or None  # set but empty is unset

    url = var("HAUL_URL") or DEFAULT_URL
    given = var("HAUL_RPC_SECRET")
    if given:
        return url, given
    directory = var("HAUL_STATE_DIR")
    xdg = var("XDG_STATE_HOME")
    # The XDG spec ignores a relative XDG_STATE_HOME.
    if directory is None and xdg is not None and os.path.isabs(xdg):
        directory = os.path.join(xdg, "haul")
    if directory is None:
        home = var("HOME") or _home()
        if home is not None:
            directory = os.path.join(home, ".local", "state", "haul")
    if directory is None:
        raise _no_token("no state directory (HAUL_STATE_DIR, XDG_STATE_HOME and HOME are not set)")
    path = os.path.join(directory, TOKEN_FILE)
    try:
        handle = open(path, encoding="utf-8")
    except FileNotFoundError:
        raise _no_token(f"no {path}", path) from None
    except OSError as e:
        raise LocalDaemonError(f"cannot read the daemon token {path}: {e.strerror}", path) from e
    with handle:
        # Checked on the open handle, so the file cannot change in between.
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if os.name == "posix" and mode & 0o077:
            raise LocalDaemonError(
                f"the daemon token {path} is readable by other users (mode {mode:o})\nhint: chmod 600 {path}",
                path,
            )
        token = handle.read().strip()
    if not token:
        raise LocalDaemonError(
            f"the daemon token file {path} is empty\n"
            "hint: delete it and restart the daemon, which writes a new one",
            path,
        )
    return url, token


def _home() -> Optional[str]:
    # HOME unset: the password database's entry, as Rust's and Node's do.
    home = os.path.expanduser("~")
    return None if home == "~" else home


def _no_token(where: str, file: Optional[str] = None) -> LocalDaemonError:
    return LocalDaemonError(
        f"no daemon token: HAUL_RPC_SECRET is not set and there is {where}\n"
        "hint: start the daemon (`haul daemon`), which writes that file; or set HAUL_RPC_SECRET "
        "to the daemon's --rpc-secret, or HAUL_STATE_DIR to its --state-dir",
        file,
    )
