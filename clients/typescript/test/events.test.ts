// The reconnecting event stream against a real daemon behind a real TCP proxy: connections
// dropped by either side, a restarted daemon, an absence longer than the replay window, a proxy
// that refuses WebSocket upgrades, filters, and the errors that end a stream.

import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";

import WebSocket from "ws";

import {
  Client,
  ErrorCode,
  HaulError,
  type Events,
  type Notification,
  type StreamEvent,
} from "../src/index.js";
import type { WebSocketConstructor } from "../src/runtime.js";
import { Unread } from "../src/events.js";
import { Daemon, FileServer, Proxy } from "./support.js";

let files: FileServer;
/** What each test started, stopped after it whether it passed or not (an open stream keeps node alive). */
const started: { stop(): unknown; close?: never }[] = [];
const clients: Client[] = [];

before(async () => {
  files = await FileServer.start();
});
after(() => files?.stop());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const s of started.splice(0).reverse()) await s.stop();
});

function client(url: string, token: string, WebSocket?: WebSocketConstructor): Client {
  const client = new Client(url, { token, ...(WebSocket ? { WebSocket } : {}) });
  clients.push(client);
  return client;
}

async function daemon(extra: string[] = []): Promise<Daemon> {
  const daemon = await Daemon.start(extra);
  started.push(daemon);
  return daemon;
}

