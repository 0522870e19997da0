#!/usr/bin/env bash
# The SDK polling fallback's traffic (issue #14), for a daemon keeping 1,000
# downloads (10 active, one connection each from a throttled loopback nginx,
# 990 queued behind them): requests and bytes on the wire per minute, for the
# fallback as the SDKs had it (every interval, every download's status from download.list,
# pages of 1,000, diffed on the client) and as they have it now
# (events.poll since the last seq: only what happened). Both poll once a
# second, side by side against the same daemon, for POLL_SECS (default 60).
# Not a test: numbers vary by machine.
#
#   bench/polling.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
SECRET=bench-secret-0123456789
PORT=6913
need nginx nginx
build_haul

mkdir -p "$work/www"
head -c $((256 * 1024 * 1024)) /dev/zero >"$work/www/big.bin"
chmod 644 "$work"/www/*
start_nginx <<CONF
  server { listen 127.0.0.1:39192; root $work/www; limit_rate 256k; }
CONF

"$haul" daemon --listen "127.0.0.1:$PORT" --dir "$work/dl" --state-dir "$work/state" \
  --rpc-secret "$SECRET" --max-concurrent 10 --max-batch 1000 >/dev/null 2>"$work/haul.err" &
pids+=($!)
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done

python3 - "127.0.0.1" "$PORT" "$SECRET" "${POLL_SECS:-60}" <<'PY'
import json, socket, sys, threading, time

host, port, secret, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])

class Wire:
    """A keep-alive HTTP/1.1 connection that counts every byte both ways."""
    def __init__(self):
        self.sock = socket.create_connection((host, port))
        self.buf = b""
        self.requests = self.sent = self.received = self.notifications = self.largest = self.resync = 0
        self.kinds = {}
        self.active = 0
    def call(self, method, params):
        body = json.dumps({"jsonrpc": "2.0", "id": self.requests, "method": method, "params": params}).encode()
        head = (f"POST /jsonrpc HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {secret}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        self.sock.sendall(head + body)
        self.requests += 1
        self.sent += len(head) + len(body)
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        headers, self.buf = self.buf.split(b"\r\n\r\n", 1)
        length = next(int(l.split(b":")[1]) for l in headers.split(b"\r\n") if l.lower().startswith(b"content-length:"))
        while len(self.buf) < length:
            self.buf += self.sock.recv(65536)
        answer, self.buf = self.buf[:length], self.buf[length:]
        self.received += len(headers) + 4 + length
        reply = json.loads(answer)
        if "error" in reply:
            raise SystemExit(f"{method}: {reply['error']}")
        return reply["result"]

setup = Wire()
for start in range(0, 1000, 500):
    for i in range(start, start + 500):
        setup.call("download.add", {"url": "http://127.0.0.1:39192/big.bin", "fileName": f"{i}.bin", "connections": 1})
time.sleep(3)  # the first ten are running

def list_all(wire):
    downloads = []
    while True:
        page = wire.call("download.list", {"offset": len(downloads), "limit": 1000})
        downloads += page["downloads"]
        if not page["downloads"] or len(downloads) >= page["total"]:
            return downloads

def before(wire, stop):
    """The old fallback: every download's status, every interval."""
    while not stop.is_set():
        wire.active = sum(d["state"] == "active" for d in list_all(wire))
        stop.wait(1)

def after(wire, stop):
    """The fallback now: list once, then only what happened since."""
    list_all(wire)
    where = wire.call("events.poll", {})
    wire.resync = wire.sent + wire.received
    wire.requests = wire.sent = wire.received = 0
    since, stream = where["next"], where["streamId"]
    while not stop.wait(1):
        got = wire.call("events.poll", {"since": since, "streamId": stream})
        since = got["next"]
        wire.notifications += len(got["notifications"])
        for n in got["notifications"]:
            wire.kinds[n["method"]] = wire.kinds.get(n["method"], 0) + 1
        wire.largest = max(wire.largest, len(json.dumps(got)))

results = {}
stop = threading.Event()
wires = {"before (download.list each second)": Wire(), "after (events.poll each second)": Wire()}
threads = [threading.Thread(target=f, args=(w, stop)) for f, w in zip((before, after), wires.values())]
for t in threads: t.start()
time.sleep(secs)
stop.set()
for t in threads: t.join()
per_min = 60 / secs
print(f"1,000 downloads, {wires[next(iter(wires))].active} active, the rest queued behind them")
print(f"{'polled once a second':52} {'requests/min':>12} {'KiB/min':>10}")
for name, w in wires.items():
    print(f"{name:52} {w.requests * per_min:12.0f} {(w.sent + w.received) * per_min / 1024:10.0f}")
b, a = wires.values()
print(f"{'ratio after/before (bytes)':52} {'':12} {(a.sent + a.received) / (b.sent + b.received):10.4f}")
print(f"after: {a.notifications * per_min:.0f} notifications/min {a.kinds}, largest answer {a.largest} bytes;"
      f" once, before its first poll: {a.resync / 1024:.0f} KiB to list the downloads")
PY
