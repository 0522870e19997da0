"""Test support: a real `haul daemon` with its aria2-compatible port on fresh
directories, a loopback HTTP file server with Range support, throttling and
delayed answers, waiting for a download's state, and a record of what aria2p's
notification listener heard."""

import functools
import os
import queue
import re
import secrets
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Optional, TypeVar
from urllib.parse import parse_qs, urlsplit

import aria2p

REPO = Path(__file__).resolve().parents[3]
# The second of the two lines the daemon prints at start.
ARIA2_LISTENING = re.compile(
    r"^aria2-compatible RPC listening on http://127\.0\.0\.1:(\d+)/jsonrpc "
)
CHUNK = 16 * 1024
KB, MB = 1 << 10, 1 << 20
# Bytes per second per connection: with haul's 8 connections, 2 MB at this
# rate takes 16 s, so a download stays active for as long as a test needs.
SLOW = 16 * KB

T = TypeVar("T")


def until(what: str, probe: Callable[[], Optional[T]], timeout: float = 20) -> T:
    """Polls `probe` until it returns something truthy, and returns it."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting until {what}")
        time.sleep(0.05)


def status(api: aria2p.API, gid: str, wanted: str) -> aria2p.Download:
    """The download, once aria2's tellStatus shows it in state `wanted`."""

    def probe() -> Optional[aria2p.Download]:
        download = api.get_download(gid)
        return download if download.status == wanted else None

    return until(f"{gid} is {wanted}", probe)


@functools.lru_cache(maxsize=8)
def content(size: int) -> bytes:
    """The bytes the file server serves for a file of `size` bytes: a 251-byte
    cycle, so that a range written at the wrong offset shows."""
    return (bytes(range(251)) * (size // 251 + 1))[:size]


class Daemon:
    """`haul daemon` (HAUL_BIN) on 127.0.0.1 with `--aria2-listen 127.0.0.1:0`,
    a random aria2 secret and these extra flags; `stop` ends it."""

    def __init__(self, directory: Path, *flags: str) -> None:
        self.root = directory / "downloads"
        self.secret = secrets.token_hex(16)
        binary = os.environ.get("HAUL_BIN", str(REPO / "target" / "debug" / "haul"))
        args = [
            binary,
            "daemon",
            "--listen", "127.0.0.1:0",
            "--dir", str(self.root),
            "--state-dir", str(directory / "state"),
            "--aria2-listen", "127.0.0.1:0",
            "--aria2-secret", self.secret,
            *flags,
        ]  # fmt: skip
        env = {**os.environ, "HAUL_LOG": "warn"}
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
        # A thread keeps reading stdout, so the daemon never blocks on it and
        # the start-up lines can be awaited with a timeout.
        lines: "queue.Queue[Optional[str]]" = queue.Queue()
        threading.Thread(target=_drain, args=(self.process, lines), daemon=True).start()
        self.port = 0
        try:
            for _ in range(2):
                found = ARIA2_LISTENING.match(lines.get(timeout=20) or "")
                if found:
                    self.port = int(found[1])
        except queue.Empty:
            pass
        if not self.port:
            self.stop()
            raise RuntimeError(f"{binary} did not say where its aria2 port listens")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _drain(process: "subprocess.Popen[str]", lines: "queue.Queue[Optional[str]]") -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line)
    lines.put(None)


class FileServer:
    """Serves `/file/<size>` as `content(size)` on 127.0.0.1 from a thread,
    with ranges; `?rate=<bytes/s>` throttles each connection, so that a
    download stays active long enough to be paused, and `?delay=<ms>` holds
    back each answer, so that a download is active before any byte comes."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, size: int, rate: int = 0, delay: int = 0) -> str:
        port = self._server.server_address[1]
        query = "&".join(f"{k}={v}" for k, v in (("rate", rate), ("delay", delay)) if v)
        return f"http://127.0.0.1:{port}/file/{size}" + (f"?{query}" if query else "")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests assert on what the clients see."""

    def do_HEAD(self) -> None:
        self._respond(body=False)

    def do_GET(self) -> None:
        self._respond(body=True)

    def _respond(self, body: bool) -> None:
        url = urlsplit(self.path)
        found = re.fullmatch(r"/file/(\d+)", url.path)
        if found is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = int(found[1])
        query = parse_qs(url.query)
        rate = int(query.get("rate", ["0"])[0])
        time.sleep(int(query.get("delay", ["0"])[0]) / 1000)
        start, end = 0, size - 1
        asked = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if asked:
            start = int(asked[1])
            end = min(int(asked[2]), size - 1) if asked[2] else size - 1
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        if not body:
            return
        data = content(size)
        try:
            for at in range(start, end + 1, CHUNK):
                self.wfile.write(data[at : min(at + CHUNK, end + 1)])
                if rate:
                    time.sleep(CHUNK / rate)
        except (BrokenPipeError, ConnectionResetError):
            # The daemon paused, removed or stopped: it hung up.
            self.close_connection = True


class Heard:
    """What aria2p's notification listener heard, as (kind, gid) pairs in the
    order they came; `callback(kind)` is the callback to give it for a kind
    (start, pause, stop, complete, error)."""

    KINDS = ("start", "pause", "stop", "complete", "error")

    def __init__(self) -> None:
        self._queue: "queue.Queue[tuple[str, str]]" = queue.Queue()
        self.events: list[tuple[str, str]] = []

    def callback(self, kind: str) -> Callable[[object, str], None]:
        return lambda _api, gid: self._queue.put((kind, gid))

    def until(self, kind: str, gid: str, timeout: float = 20) -> None:
        """Waits until `kind` has been heard for `gid`."""
        deadline = time.monotonic() + timeout
        while (kind, gid) not in self.events:
            left = deadline - time.monotonic()
            try:
                self.events.append(self._queue.get(timeout=max(left, 0)))
            except queue.Empty:
                raise AssertionError(f"heard no {kind} for {gid} in {timeout} s: {self.events}")

    def of(self, gid: str) -> list[str]:
        """The kinds heard so far for `gid`, in order."""
        return [kind for kind, heard in self.events if heard == gid]
