// Test support: a real `haul daemon` with its aria2-compatible port on fresh
// directories, a loopback HTTP file server with Range support and optional
// throttling, and a poll-until helper.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const ARIA2_LISTENING = /^aria2-compatible RPC listening on http:\/\/127\.0\.0\.1:(\d+)\/jsonrpc /;

/** The bytes the file server serves for a file of `size` bytes: a 251-byte cycle, so that a range written at the wrong offset shows. */
export function content(size) {
  if (!contents.has(size)) {
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bytes[i] = i % 251;
    contents.set(size, bytes);
  }
  return contents.get(size);
}
const contents = new Map();

/** Polls `probe` every 50 ms until it returns something truthy, and returns it. */
export async function until(what, probe, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting until ${what}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/** `haul daemon` (HAUL_BIN) on 127.0.0.1 with `--aria2-listen 127.0.0.1:0`, a random aria2 secret and `extra` flags. */
export class Daemon {
  constructor(child, dir, port, secret) {
    Object.assign(this, { child, dir, port, secret });
    this.root = join(dir, "downloads");
  }

  get url() {
    return `http://127.0.0.1:${this.port}/jsonrpc`;
  }

  get wsUrl() {
    return `ws://127.0.0.1:${this.port}/jsonrpc`;
  }

  static async start(extra = []) {
    const dir = mkdtempSync(join(tmpdir(), "haul-aria2-"));
    const secret = randomBytes(16).toString("hex");
    const bin = process.env.HAUL_BIN ?? join(repo, "target/debug/haul");
    const child = spawn(
      bin,
      ["daemon", "--listen", "127.0.0.1:0", "--dir", join(dir, "downloads"), "--state-dir", join(dir, "state"),
        "--aria2-listen", "127.0.0.1:0", "--aria2-secret", secret, ...extra],
      { env: { ...process.env, HAUL_LOG: "warn" }, stdio: ["ignore", "pipe", "inherit"] },
    );
    const port = await new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`${bin} did not say where its aria2 port listens within 20 s`)), 20_000);
      createInterface({ input: child.stdout }).on("line", (line) => {
        const found = ARIA2_LISTENING.exec(line);
        if (found) (clearTimeout(timer), ok(Number(found[1])));
      });
      child.once("exit", (code) => fail(new Error(`${bin} exited with ${code} before listening`)));
      child.once("error", (e) => fail(new Error(`cannot start ${bin}: ${e.message} (set HAUL_BIN)`)));
    });
    return new Daemon(child, dir, port, secret);
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((ok) => this.child.once("exit", ok));
      this.child.kill("SIGTERM");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Serves `/file/<size>` as `content(size)`, with ranges; `?rate=<bytes/s>` throttles each connection. */
export class FileServer {
  constructor(server, port) {
    Object.assign(this, { server, port });
  }

  static async start() {
    const server = createServer((req, res) => {
      const url = new URL(req.url, "http://x");
      const found = /^\/file\/(\d+)$/.exec(url.pathname);
      if (!found) return void res.writeHead(404).end();
      const size = Number(found[1]);
      const rate = Number(url.searchParams.get("rate") ?? 0);
      let [start, end] = [0, size - 1];
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
      if (range) {
        start = Number(range[1]);
        end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
        res.writeHead(206, { "content-range": `bytes ${start}-${end}/${size}`, "content-length": end - start + 1, "accept-ranges": "bytes" });
      } else {
        res.writeHead(200, { "content-length": size, "accept-ranges": "bytes" });
      }
      if (req.method === "HEAD") return void res.end();
      const body = content(size);
      const chunk = 16 * 1024;
      let at = start;
      const send = () => {
        while (at <= end && !res.destroyed) {
          const piece = body.subarray(at, Math.min(at + chunk, end + 1));
          at += piece.length;
          const drained = res.write(piece);
          if (rate > 0) return void setTimeout(send, (piece.length / rate) * 1000);
          if (!drained) return void res.once("drain", send);
        }
        res.end();
      };
      // The daemon hangs up on a pause, a removal or its own stop.
      res.on("error", () => {});
      send();
    });
    await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
    return new FileServer(server, server.address().port);
  }

  url(size, rate = 0) {
    return `http://127.0.0.1:${this.port}/file/${size}${rate ? `?rate=${rate}` : ""}`;
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((ok) => this.server.close(ok));
  }
}
