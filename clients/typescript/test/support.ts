// Test support: a real `haul daemon` on 127.0.0.1:0 with temporary
// directories (over HTTPS with a throwaway CA, or also on a unix socket, when
// asked), a local HTTP file server with Range support and throttling, and a
// TCP proxy that cuts connections, goes down, follows a restarted daemon and
// refuses WebSocket upgrades.

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
    /** "http", or "https" when started with --rpc-certificate. */
    readonly scheme: string,
    /** The `unix:/…` URL of each unix socket it said it listens on. */
    readonly unixUrls: string[],
  ) {}

  get url(): string {
    return `${this.scheme}://${this.addr}/jsonrpc`;
  }

  get wsUrl(): string {
    return `${this.scheme === "https" ? "wss" : "ws"}://${this.addr}/jsonrpc/ws`;
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
      { env, stdio: ["ignore", "pipe", "pipe"] },
    );
    // Its stderr is passed on, and kept to say why it exited (a flag this binary does not know).
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      stderr += chunk.toString();
    });
    // One line per listener: TCP first, then each unix socket asked for.
    const sockets = extra.filter((arg, i) => extra[i - 1] === "--listen" && arg.startsWith("unix:"));
    const lines = createInterface({ input: child.stdout! });
    const said = await new Promise<string[]>((ok, fail) => {
      const seen: string[] = [];
      const timer = setTimeout(() => fail(new Error("the daemon did not say where it listens within 20 s")), 20_000);
      lines.on("line", (line) => {
        seen.push(line);
        if (seen.length === 1 + sockets.length) (clearTimeout(timer), ok(seen));
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        // After the last of its stderr has been read.
        setImmediate(() => fail(new Error(`${bin} exited with ${code} before listening: ${stderr.trim()}`)));
      });
      child.once("error", (e) => (clearTimeout(timer), fail(new Error(`cannot start ${bin}: ${e.message} (set HAUL_BIN, or run \`cargo build\`)`))));
    });
    const [, scheme, addr] = /(https?):\/\/([^/]+)\//.exec(said[0]!) ?? [];
    if (!scheme || !addr) throw new Error(`unexpected first line: ${said[0]}`);
    const unixUrls = said.slice(1).map((line) => /listening on (unix:\S+)/.exec(line)?.[1] ?? `unexpected line: ${line}`);
    token ??= readFileSync(join(stateDir, "rpc-secret"), "utf8").trim();
    return new Daemon(child, addr, token, dir, extra, scheme, unixUrls);
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

/**
 * A throwaway CA and a server certificate it signed for 127.0.0.1 and localhost (EC P-256, valid
 * for a day), made with the openssl CLI in a new temporary directory: `--rpc-certificate cert
 * --rpc-private-key key` serves with them, and `caPem` is what a client trusts.
 */
export class Certificates {
  private constructor(
    readonly dir: string,
    readonly cert: string,
    readonly key: string,
    /** The CA certificate's file, and its PEM text. */
    readonly ca: string,
    readonly caPem: string,
  ) {}

  static make(): Certificates {
    const dir = mkdtempSync(join(tmpdir(), "haul-ts-tls-"));
    const at = (name: string) => join(dir, name);
    const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl("req", "-x509", ...ec, "-keyout", at("ca.key"), "-out", at("ca.pem"), "-days", "1",
      "-subj", "/CN=haul test CA", "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    openssl("req", ...ec, "-keyout", at("key.pem"), "-out", at("server.csr"), "-subj", "/CN=localhost");
    writeFileSync(at("server.ext"),
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
    openssl("x509", "-req", "-in", at("server.csr"), "-CA", at("ca.pem"), "-CAkey", at("ca.key"),
      "-CAcreateserial", "-out", at("cert.pem"), "-days", "1", "-extfile", at("server.ext"));
    return new Certificates(dir, at("cert.pem"), at("key.pem"), at("ca.pem"), readFileSync(at("ca.pem"), "utf8"));
  }

  /** The daemon flags that serve HTTPS and WSS with this certificate. */
  get flags(): string[] {
    return ["--rpc-certificate", this.cert, "--rpc-private-key", this.key];
  }

  remove(): void {
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

/**
 * A TCP proxy in front of a daemon, for clients that must survive the network: `cut()` drops every
 * open connection, `freeze()` silently stops relaying them, `setDown(true)` also closes new ones at once, `retarget` follows a restarted
 * daemon, and `refuseUpgrades(true)` answers WebSocket upgrades with 403 like a proxy that does
 * not speak WebSocket. An `opaque` one relays bytes without reading a request head (TLS has none
 * in clear), so it cannot refuse upgrades.
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
    private readonly opaque: boolean,
  ) {
    server.on("connection", (client) => this.#relay(client));
  }

  static async start(target: string, { opaque = false } = {}): Promise<Proxy> {
    const server = createTcpServer();
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const port = (server.address() as { port: number }).port;
    return new Proxy(server, `127.0.0.1:${port}`, target, opaque);
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
      if (!this.opaque && !head.includes("\r\n\r\n") && head.length < 64 << 10) return;
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
