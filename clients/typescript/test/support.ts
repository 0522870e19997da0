// Test support: a real `haul daemon` on 127.0.0.1:0 with temporary
// directories, and a local HTTP file server with Range support and throttling.

import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

export class Daemon {
  private constructor(
    private readonly child: ChildProcess,
    readonly addr: string,
    readonly token: string,
    readonly dir: string,
  ) {}

  get url(): string {
    return `http://${this.addr}/jsonrpc`;
  }

  get wsUrl(): string {
    return `ws://${this.addr}/jsonrpc/ws`;
  }

  static async start(extra: string[] = []): Promise<Daemon> {
    const dir = mkdtempSync(join(tmpdir(), "haul-ts-"));
    const token = randomBytes(32).toString("hex");
    const bin = process.env.HAUL_BIN ?? join(repo, "target/debug/haul");
    const child = spawn(
      bin,
      ["daemon", "--listen", "127.0.0.1:0", "--dir", join(dir, "downloads"), "--state-dir", join(dir, "state"),
        "--rpc-secret", token, "--retry-wait", "10ms", "--max-tries", "3", ...extra],
      { env: { ...process.env, HAUL_LOG: "warn" }, stdio: ["ignore", "pipe", "inherit"] },
    );
    const lines = createInterface({ input: child.stdout! });
    const first = await new Promise<string>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error("the daemon did not say where it listens within 20 s")), 20_000);
      lines.once("line", (line) => (clearTimeout(timer), ok(line)));
      child.once("exit", (code) => fail(new Error(`${bin} exited with ${code} before listening`)));
      child.once("error", (e) => fail(new Error(`cannot start ${bin}: ${e.message} (set HAUL_BIN, or run \`cargo build\`)`)));
    });
    const addr = /http:\/\/([^/]+)\//.exec(first)?.[1];
    if (!addr) throw new Error(`unexpected first line: ${first}`);
    return new Daemon(child, addr, token, dir);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((ok) => this.child.once("exit", ok));
      this.child.kill("SIGTERM");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Serves `/file/<size>` as deterministic bytes, with ranges; `?rate=<bytes/s>` throttles. */
export class FileServer {
  private constructor(private readonly server: Server, readonly base: string) {}

  static async start(): Promise<FileServer> {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      const size = Number(url.pathname.split("/")[2] ?? "0");
      const rate = Number(url.searchParams.get("rate") ?? "0");
      if (!url.pathname.startsWith("/file/") || !Number.isInteger(size)) {
        res.writeHead(404).end();
        return;
      }
      let [start, end] = [0, size - 1];
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
      if (range) {
        start = Number(range[1]);
        end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
        res.writeHead(206, {
          "content-range": `bytes ${start}-${end}/${size}`,
          "content-length": end - start + 1,
          "accept-ranges": "bytes",
        });
      } else {
        res.writeHead(200, { "content-length": size, "accept-ranges": "bytes" });
      }
      const chunk = 16 * 1024;
      let at = start;
      const send = () => {
        while (at <= end) {
          const n = Math.min(chunk, end - at + 1);
          const buf = Buffer.alloc(n, at % 251);
          at += n;
          if (rate > 0) {
            res.write(buf);
            setTimeout(send, (n / rate) * 1000);
            return;
          }
          if (!res.write(buf)) {
            res.once("drain", send);
            return;
          }
        }
        res.end();
      };
      res.on("error", () => {});
      send();
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const port = (server.address() as { port: number }).port;
    return new FileServer(server, `http://127.0.0.1:${port}`);
  }

  url(size: number, rate = 0): string {
    return `${this.base}/file/${size}${rate ? `?rate=${rate}` : ""}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((ok) => this.server.close(ok));
  }
}

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as { port: number }).port;
  await new Promise((ok) => server.close(ok));
  return port;
}
