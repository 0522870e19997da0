"""The test support: a real `haul daemon` process (over HTTPS with a
throwaway CA, or also on a unix socket, when asked), a local HTTP file
server that serves registered bytes with Range support and an ETag,
optionally throttled per connection, and a TCP proxy that breaks
connections on demand."""

import hashlib
import json
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any, Optional
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[3]
LISTENING = re.compile(r"listening on (https?://\S+) \(WebSocket (wss?://\S+)\)")
UNIX_LISTENING = re.compile(r"listening on (unix:\S+)")
CHUNK = 16 * 1024
FORBIDDEN = (
    b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
)


def document() -> dict[str, Any]:
    """The repository's openrpc.json."""
    with open(REPO / "openrpc.json", encoding="utf-8") as f:
        loaded: dict[str, Any] = json.load(f)
    return loaded


class Daemon:
    """A running `haul daemon` on fresh directories; `stop` sends SIGTERM,
    `restart` starts it again on the same state."""

    def __init__(
        self,
        directory: Path,
        flags: tuple[str, ...],
        token: Optional[str],
        state: Optional[Path] = None,
    ) -> None:
        self.directory = directory
        self.flags = flags
        self.root = directory / "downloads"
        self.state = directory / "state" if state is None else state
        self._given = token
        self._launch()
        self.token = (
            (self.state / "rpc-secret").read_text().strip() if token is None else token
        )

    @staticmethod
    def start(directory: Path, *flags: str) -> "Daemon":
        """Starts the daemon (`HAUL_BIN`, default target/debug/haul) on
        127.0.0.1:<free port> with a random token and these extra flags."""
        return Daemon(directory, flags, secrets.token_hex(32))

    @staticmethod
    def start_generated(directory: Path, state: Path) -> "Daemon":
        """Starts the daemon as a user's runs: without `--rpc-secret`, so it
        generates its token into `state`, where `Client.local()` can find it."""
        return Daemon(directory, (), None, state)

    @property
    def addr(self) -> str:
        """Where it listens: `127.0.0.1:<port>`."""
        return urlsplit(self.url).netloc

    def restart(self) -> int:
        """Stops the daemon and starts it again on the same directories, token
        and flags (on a new port); the stopped one's exit status."""
        status = self.stop()
        self._launch()
        return status

    def stop(self) -> int:
        """SIGTERM, then the exit status."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            # The drains end at the end of the output.
            self.drain.join(timeout=5)
            self.errors.join(timeout=5)
            if self.process.stdout is not None:
                self.process.stdout.close()
            if self.process.stderr is not None:
                self.process.stderr.close()

    def _launch(self) -> None:
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
            str(self.root),
            "--state-dir",
            str(self.state),
            *(() if self._given is None else ("--rpc-secret", self._given)),
            "--retry-wait",
            "10ms",
            "--max-tries",
            "3",
            *self.flags,
        ]
        process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
        )
        lines: queue.Queue[Optional[str]] = queue.Queue()
        assert process.stdout is not None and process.stderr is not None
        drain = threading.Thread(
            target=_drain, args=(process.stdout, lines), daemon=True
        )
        drain.start()
        # Its stderr is passed on, and kept to say why it exited (a flag this
        # binary does not know).
        self.stderr: list[str] = []
        errors = threading.Thread(
            target=_forward, args=(process.stderr, self.stderr), daemon=True
        )
        errors.start()
        # One line per listener: TCP first, then each unix socket asked for.
        sockets = [
            value
            for flag, value in zip(self.flags, self.flags[1:])
            if flag == "--listen" and value.startswith("unix:")
        ]
        said: list[Optional[str]] = []
        for _ in range(1 + len(sockets)):
            try:
                said.append(lines.get(timeout=20))
            except queue.Empty:
                said.append(None)
            if said[-1] is None:
                break
        found = LISTENING.search(said[0] or "")
        unix = [UNIX_LISTENING.search(line or "") for line in said[1:]]
        if found is None or len(unix) != len(sockets) or None in unix:
            process.kill()
            process.wait()
            errors.join(timeout=5)
            raise RuntimeError(
                f"the daemon did not say where it listens: {said!r}; "
                f"its stderr: {''.join(self.stderr).strip()}"
            )
        self.url, self.ws_url = found[1], found[2]
        self.unix_urls = [m[1] for m in unix if m is not None]
        """The `unix:/…` URL of each unix socket it listens on."""
        self.process = process
        self.drain = drain
        self.errors = errors


def _drain(stdout: IO[str], lines: "queue.Queue[Optional[str]]") -> None:
    """Keeps reading the daemon's stdout so that it never blocks on it."""
    for line in stdout:
        lines.put(line)
    lines.put(None)


