"""The test support: a real `haul daemon` process and a local HTTP file
server that serves registered bytes with Range support and an ETag,
optionally throttled per connection."""

import hashlib
import json
import os
import queue
import re
import secrets
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any, Optional

REPO = Path(__file__).resolve().parents[3]
LISTENING = re.compile(r"listening on (http://\S+) \(WebSocket (ws://\S+)\)")
CHUNK = 16 * 1024


def document() -> dict[str, Any]:
    """The repository's openrpc.json."""
    with open(REPO / "openrpc.json", encoding="utf-8") as f:
        loaded: dict[str, Any] = json.load(f)
    return loaded


@dataclass(frozen=True)
class Daemon:
    """A running `haul daemon` on fresh directories; `stop` sends SIGTERM."""

    url: str
    ws_url: str
    token: str
    root: Path
    process: "subprocess.Popen[str]"
    drain: threading.Thread

    @staticmethod
    def start(directory: Path) -> "Daemon":
        """Starts the daemon (`HAUL_BIN`, default target/debug/haul) on
        127.0.0.1:<free port> with a random token."""
        token = secrets.token_hex(32)
        root = directory / "downloads"
        env = {
            name: value
            for name, value in os.environ.items()
            if name != "HAUL_RPC_SECRET"
        }
        env["HAUL_LOG"] = "warn"
        binary = os.environ.get("HAUL_BIN", str(REPO / "target" / "debug" / "haul"))
        args = [
            binary,
            "daemon",
            "--listen",
            "127.0.0.1:0",
            "--dir",
            str(root),
            "--state-dir",
            str(directory / "state"),
            "--rpc-secret",
            token,
            "--retry-wait",
            "10ms",
            "--max-tries",
            "3",
        ]
        process = subprocess.Popen(args, stdout=subprocess.PIPE, env=env, text=True)
        lines: queue.Queue[Optional[str]] = queue.Queue()
        assert process.stdout is not None
        drain = threading.Thread(
            target=_drain, args=(process.stdout, lines), daemon=True
        )
        drain.start()
        try:
            first = lines.get(timeout=20)
        except queue.Empty:
            first = None
        found = LISTENING.search(first or "")
        if found is None:
            process.kill()
            process.wait()
            raise RuntimeError(f"the daemon did not say where it listens: {first!r}")
        return Daemon(found[1], found[2], token, root, process, drain)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            # The drain ends at the end of the output.
            self.drain.join(timeout=5)
            if self.process.stdout is not None:
                self.process.stdout.close()


def _drain(stdout: IO[str], lines: "queue.Queue[Optional[str]]") -> None:
    """Keeps reading the daemon's stdout so that it never blocks on it."""
    for line in stdout:
        lines.put(line)
    lines.put(None)


class FileServer:
    """Serves `add`ed files on 127.0.0.1 from a thread until `close`."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def add(self, path: str, data: bytes, rate: Optional[int] = None) -> str:
        """Serves `data` at `path`, at most `rate` bytes per second per
        connection when given; returns its URL."""
        self._server.files[path] = (data, rate)
        return self.url(path)

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: "type[_Handler]") -> None:
        super().__init__(address, handler)
        self.files: dict[str, tuple[bytes, Optional[int]]] = {}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_HEAD(self) -> None:
        self._respond(with_body=False)

    def do_GET(self) -> None:
        self._respond(with_body=True)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests assert on what the daemon reports."""

    def _respond(self, with_body: bool) -> None:
        entry = self.server.files.get(self.path)
        if entry is None:
            self._empty(404)
            return
        data, rate = entry
        size = len(data)
        span = self._range(size)
        if span is None:
            self._empty(416, {"Content-Range": f"bytes */{size}"})
            return
        start, end = span
        partial = (start, end) != (0, size - 1)
        self.send_response(206 if partial else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", '"' + hashlib.sha256(data).hexdigest()[:16] + '"')
        self.send_header("Content-Length", str(end - start + 1))
        if partial:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if with_body:
            self._send(data[start : end + 1], rate)

    def _range(self, size: int) -> Optional[tuple[int, int]]:
        """The first and last byte to send; None when the range cannot be met."""
        header = self.headers.get("Range")
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip()) if header else None
        if match is None or not (match[1] or match[2]):
            return (0, size - 1)
        if match[1]:
            start = int(match[1])
            end = min(int(match[2]), size - 1) if match[2] else size - 1
        else:
            start, end = max(0, size - int(match[2])), size - 1
        return (start, end) if start <= end else None

    def _send(self, body: bytes, rate: Optional[int]) -> None:
        try:
            for at in range(0, len(body), CHUNK):
                self.wfile.write(body[at : at + CHUNK])
                if rate:
                    time.sleep(CHUNK / rate)
        except (BrokenPipeError, ConnectionResetError):
            # The daemon paused, removed or rebalanced: it closed the connection.
            self.close_connection = True

    def _empty(self, status: int, headers: Optional[dict[str, str]] = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()
