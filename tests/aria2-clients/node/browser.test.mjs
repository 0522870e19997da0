// A web UI in headless Chromium, as AriaNg talks to aria2: a page served
// from another origin (allowed with --allow-origin) POSTs JSON with fetch
// (so every call is preceded by a CORS preflight), lists downloads with
// `keys`, reads the global stats, batches with system.multicall and hears
// aria2.onDownloadComplete over a WebSocket. A page from an origin that is
// not allowed gets nothing through, and changes nothing.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { chromium } from "playwright-core";

import { content, Daemon, FileServer } from "./support.mjs";

const KB = 1024;
const MB = 1024 * KB;
const SLOW = 16 * KB; // per connection: keeps a 2 MB download active for the whole test

// What AriaNg asks tellActive/tellWaiting/tellStopped for when it loads its
// task list (aria2RpcService's getFullTaskParams).
const KEYS = [
  "gid", "totalLength", "completedLength", "uploadSpeed", "downloadSpeed", "connections",
  "numSeeders", "seeder", "status", "errorCode", "verifiedLength", "verifyIntegrityPending",
  "files", "bittorrent", "infoHash",
];
// AngularJS's $http, which AriaNg posts with, sends this for an object body.
const JSON_TYPE = "application/json;charset=utf-8";

let allowed, stranger, files, daemon, browser;

/** A server of one blank page: its origin is all that matters. */
async function site() {
  const server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>web UI</title>"));
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

before(async () => {
  [allowed, stranger, files, browser] = await Promise.all([
    site(),
    site(),
    FileServer.start(),
    chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] }),
  ]);
  daemon = await Daemon.start(["--allow-origin", allowed.origin]);
});
after(async () => {
  await Promise.all([browser?.close(), daemon?.stop(), files?.stop()]);
  for (const { server } of [allowed, stranger]) server?.close();
});

/** Runs `script` in a fresh page of `origin`, with `args`. */
async function inPage(origin, script, args) {
  const page = await browser.newPage();
  try {
    await page.goto(origin);
    return await page.evaluate(script, args);
  } finally {
    await page.close();
  }
}