/** The stream's next item, or a failure after `ms`. */
async function next(events: Events, ms = 30_000): Promise<StreamEvent> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no event within ${ms} ms`)), ms);
  });
  try {
    const item = await Promise.race([events.next(), timeout]);
    if (item.done) throw new Error("the stream ended");
    return item.value;
  } finally {
    clearTimeout(timer);
  }
}

/** The next notification, failing on a resync. */
async function notification(events: Events): Promise<Notification> {
  const event = await next(events);
  if (event.method === "resync") assert.fail(`no resync expected: ${JSON.stringify(event)}`);
  return event;
}

/** A daemon with a proxy in front, a client calling it directly and one going through the proxy. */
async function setup(extra: string[] = [], WebSocket?: WebSocketConstructor) {
  const d = await daemon(extra);
  const proxy = await Proxy.start(d.addr);
  started.push(proxy);
  return { daemon: d, proxy, direct: client(d.url, d.token), proxied: client(proxy.url, d.token, WebSocket) };
}

test("the stream survives connections dropped by either side, delivering every state change once in order", async () => {
  // Every WebSocket the stream opens, so the test can close it from the client's side.
  const opened: WebSocket[] = [];
  class Recorded extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      opened.push(this);
    }
  }
  const { daemon, proxy, direct, proxied } = await setup([], Recorded as unknown as WebSocketConstructor);
  const events = proxied.events({ maxBackoffMs: 500 });
  await events.ready();

  const gids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { gid } = await direct.downloadAdd({ url: files.url(1 << 20, 512 << 10), connections: 1, fileName: `${i}.bin` });
    gids.push(gid);
  }
  // Alternately the server's side goes away (the proxy drops both halves) and the client closes its own socket.
  const cutter = (async () => {
    for (let i = 0; i < 4; i++) {
      await new Promise((ok) => setTimeout(ok, 400));
      if (i % 2 === 0) proxy.cut();
      else opened.at(-1)?.close();
    }
  })();

  const states = new Map<string, string[]>(gids.map((g) => [g, []]));
  let lastSeq = 0;
  while (gids.some((g) => states.get(g)!.at(-1) !== "download.complete")) {
    const n = await notification(events);
    assert.ok(n.params.seq > lastSeq, `in order, no duplicate: ${n.params.seq} after ${lastSeq}`);
    lastSeq = n.params.seq;
    if (n.method !== "download.progress") states.get(n.params.gid)?.push(n.method);
  }
  await cutter;
  for (const gid of gids) assert.deepEqual(states.get(gid), ["download.started", "download.complete"], gid);
  assert.ok(opened.length >= 5, `reconnected after each drop (${opened.length} sockets)`);
});

test("a restarted daemon yields a resync with every download, then the stream continues", async () => {
  const { daemon, proxy, direct, proxied } = await setup();
  const events = proxied.events({ maxBackoffMs: 500 });
  await events.ready();
  const { gid } = await direct.downloadAdd({ url: files.url(2 << 20, 1 << 20), connections: 1, fileName: "r.bin" });
  while ((await notification(events)).method !== "download.started");

  const restarted = await daemon.restart();
  started.push(restarted);
  proxy.retarget(restarted.addr);
  let event: StreamEvent;
  while ((event = await next(events)).method !== "resync") {
    assert.notEqual(event.method, "download.started", "no event of the old stream after the restart");
  }
  assert.equal(event.reason, "restarted");
  assert.deepEqual(event.downloads.map((d) => d.gid), [gid]);
  for (;;) {
    const n = await notification(events);
    if (n.method === "download.complete") {
      assert.equal(n.params.gid, gid);
      break;
    }
  }
});

test("events missed while disconnected are replayed in order, not resynced", async () => {
  const { proxy, direct, proxied } = await setup();
  const events = proxied.events({ maxBackoffMs: 200 });
  await events.ready();

  proxy.setDown(true);
  const { gid: a } = await direct.downloadAdd({ url: "http://127.0.0.1:9/f", paused: true });
  const { gid: b } = await direct.downloadAdd({ url: "http://127.0.0.1:9/f", paused: true });
  await direct.downloadRemove({ gid: a });
  proxy.setDown(false);
  await direct.downloadRemove({ gid: b });
  const seen: [string, string][] = [];
  while (seen.length < 2) {
    const n = await notification(events);
    seen.push([n.method, n.params.gid]);
  }
  assert.deepEqual(seen, [
    ["download.removed", a],
    ["download.removed", b],
  ]);
});

test("a connection that went silent without closing is noticed and replaced", async () => {
  const d = await daemon();
  const proxy = await Proxy.start(d.addr);
  started.push(proxy);
  const direct = client(d.url, d.token);
  const proxied = new Client(proxy.url, { token: d.token, timeoutMs: 1000 });
  clients.push(proxied);
  const events = proxied.events({ livenessMs: 300 });
  await events.ready();

  proxy.freeze();
  const { gid } = await direct.downloadAdd({ url: "http://127.0.0.1:9/f", paused: true });
  await direct.downloadRemove({ gid });
  const removed = await notification(events);
  assert.equal(removed.method, "download.removed");
  assert.equal(removed.params.gid, gid);
});

test("a client that is already closed gives a stream that has already ended", async () => {
  const c = client("http://127.0.0.1:9/jsonrpc", "x");
  await c.close();
  const events = c.events();
  await assert.rejects(events.ready(), /the event stream was closed/);
  assert.equal((await events.next()).done, true);
});

test("an absence longer than the replay window yields a window-exceeded resync, then live events", async () => {
  const { daemon, proxy, direct, proxied } = await setup(["--event-window", "3"]);
  const events = proxied.events({ maxBackoffMs: 200 });
  await events.ready();

  proxy.setDown(true);
  let kept = "";
  for (let i = 0; i < 6; i++) {
    const { gid } = await direct.downloadAdd({ url: "http://127.0.0.1:9/f", paused: true });
    if (i === 5) kept = gid;
    else await direct.downloadRemove({ gid });
  }
  proxy.setDown(false);
  const resync = await next(events);
  assert.equal(resync.method, "resync");
  if (resync.method === "resync") {
    assert.equal(resync.reason, "windowExceeded");
    assert.deepEqual(resync.downloads.map((d) => d.gid), [kept]);
  }
  await direct.downloadRemove({ gid: kept });
  const removed = await notification(events);
  assert.equal(removed.method, "download.removed");
  assert.equal(removed.params.gid, kept);
});

test("a proxy that refuses upgrades fails the stream, or with polling gives the same events", async () => {
  const { daemon, proxy, direct, proxied } = await setup();
  proxy.refuseUpgrades(true);

  const refused = proxied.events();
  await assert.rejects(refused.ready(), /refused the WebSocket upgrade \(HTTP 403\)/);
  assert.equal(refused.mode, "connecting");
  refused.close();

  const events = proxied.events({ pollingIntervalMs: 100 });
  await events.ready();
  assert.equal(events.mode, "polling");
  const first = await next(events);
  assert.equal(first.method === "resync" && first.reason, "polling");

  const { gid } = await proxied.downloadAdd({ url: files.url(1 << 20, 512 << 10), connections: 1, fileName: "p.bin" });
  const { streamId } = await direct.eventsPoll({});
  const methods: string[] = [];
  let lastSeq = 0;
  for (;;) {
    const n = await notification(events);
    // The daemon's own notifications: its stream, its seq.
    assert.equal(n.params.streamId, streamId);
    assert.ok(n.params.seq > lastSeq, `${n.params.seq} after ${lastSeq}`);
    lastSeq = n.params.seq;
    assert.equal(n.params.gid, gid);
    if (methods.at(-1) !== n.method) methods.push(n.method);
    if (n.method === "download.complete") break;
  }
  assert.deepEqual(methods, ["download.started", "download.progress", "download.complete"]);
});

test("gid and kind filters reach the daemon and hold across the stream", async () => {
  const d = await daemon();
  const c = client(d.url, d.token);
  const { gid: b } = await c.downloadAdd({ url: files.url(64 << 10), paused: true, fileName: "b.bin" });
  const { gid: a } = await c.downloadAdd({ url: files.url(64 << 10), paused: true, fileName: "a.bin" });
  const all = c.events({ kinds: ["download.complete"] });
  const mine = c.events({ gids: [a], kinds: ["download.complete", "download.removed"] });
  await Promise.all([all.ready(), mine.ready()]);

  await c.downloadResume({ gid: b });
  await c.downloadResume({ gid: a });
  const completed = new Set<string>();
  while (completed.size < 2) {
    const n = await notification(all);
    assert.equal(n.method, "download.complete");
    completed.add(n.params.gid);
  }
  await c.downloadRemove({ gid: b });
  await c.downloadRemove({ gid: a });
  // Everything about b happened before a's removal, so it would have come first.
  const seen = [await notification(mine), await notification(mine)].map((n) => [n.method, n.params.gid]);
  assert.deepEqual(seen, [
    ["download.complete", a],
    ["download.removed", a],
  ]);

  await c.close();
  assert.equal((await mine.next()).done, true, "closing the client ends its streams");
});

test("a progress interval paces one stream's progress while another keeps the daemon's pace", async () => {
  const d = await daemon();
  const c = client(d.url, d.token);
  const paced = c.events({ progressInterval: 1000, kinds: ["download.progress", "download.complete"] });
  const unpaced = c.events({ kinds: ["download.progress", "download.complete"] });
  await Promise.all([paced.ready(), unpaced.ready()]);
  const started = Date.now();
  const { gid } = await c.downloadAdd({ url: files.url(1 << 20, 512 << 10), connections: 1, fileName: "paced.bin" });
  const count = async (events: Events) => {
    let progress = 0;
    for (;;) {
      const n = await notification(events);
      if (n.params.gid !== gid) continue;
      if (n.method === "download.complete") return progress;
      progress++;
    }
  };
  const [slow, fast] = await Promise.all([count(paced), count(unpaced)]);
  const seconds = Math.ceil((Date.now() - started) / 1000);
  assert.ok(slow <= seconds, `at most one progress per second: ${slow} in ${seconds} s`);
  assert.ok(fast > slow, `the other stream keeps the daemon's pace: ${fast} against ${slow}`);
});