def _forward(stderr: IO[str], kept: list[str]) -> None:
    """Passes the daemon's stderr on, keeping a copy. To file descriptor 2,
    as when the daemon wrote there itself: pytest captures it per test, and
    unlike `sys.stderr` it is never closed under a thread still writing."""
    for line in stderr:
        kept.append(line)
        os.write(2, line.encode())


class Certificates:
    """A throwaway CA and a server certificate it signed for 127.0.0.1 and
    localhost (EC P-256, valid for a day), made in `directory` with the
    openssl CLI: `flags` serve HTTPS and WSS with them, `ca` is the CA's PEM
    file a client trusts."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.ca = directory / "ca.pem"
        self.cert = directory / "cert.pem"
        self.key = directory / "key.pem"
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        ca_key, csr, ext = (directory / n for n in ("ca.key", "server.csr", "server.ext"))
        _openssl(
            "req", "-x509", *ec, "-keyout", ca_key, "-out", self.ca, "-days", "1",
            "-subj", "/CN=haul test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip
        _openssl("req", *ec, "-keyout", self.key, "-out", csr, "-subj", "/CN=localhost")
        ext.write_text(
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
            "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
        )
        _openssl(
            "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", ca_key,
            "-CAcreateserial", "-out", self.cert, "-days", "1", "-extfile", ext,
        )  # fmt: skip

    @property
    def flags(self) -> tuple[str, ...]:
        """The daemon flags that serve HTTPS and WSS with this certificate."""
        return ("--rpc-certificate", str(self.cert), "--rpc-private-key", str(self.key))


def _openssl(*args: "str | Path") -> None:
    subprocess.run(
        ["openssl", *map(str, args)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


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


class Proxy:
    """A TCP proxy on 127.0.0.1 in front of a daemon, for clients that must
    survive the network: it cuts every open connection on demand, follows a
    restarted daemon to its new address, closes connections at once while
    down, and can refuse WebSocket upgrades like a proxy that does not speak
    WebSocket. Threads relay the bytes, so a test blocking its event loop
    does not stall them. An `opaque` one relays bytes without reading a
    request head (TLS has none in clear), so it cannot refuse upgrades."""

    def __init__(self, target: str, opaque: bool = False) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._target = target
        self._opaque = opaque
        self._down = False
        self._refuse_upgrades = False
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.accepted = 0
        """Connections accepted so far."""
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}/jsonrpc"

    def cut(self) -> None:
        """Drops every open connection, both ways."""
        with self._lock:
            cut, self._open = self._open, set()
        for sock in cut:
            _shut(sock)

    def set_down(self, down: bool) -> None:
        """While down, connections are accepted and closed at once."""
        self._down = down
        if down:
            self.cut()

    def retarget(self, target: str) -> None:
        """Relays new connections to `target` (`host:port`)."""
        self._target = target

    def refuse_upgrades(self, refuse: bool) -> None:
        """Answers WebSocket upgrade requests with 403 instead of relaying them."""
        self._refuse_upgrades = refuse

    def close(self) -> None:
        _shut(self._listener)
        self._listener.close()
        self.cut()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        with client:
            if self._down:
                return
            head = b""
            while not self._opaque and b"\r\n\r\n" not in head and len(head) < 64 * 1024:
                chunk = _receive(client)
                if not chunk:
                    return
                head += chunk
            if self._refuse_upgrades and b"upgrade: websocket" in head.lower():
                client.sendall(FORBIDDEN)
                return
            host, port = self._target.rsplit(":", 1)
            try:
                server = socket.create_connection((host, int(port)), timeout=5)
            except OSError:
                return
            with server:
                server.settimeout(None)
                with self._lock:
                    self._open.update((client, server))
                back = threading.Thread(
                    target=_pump, args=(server, client), daemon=True
                )
                back.start()
                try:
                    server.sendall(head)
                except OSError:
                    pass
                else:
                    _pump(client, server)
                back.join()
                with self._lock:
                    self._open.difference_update((client, server))


def _receive(sock: socket.socket) -> bytes:
    """The next bytes, or b"" at the end (or on an error)."""
    try:
        return sock.recv(CHUNK)
    except OSError:
        return b""


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copies until either side ends, then ends both: a relay that stops
    either way stops both ways."""
    while True:
        data = _receive(source)
        if not data:
            break
        try:
            sink.sendall(data)
        except OSError:
            break
    _shut(source)
    _shut(sink)


def _shut(sock: socket.socket) -> None:
    """Ends both directions; a thread blocked reading it wakes up."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