test("a page on an allowed origin lists, counts and multicalls over fetch and hears onDownloadComplete over a WebSocket", async () => {
  const args = {
    rpc: daemon.url, ws: daemon.wsUrl, token: `token:${daemon.secret}`, keys: KEYS, type: JSON_TYPE,
    slow: files.url(2 * MB, SLOW), paused: files.url(1 * MB), fast: files.url(1 * MB),
  };
  const seen = await inPage(allowed.origin, async ({ rpc, ws, token, keys, type, slow, paused, fast }) => {
    // AriaNg's request: JSON-RPC 2.0, a UUID for the id, the token first.
    const request = (method, params) => ({ jsonrpc: "2.0", method, id: crypto.randomUUID(), params });
    const post = async (method, ...params) => {
      const response = await fetch(rpc, {
        method: "POST",
        headers: { "Content-Type": type },
        body: JSON.stringify(request(method, [token, ...params])),
      });
      const answer = await response.json();
      if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
      return answer.result;
    };
    const active = await post("aria2.addUri", [slow], { out: "slow.bin" });
    const waiting = await post("aria2.addUri", [paused], { pause: "true" });

    // The WebSocket, as AriaNg uses it: calls on it, notifications from it.
    const socket = new WebSocket(ws);
    await new Promise((ok, fail) => ((socket.onopen = ok), (socket.onerror = () => fail(new Error("WebSocket refused")))));
    const call = request("aria2.addUri", [token, [fast], { out: "page.bin" }]);
    let complete = "";
    const heard = [];
    await new Promise((ok) => {
      socket.onmessage = ({ data }) => {
        const message = JSON.parse(data);
        if (message.id === call.id) complete = message.result;
        else heard.push(`${message.method} ${message.params[0].gid}`);
        if (complete && heard.includes(`aria2.onDownloadComplete ${complete}`)) ok();
      };
      socket.send(JSON.stringify(call));
    });
    socket.close();
    const notified = heard.filter((h) => h.endsWith(` ${complete}`)).map((h) => h.split(" ")[0]);

    const lists = {
      active: await post("aria2.tellActive", keys),
      waiting: await post("aria2.tellWaiting", 0, 1000, keys),
      stopped: await post("aria2.tellStopped", 0, 1000, keys),
    };
    const stat = await post("aria2.getGlobalStat");
    const multicall = await fetch(rpc, {
      method: "POST",
      headers: { "Content-Type": type },
      body: JSON.stringify(request("system.multicall", [[
        { methodName: "aria2.tellActive", params: [token, ["gid", "status"]] },
        { methodName: "aria2.tellWaiting", params: [token, 0, 1000, ["gid", "status"]] },
        { methodName: "aria2.tellStopped", params: [token, 0, 1000, ["gid", "status"]] },
        { methodName: "aria2.getGlobalStat", params: [token] },
      ]])),
    }).then((r) => r.json());
    return { gids: { active, waiting, complete }, notified, lists, stat, multicall: multicall.result };
  }, args);

  const { active, waiting, complete } = seen.gids;
  assert.deepEqual(seen.notified, ["aria2.onDownloadStart", "aria2.onDownloadComplete"]);
  assert.deepEqual(readFileSync(join(daemon.root, "page.bin")), content(1 * MB));
  const states = (list) => list.map((d) => `${d.gid} ${d.status}`);
  assert.deepEqual(states(seen.lists.active), [`${active} active`]);
  assert.deepEqual(states(seen.lists.waiting), [`${waiting} paused`]);
  assert.deepEqual(states(seen.lists.stopped), [`${complete} complete`]);
  // As aria2 answers for an HTTP download: the keys asked for, less the
  // BitTorrent and verification ones, and errorCode only once stopped.
  const inapplicable = ["numSeeders", "seeder", "verifiedLength", "verifyIntegrityPending", "bittorrent", "infoHash"];
  for (const [list, downloads] of Object.entries(seen.lists)) {
    const expected = KEYS.filter((k) => !inapplicable.includes(k) && (k !== "errorCode" || list === "stopped"));
    for (const download of downloads) assert.deepEqual(Object.keys(download).sort(), expected.sort(), `the keys of ${list}`);
  }
  const [done] = seen.lists.stopped;
  assert.deepEqual([done.totalLength, done.completedLength, done.errorCode], [String(MB), String(MB), "0"]);
  // AriaNg names a task after its first file's path.
  assert.equal(done.files[0].path, join(daemon.root, "page.bin"));
  assert.deepEqual([seen.stat.numActive, seen.stat.numWaiting, seen.stat.numStopped], ["1", "1", "1"]);
  const [multiActive, multiWaiting, multiStopped, [multiStat]] = seen.multicall;
  assert.deepEqual([multiActive, multiWaiting, multiStopped], [
    [[{ gid: active, status: "active" }]],
    [[{ gid: waiting, status: "paused" }]],
    [[{ gid: complete, status: "complete" }]],
  ]);
  assert.equal(multiStat.numActive, "1");
});

test("a page on an origin that is not allowed can neither read an answer, open the WebSocket nor add a download", async () => {
  const before = await downloads();
  const args = { rpc: daemon.url, ws: daemon.wsUrl, token: `token:${daemon.secret}`, type: JSON_TYPE, url: files.url(1 * KB) };
  const seen = await inPage(stranger.origin, async ({ rpc, ws, token, type, url }) => {
    const outcome = (promise) => promise.then(() => "answered", (e) => `${e.name}`);
    const body = (method, params) => JSON.stringify({ jsonrpc: "2.0", method, id: "1", params: [token, ...params] });
    return {
      // Preflighted: refused at the preflight.
      json: await outcome(fetch(rpc, { method: "POST", headers: { "Content-Type": type }, body: body("aria2.getVersion", []) })),
      // A "simple" request goes out without a preflight; the daemon must not act on it.
      simple: await outcome(fetch(rpc, { method: "POST", headers: { "Content-Type": "text/plain" }, body: body("aria2.addUri", [[url]]) })),
      socket: await new Promise((ok) => {
        const socket = new WebSocket(ws);
        socket.onopen = () => (socket.close(), ok("open"));
        socket.onerror = () => ok("refused");
      }),
    };
  }, args);
  assert.deepEqual(seen, { json: "TypeError", simple: "TypeError", socket: "refused" });
  assert.equal(await downloads(), before, "the refused page's addUri was not carried out");
});

/** How many downloads the daemon has, asked from here (no Origin). */
async function downloads() {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "aria2.getGlobalStat", params: [`token:${daemon.secret}`] });
  const { result } = await fetch(daemon.url, { method: "POST", body }).then((r) => r.json());
  return Number(result.numActive) + Number(result.numWaiting) + Number(result.numStopped);
}
