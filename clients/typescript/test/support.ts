// Test support: a real `haul daemon` on 127.0.0.1:0 with temporary
// directories, a local HTTP file server with Range support and throttling, and
// a TCP proxy that cuts connections, goes down, follows a restarted daemon and
// refuses WebSocket upgrades.

import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
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
    private readonly extra: string[],
  ) {}

  get url(): string {
    return `http://${this.addr}/jsonrpc`;
  }

  get wsUrl(): string {
    return `ws://${this.addr}/jsonrpc/ws`;
  }

  static start(extra: string[] = []): Promise<Daemon> {
    return Daemon.#spawn(mkdtempSync(join(tmpdir(), "haul-ts-")), randomBytes(32).toString("hex"), extra);
  }

  /**
   * Starts a daemon as a user's runs: no --rpc-secret, so it generates its token into `stateDir`
   * (which a test points `connectLocal` at), and the token is read from there.
   */
  static startGenerated(stateDir: string): Promise<Daemon> {
    return Daemon.#spawn(mkdtempSync(join(tmpdir(), "haul-ts-")), undefined, [], stateDir);
  }

  /** Stops the daemon (SIGTERM) and starts it again on the same directories and token, on a new port. */
  async restart(): Promise<Daemon> {
    await this.#terminate();
    return Daemon.#spawn(this.dir, this.token, this.extra);
  }

  static async #spawn(
    dir: string,
    token: string | undefined,
    extra: string[],
    stateDir = join(dir, "state"),
  ): Promise<Daemon> {
    const bin = process.env.HAUL_BIN ?? join(repo, "target/debug/haul");
    const env: NodeJS.ProcessEnv = { ...process.env, HAUL_LOG: "warn" };
    delete env.HAUL_RPC_SECRET;
    const child = spawn(
      bin,
      ["daemon", "--listen", "127.0.0.1:0", "--dir", join(dir, "downloads"), "--state-dir", stateDir,
        ...(token === undefined ? [] : ["--rpc-secret", token]), "--retry-wait", "10ms", "--max-tries", "3", ...extra],
      { env, stdio: ["ignore", "pipe", "inherit"] },
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
    token ??= readFileSync(join(stateDir, "rpc-secret"), "utf8").trim();
    return new Daemon(child, addr, token, dir, extra);
  }

  async stop(): Promise<void> {
    await this.#terminate();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #terminate(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((ok) => this.child.once("exit", ok));
      this.child.kill("SIGTERM");
      await exited;
    }
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

/**
 * A TCP proxy in front of a daemon, for clients that must survive the network: `cut()` drops every
 * open connection, `freeze()` silently stops relaying them, `setDown(true)` also closes new ones at once, `retarget` follows a restarted
 * daemon, and `refuseUpgrades(true)` answers WebSocket upgrades with 403 like a proxy that does
 * not speak WebSocket.
 */
export class Proxy {
  readonly #open = new Set<Socket>();
  readonly #frozen = new Set<Socket>();
  #down = false;
  #refuseUpgrades = false;

  private constructor(
    private readonly server: TcpServer,
    readonly addr: string,
    private target: string,
  ) {
    server.on("connection", (client) => this.#relay(client));
  }

  static async start(target: string): Promise<Proxy> {
    const server = createTcpServer();
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const port = (server.address() as { port: number }).port;
    return new Proxy(server, `127.0.0.1:${port}`, target);
  }

  get url(): string {
    return `http://${this.addr}/jsonrpc`;
  }

  /** Drops every open connection, both ways. */
  cut(): void {
    for (const socket of this.#open) socket.destroy();
    this.#open.clear();
  }

  /** Stops relaying on every open connection without closing it: a network that vanished silently. */
  freeze(): void {
    for (const socket of this.#open) {
      socket.unpipe();
      socket.pause();
      this.#frozen.add(socket);
    }
    this.#open.clear();
  }

  setDown(down: boolean): void {
    this.#down = down;
    if (down) this.cut();
  }

  retarget(target: string): void {
    this.target = target;
  }

  refuseUpgrades(refuse: boolean): void {
    this.#refuseUpgrades = refuse;
  }

  async stop(): Promise<void> {
    this.cut();
    for (const socket of this.#frozen) socket.destroy();
    await new Promise((ok) => this.server.close(ok));
  }

  #relay(client: Socket): void {
    client.on("error", () => {});
    if (this.#down) {
      client.destroy();
      return;
    }
    this.#open.add(client);
    client.on("close", () => this.#open.delete(client));
    // The request head, to see whether it asks for an upgrade.
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (!head.includes("\r\n\r\n") && head.length < 64 << 10) return;
      client.off("data", onData);
      client.pause();
      if (this.#refuseUpgrades && /^upgrade:\s*websocket/im.test(head.toString("latin1"))) {
        client.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        return;
      }
      const [host, port] = this.target.split(":") as [string, string];
      const upstream = connect(Number(port), host);
      this.#open.add(upstream);
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => (this.#open.delete(upstream), client.destroy()));
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    };
    client.on("data", onData);
  }
}
