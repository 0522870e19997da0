// Remote daemons: HTTPS and WSS with a throwaway CA passed as `ca` (calls, `on`, and an event
// stream that reconnects through a proxy), the refusal without it, and `unix:` URLs against a
// daemon listening on a unix socket (skipped when the haul binary cannot).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, afterEach, before, describe, test, type TestContext } from "node:test";

import WebSocket from "ws";

import { Client, connectLocal, TransportError, type Events, type StreamEvent } from "../src/index.js";
import type { WebSocketConstructor } from "../src/runtime.js";
import { Certificates, Daemon, FileServer, Proxy } from "./support.js";

const run = promisify(execFile);

let files: FileServer;
/** What each test started, stopped after it whether it passed or not. */
const started: { stop(): unknown }[] = [];
const clients: Client[] = [];

before(async () => {
  files = await FileServer.start();
});
after(() => files?.stop());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const s of started.splice(0).reverse()) await s.stop();
});

function client(url: string, options: ConstructorParameters<typeof Client>[1]): Client {
  const client = new Client(url, options);
  clients.push(client);
  return client;
}

/** The stream's next notification of `method` about `gid`, or a failure after 30 s. */
async function next(events: Events, method: string, gid: string): Promise<StreamEvent> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no ${method} of ${gid} within 30 s`)), 30_000);
  });
  const found = (async () => {
    for (;;) {
      const item = await events.next();
      if (item.done) throw new Error("the stream ended");
      const event = item.value;
      if (event.method !== "resync" && event.method === method && "gid" in event.params && event.params.gid === gid) return event;
    }
  })();
  try {
    return await Promise.race([found, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const UNTRUSTED =
  /its TLS certificate is not trusted \((unable to verify the first certificate|unable to get local issuer certificate)\)\nhint: pass the certificate of the CA that signed it as the `ca` option, or name its file in NODE_EXTRA_CA_CERTS$/;

describe("over TLS", () => {
  let certificates: Certificates;
  let daemon: Daemon;
  before(async () => {
    certificates = Certificates.make();
    daemon = await Daemon.start(certificates.flags);
  });
  after(async () => {
    await daemon?.stop();
    certificates?.remove();
  });

  test("a client given the daemon's CA calls over https and receives notifications over wss", async () => {
    assert.match(daemon.url, /^https:/);
    const haul = client(daemon.url, { token: daemon.token, ca: certificates.caPem });
    assert.match((await haul.systemGetVersion()).version, /^\d+\.\d+\.\d+/);

    const events = haul.events();
    await events.ready();
    assert.equal(events.mode, "websocket");
    let started!: (gid: string) => void;
    const onStarted = new Promise<string>((ok) => (started = ok));
    await haul.on("download.started", (e) => started(e.gid));
    const { gid } = await haul.downloadAdd({ url: files.url(64 << 10), fileName: "tls.bin" });
    assert.equal(await onStarted, gid, "on() receives it over the client's wss connection");
    await next(events, "download.started", gid);
    await next(events, "download.complete", gid);
  });

  test("a wss:// client URL calls over the WebSocket with the CA, given as bytes", async () => {
    const haul = client(daemon.wsUrl, { token: daemon.token, ca: Buffer.from(certificates.caPem) });
    const { gid } = await haul.downloadAdd({ url: files.url(1 << 10), paused: true, fileName: "wss.bin" });
    assert.equal((await haul.downloadStatus({ gid })).state, "paused");
  });

  test("the event stream reconnects over wss with the CA after the connection drops", async () => {
    const proxy = await Proxy.start(daemon.addr, { opaque: true });
    started.push(proxy);
    const direct = client(daemon.url, { token: daemon.token, ca: certificates.caPem });
    const events = client(proxy.url.replace("http:", "https:"), { token: daemon.token, ca: certificates.caPem }).events({
      maxBackoffMs: 200,
    });
    await events.ready();
    const first = await direct.downloadAdd({ url: files.url(1 << 10), fileName: "before.bin" });
    await next(events, "download.complete", first.gid);
    proxy.cut();
    // Added after the cut: only a new connection, which must trust the CA too, can tell of it.
    const second = await direct.downloadAdd({ url: files.url(1 << 10), fileName: "after.bin" });
    await next(events, "download.started", second.gid);
    await next(events, "download.complete", second.gid);
    assert.equal(events.mode, "websocket");
  });

  test("without the CA, calls and the event stream are refused: the certificate is not trusted", async () => {
    const haul = client(daemon.url, { token: daemon.token });
    await assert.rejects(haul.systemGetVersion(), (e: unknown) => {
      assert.ok(e instanceof TransportError, String(e));
      assert.equal(e.message.split(": ")[0], `cannot reach the haul daemon at ${daemon.url}`);
      assert.match(e.message, UNTRUSTED);
      return true;
    });
    // Whichever WebSocket this Node has (a global one does not say why it failed, HTTP then does)…
    await assert.rejects(haul.events().ready(), (e: unknown) => e instanceof TransportError && UNTRUSTED.test(e.message));
    // …and the ws package, which says so itself.
    const ws = client(daemon.url, { token: daemon.token, WebSocket: WebSocket as unknown as WebSocketConstructor });
    await assert.rejects(ws.events().ready(), (e: unknown) => {
      assert.ok(e instanceof TransportError, String(e));
      assert.equal(e.message.split(": ")[0], `cannot open a WebSocket to ${daemon.wsUrl}`);
      assert.match(e.message, UNTRUSTED);
      return true;
    });
  });

  test("without ca, Node trusts the CA that NODE_EXTRA_CA_CERTS names, for calls and the event stream", async () => {
    // Node reads the variable at startup, so it takes a process of its own.
    const script = `
      import { Client } from ${JSON.stringify(new URL("../src/index.js", import.meta.url).href)};
      const client = new Client(process.env.URL, { token: process.env.TOKEN });
      const { version } = await client.systemGetVersion();
      const events = client.events();
      await events.ready();
      console.log(JSON.stringify({ version, mode: events.mode }));
      await client.close();`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, URL: daemon.url, TOKEN: daemon.token, NODE_EXTRA_CA_CERTS: certificates.ca },
    });
    const { version, mode } = JSON.parse(stdout) as { version: string; mode: string };
    assert.match(version, /^\d+\.\d+\.\d+/);
    assert.equal(mode, "websocket");
  });

  test("connectLocal trusts the CA that HAUL_RPC_CA_CERTIFICATE names", async () => {
    const saved = { ...process.env };
    const dir = mkdtempSync(join(tmpdir(), "haul-ca-"));
    try {
      const { writeFileSync } = await import("node:fs");
      writeFileSync(join(dir, "ca.pem"), certificates.caPem);
      process.env.HAUL_URL = daemon.url;
      process.env.HAUL_RPC_SECRET = daemon.token;
      process.env.HAUL_RPC_CA_CERTIFICATE = join(dir, "ca.pem");
      const haul = await connectLocal();
      clients.push(haul);
      assert.match((await haul.systemGetVersion()).version, /^\d+\.\d+\.\d+/);
    } finally {
      for (const name of ["HAUL_URL", "HAUL_RPC_SECRET", "HAUL_RPC_CA_CERTIFICATE"]) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("another CA is not trusted either", async () => {
    const other = Certificates.make();
    try {
      const haul = client(daemon.url, { token: daemon.token, ca: other.caPem });
      await assert.rejects(haul.systemGetVersion(), (e: unknown) => e instanceof TransportError && UNTRUSTED.test(e.message));
      await assert.rejects(haul.events().ready(), (e: unknown) => e instanceof TransportError && UNTRUSTED.test(e.message));
    } finally {
      other.remove();
    }
  });
});

test("a ca that is a file's path rather than its contents is refused with a hint", () => {
  assert.throws(() => new Client("https://127.0.0.1:6801/jsonrpc", { token: "t", ca: "/etc/haul/ca.pem" }), {
    name: "TypeError",
    message:
      'invalid ca `/etc/haul/ca.pem`: not a PEM certificate (no "-----BEGIN CERTIFICATE-----")\n' +
      'hint: pass the file\'s contents, e.g. readFileSync("ca.pem"), not its path',
  });
});

test("a unix: URL without an absolute socket path is refused", () => {
  assert.throws(() => new Client("unix:haul.sock", { token: "t" }), {
    name: "TypeError",
    message: "invalid daemon url `unix:haul.sock`: a unix: URL takes an absolute socket path, e.g. unix:/run/haul/haul.sock",
  });
  assert.throws(
    () => new Client("unix:/run/haul.sock", { token: "t", WebSocket: WebSocket as unknown as WebSocketConstructor }),
    /^TypeError: the `WebSocket` option cannot be combined with a unix: URL \(`unix:\/run\/haul.sock`\)/,
  );
});

describe("over a unix socket", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "haul-ts-unix-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A daemon also listening on a unix socket, or undefined (the test skipped) when this binary cannot. */
  async function unixDaemon(t: TestContext, name: string): Promise<Daemon | undefined> {
    const socket = join(dir, name);
    try {
      const daemon = await Daemon.start(["--listen", `unix:${socket}`]);
      started.push(daemon);
      assert.deepEqual(daemon.unixUrls, [`unix:${socket}`]);
      return daemon;
    } catch (e) {
      // An older haul takes one --listen, and only HOST:PORT.
      const refusal = /error: (invalid value 'unix:[^']*' for '--listen|the argument '--listen)[^\n]*/.exec((e as Error).message);
      if (!refusal) throw e;
      t.skip(`${process.env.HAUL_BIN ?? "the haul binary"} has no unix sockets: ${refusal[0]}`);
      return undefined;
    }
  }

  test("a unix: URL calls over HTTP on the socket and streams notifications over its WebSocket", async (t) => {
    const daemon = await unixDaemon(t, "calls.sock");
    if (!daemon) return;
    const url = daemon.unixUrls[0]!;
    const haul = client(url, { token: daemon.token });
    assert.equal(haul.wsUrl, url);
    assert.match((await haul.systemGetVersion()).version, /^\d+\.\d+\.\d+/);
    const events = haul.events();
    await events.ready();
    let started!: (gid: string) => void;
    const onStarted = new Promise<string>((ok) => (started = ok));
    await haul.on("download.started", (e) => started(e.gid));
    const { gid } = await haul.downloadAdd({ url: files.url(64 << 10), fileName: "unix.bin" });
    assert.equal(await onStarted, gid);
    await next(events, "download.started", gid);
    await next(events, "download.complete", gid);
  });

  test("connectLocal takes a unix: HAUL_URL; a socket nobody listens on is a transport error", async (t) => {
    const daemon = await unixDaemon(t, "local.sock");
    if (!daemon) return;
    const saved = { url: process.env.HAUL_URL, secret: process.env.HAUL_RPC_SECRET };
    process.env.HAUL_URL = daemon.unixUrls[0];
    process.env.HAUL_RPC_SECRET = daemon.token;
    try {
      const haul = await connectLocal();
      clients.push(haul);
      assert.equal(haul.url, daemon.unixUrls[0]);
      assert.ok((await haul.systemGetVersion()).version);
    } finally {
      for (const [name, value] of [["HAUL_URL", saved.url], ["HAUL_RPC_SECRET", saved.secret]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    const missing = `unix:${join(dir, "nobody.sock")}`;
    await assert.rejects(client(missing, { token: daemon.token }).systemGetVersion(), {
      name: "TransportError",
      message: `cannot reach the haul daemon at ${missing}: ENOENT`,
    });
  });
});
