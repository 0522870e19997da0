// aria2.js (npm `aria2`), the JavaScript aria2 client, against haul's
// aria2-compatible port: calls over its WebSocket (open()), system.multicall
// and batches, and notifications through its event emitter.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";

import Aria2 from "aria2";

import { content, Daemon, FileServer, until } from "./support.mjs";

const KB = 1024;
const MB = 1024 * KB;
// Bytes per second per connection: with haul's 8 connections, 2 MB at this
// rate takes 16 s, so a download stays active for as long as a test needs.
const SLOW = 16 * KB;

let daemon, files, aria2, heardOf;

beforeEach(async () => {
  [daemon, files] = await Promise.all([Daemon.start(), FileServer.start()]);
  aria2 = new Aria2({ host: "127.0.0.1", port: daemon.port, secret: daemon.secret });
  // Every notification aria2.js emits (it drops the "aria2." prefix), from the
  // start: one may come in the same read as the answer that names its gid.
  heardOf = [];
  for (const event of ["onDownloadStart", "onDownloadPause", "onDownloadStop", "onDownloadComplete", "onDownloadError"]) {
    aria2.on(event, ([{ gid }]) => heardOf.push(`${event} ${gid}`));
  }
  await aria2.open();
});
afterEach(async () => {
  await aria2?.close();
  await Promise.all([daemon?.stop(), files?.stop()]);
});

/** Waits until `event` has been heard `times` times for `gid`. */
function heard(event, gid, times = 1) {
  return until(`${event} is heard for ${gid}`, () => heardOf.filter((h) => h === `${event} ${gid}`).length >= times);
}

async function state(gid, wanted) {
  return until(`${gid} is ${wanted}`, async () => (await aria2.call("tellStatus", gid, ["status"])).status === wanted);
}

test("a download added over the WebSocket with dir and out lands in that file and onDownloadComplete is emitted", async () => {
  const dir = join(daemon.root, "isos");
  const gid = await aria2.call("addUri", [files.url(2 * MB)], { dir, out: "named.bin" });
  assert.match(gid, /^[0-9a-f]{16}$/);
  await heard("onDownloadComplete", gid);
  assert.deepEqual(heardOf, [`onDownloadStart ${gid}`, `onDownloadComplete ${gid}`]);
  assert.deepEqual(readFileSync(join(dir, "named.bin")), content(2 * MB));
  const status = await aria2.call("tellStatus", gid, ["gid", "status", "totalLength", "completedLength", "dir", "files"]);
  assert.deepEqual(
    { ...status, files: status.files.map((f) => f.path) },
    { gid, status: "complete", totalLength: String(2 * MB), completedLength: String(2 * MB), dir, files: [join(dir, "named.bin")] },
  );
});

test("pause, unpause, remove and purge move downloads through aria2's states, each with its notification", async () => {
  await aria2.call("changeGlobalOption", { "max-concurrent-downloads": "1" });
  const first = await aria2.call("addUri", [files.url(2 * MB, SLOW)]);
  // Each step waits for its notification: onDownloadStart comes as a
  // download becomes active, as in aria2.
  await heard("onDownloadStart", first);
  const second = await aria2.call("addUri", [files.url(2 * MB, SLOW)]);
  const gids = (list) => list.map((d) => `${d.gid} ${d.status}`);
  assert.deepEqual(gids(await aria2.call("tellActive", ["gid", "status"])), [`${first} active`]);
  assert.deepEqual(gids(await aria2.call("tellWaiting", 0, 10, ["gid", "status"])), [`${second} waiting`]);

  // Pausing the first frees its slot for the second; unpaused, it waits.
  assert.equal(await aria2.call("pause", first), first);
  await heard("onDownloadPause", first);
  await heard("onDownloadStart", second);
  await state(second, "active");
  assert.equal(await aria2.call("unpause", first), first);
  await state(first, "waiting");

  // Removing the second lets the first run again; the second stays listed as removed.
  assert.equal(await aria2.call("remove", second), second);
  await heard("onDownloadStop", second);
  await heard("onDownloadStart", first, 2);
  await state(first, "active");
  assert.deepEqual(gids(await aria2.call("tellStopped", 0, 10, ["gid", "status"])), [`${second} removed`]);
  assert.equal(await aria2.call("purgeDownloadResult"), "OK");
  assert.deepEqual(await aria2.call("tellStopped", 0, 10), []);
  await assert.rejects(aria2.call("tellStatus", second), { code: 1, message: `GID ${second} is not found` });
  const of = (gid) => heardOf.filter((h) => h.endsWith(gid)).map((h) => h.split(" ")[0]);
  assert.deepEqual(of(first), ["onDownloadStart", "onDownloadPause", "onDownloadStart"]);
  assert.deepEqual(of(second), ["onDownloadStart", "onDownloadStop"]);
});

test("a download's option and a global option read back as changed, and getGlobalStat counts the downloads", async () => {
  const gid = await aria2.call("addUri", [files.url(2 * MB, SLOW)], { "max-download-limit": "100K" });
  assert.equal((await aria2.call("getOption", gid))["max-download-limit"], String(100 * KB));
  assert.equal(await aria2.call("changeOption", gid, { "max-download-limit": "50K" }), "OK");
  assert.equal((await aria2.call("getOption", gid))["max-download-limit"], String(50 * KB));

  assert.equal((await aria2.call("getGlobalOption"))["max-concurrent-downloads"], "5");
  assert.equal(await aria2.call("changeGlobalOption", { "max-concurrent-downloads": "3" }), "OK");
  assert.equal((await aria2.call("getGlobalOption"))["max-concurrent-downloads"], "3");

  await state(gid, "active");
  await aria2.call("addUri", [files.url(1 * KB)], { pause: "true" });
  const stat = await aria2.call("getGlobalStat");
  assert.deepEqual([stat.numActive, stat.numWaiting, stat.numStopped], ["1", "1", "0"]);
});

test("system.multicall answers each call in order, with an error in the place of the call that failed", async () => {
  const gid = await aria2.call("addUri", [files.url(1 * KB)], { pause: "true" });
  const answers = await aria2.multicall([
    ["getVersion"],
    ["tellStatus", gid, ["gid", "status"]],
    ["tellStatus", "0123456789abcdef"],
    ["system.listNotifications"],
  ]);
  assert.equal(answers.length, 4);
  assert.equal(answers[0][0].version, "1.37.0");
  assert.deepEqual(answers[1], [{ gid, status: "paused" }]);
  assert.deepEqual(answers[2], { code: 1, message: "GID 0123456789abcdef is not found" });
  assert.deepEqual(answers[3], [[
    "aria2.onDownloadStart", "aria2.onDownloadPause", "aria2.onDownloadStop",
    "aria2.onDownloadComplete", "aria2.onDownloadError",
  ]]);
});

test("a batch over HTTP, before open(), settles each call's own promise", async () => {
  const http = new Aria2({ host: "127.0.0.1", port: daemon.port, secret: daemon.secret });
  const [version, missing, methods] = await http.batch([
    ["getVersion"],
    ["tellStatus", "0123456789abcdef"],
    ["system.listMethods"],
  ]);
  assert.equal((await version).version, "1.37.0");
  await assert.rejects(missing, { code: 1, message: "GID 0123456789abcdef is not found" });
  assert.ok((await methods).includes("aria2.addUri"));
  // A wrong secret is refused as aria2 refuses it.
  const stranger = new Aria2({ host: "127.0.0.1", port: daemon.port, secret: "wrong" });
  await assert.rejects(stranger.call("getVersion"), { code: 1, message: "Unauthorized" });
});