test("a reader that falls behind gets each download's latest progress, never a backlog", () => {
  const stamp = { streamId: "0123456789abcdef", gid: "a" };
  const progress = (seq: number, gid = "a"): StreamEvent => ({
    method: "download.progress",
    params: { ...stamp, seq, gid, completedLength: seq, totalLength: 10, downloadSpeed: 1, eta: 1, connections: 1 },
  });
  const unread = new Unread();
  unread.push({ method: "download.started", params: { ...stamp, seq: 1, fileName: "f", totalLength: 10, resumed: false, restarted: null } });
  unread.push(progress(2));
  unread.push(progress(3, "b"));
  unread.push({ method: "download.paused", params: { ...stamp, seq: 4, clusterSeq: null, completedLength: 2 } });
  unread.push(progress(5));
  unread.push(progress(6, "b"));
  const taken: [string, number][] = [];
  for (let e = unread.shift(); e !== undefined; e = unread.shift()) {
    if (e.method !== "resync") taken.push([e.method, e.params.seq]);
  }
  assert.deepEqual(taken, [
    ["download.started", 1],
    ["download.paused", 4],
    ["download.progress", 5],
    ["download.progress", 6],
  ]);
});

test("options the daemon refuses end the stream with the daemon's error", async () => {
  const d = await daemon();
  const c = client(d.url, d.token);
  const events = c.events({ progressInterval: 50 });
  const invalid = (e: unknown) => e instanceof HaulError && e.code === ErrorCode.InvalidParams;
  await assert.rejects(events.ready(), invalid);
  await assert.rejects(events.next(), invalid);
  assert.equal((await events.next()).done, true);

  const wrong = client(d.url, "wrong").events();
  await assert.rejects(wrong.next(), (e: unknown) => e instanceof HaulError && e.code === ErrorCode.Unauthorized);

  assert.throws(() => c.events({ initialBackoffMs: 0 }), /initialBackoffMs must be positive, got 0/);
  assert.throws(() => c.events({ initialBackoffMs: 500, maxBackoffMs: 100 }), /maxBackoffMs \(100\) is below/);
});

test("polling sees a download that starts and finishes between two polls", async () => {
  const { proxy, proxied } = await setup();
  proxy.refuseUpgrades(true);
  const events = proxied.events({ pollingIntervalMs: 2000 });
  await events.ready();
  assert.equal((await next(events)).method, "resync");
  const { gid } = await proxied.downloadAdd({ url: files.url(64 << 10), fileName: "quick.bin" });
  const methods: string[] = [];
  while (methods.at(-1) !== "download.complete") {
    const n = await notification(events);
    assert.equal(n.params.gid, gid);
    methods.push(n.method);
  }
  // All in one poll, all of them: diffing two lists saw `complete` alone.
  assert.equal(methods[0], "download.started", methods.join(", "));
});

test("unread progress of many downloads stays bounded while state changes pile up", () => {
  const stamp = { streamId: "0123456789abcdef" };
  const unread = new Unread();
  let seq = 0;
  for (let i = 0; i < 10_000; i++) {
    const gid = `g${i % 10}`;
    unread.push({
      method: "download.progress",
      params: { ...stamp, seq: ++seq, gid, completedLength: i, totalLength: null, downloadSpeed: 1, eta: null, connections: 1 },
    });
  }
  unread.push({ method: "download.removed", params: { ...stamp, seq: ++seq, clusterSeq: null, gid: "g0" } });
  const taken: string[] = [];
  for (let e = unread.shift(); e !== undefined; e = unread.shift()) taken.push(e.method);
  assert.equal(taken.length, 11, "ten latest progress and the removal");
  assert.equal(taken.at(-1), "download.removed");
});
