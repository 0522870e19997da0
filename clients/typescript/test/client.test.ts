// haul-client against a real daemon: every method, the documented errors,
// auth, and notifications, over HTTP and over a WebSocket.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  Client,
  ErrorCode,
  HaulError,
  isApiError,
  NOTIFICATIONS,
  TransportError,
  type Notification,
} from "../src/index.js";
import { closedPort, Daemon, FileServer } from "./support.js";

let daemon: Daemon;
let files: FileServer;

before(async () => {
  [daemon, files] = await Promise.all([Daemon.start(), FileServer.start()]);
});
after(async () => {
  await Promise.all([daemon?.stop(), files?.stop()]);
});

for (const transport of ["http", "ws"] as const) {
  describe(`over ${transport}`, () => {
    let client: Client;
    before(() => {
      client = new Client(transport === "http" ? daemon.url : daemon.wsUrl, { token: daemon.token });
    });
    after(() => client.close());

    test("every download method answers with its typed result", async () => {
      const { gid } = await client.downloadAdd({ url: files.url(1 << 20), paused: true, fileName: `${transport}.bin` });
      assert.match(gid, /^[0-9a-f]{16}$/);

      const status = await client.downloadStatus({ gid });
      assert.equal(status.state, "paused");
      assert.equal(status.fileName, `${transport}.bin`);

      const list = await client.downloadList({ states: ["paused"] });
      assert.ok(list.downloads.some((d) => d.gid === gid));

      const limited = await client.downloadSetSpeedLimit({ gid, speedLimit: 1 << 20 });
      assert.equal(limited.speedLimit, 1 << 20);

      await client.downloadResume({ gid });
      const paused = await client.downloadPause({ gid });
      assert.equal(paused.state, "paused");

      // The same file at the same address: its bytes are kept.
      const moved = await client.downloadSetUrl({ gid, url: status.url });
      assert.equal(moved.url, status.url);
      assert.equal(moved.completedLength, paused.completedLength);

      const removed = await client.downloadRemove({ gid, deleteFiles: true });
      assert.equal(removed.gid, gid);
    });

    test("system methods answer with their typed results", async () => {
      const version = await client.systemGetVersion();
      assert.match(version.version, /^\d+\.\d+\.\d+/);

      const stats = await client.systemGetStats();
      assert.equal(typeof stats.downloadSpeed, "number");

      const options = await client.systemSetOptions({ maxConcurrent: 3 });
      assert.equal(options.maxConcurrent, 3);
      assert.deepEqual(await client.systemGetOptions(), options);

      const doc = await client.rpcDiscover();
      assert.equal(doc.openrpc, "1.3.2");
    });

    test("status of an unknown gid throws DownloadNotFound with the gid as data", async () => {
      const gid = "0123456789abcdef";
      const error = await client.downloadStatus({ gid }).then(
        () => assert.fail("expected an error"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof HaulError);
      assert.equal(error.code, ErrorCode.DownloadNotFound);
      assert.ok(isApiError(error, "DownloadNotFound"));
      assert.equal(error.data.gid, gid);
    });

    test("params the schema refuses throw InvalidParams", async () => {
      // @ts-expect-error connections must be a number: the compiler refuses it too
      const call = client.downloadAdd({ url: files.url(10), connections: "many" });
      await assert.rejects(call, (e: unknown) => isApiError(e, "InvalidParams"));
    });

    test("a wrong token throws Unauthorized", async () => {
      const wrong = new Client(client.url, { token: "wrong" });
      await assert.rejects(wrong.systemGetVersion(), (e: unknown) => isApiError(e, "Unauthorized"));
      await wrong.close();
    });
  });
}

test("an unreachable daemon throws a TransportError naming the url", async () => {
  const url = `http://127.0.0.1:${await closedPort()}/jsonrpc`;
  const client = new Client(url, { token: "x" });
  await assert.rejects(client.systemGetVersion(), (e: unknown) => {
    assert.ok(e instanceof TransportError);
    assert.equal(e.message, `cannot reach the haul daemon at ${url}: ECONNREFUSED`);
    return true;
  });
});

test("a url that is not http or ws is refused at construction", () => {
  assert.throws(() => new Client("ftp://127.0.0.1/jsonrpc", { token: "x" }), /invalid daemon url `ftp:/);
});

test("events yields a download's notifications in order, typed", async () => {
  const client = new Client(daemon.url, { token: daemon.token });
  const events = client.events();
  await events.ready();
  assert.equal(events.mode, "websocket");
  const size = 3 << 20;
  const { gid } = await client.downloadAdd({ url: files.url(size, 4 << 20), fileName: "events.bin" });
  const seen: Notification[] = [];
  for await (const event of events) {
    assert.notEqual(event.method, "resync");
    if (event.method === "resync") continue;
    seen.push(event);
    if (event.method === "download.complete" && event.params.gid === gid) break;
  }
  const mine = seen.filter((e) => e.params.gid === gid);
  assert.equal(mine[0]?.method, "download.started");
  assert.ok(mine.some((e) => e.method === "download.progress"));
  const last = mine.at(-1)!;
  assert.equal(last.method, "download.complete");
  if (last.method === "download.complete") assert.equal(last.params.totalLength, size);
  const seqs = seen.map((e) => e.params.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), "seq increases");
  assert.ok(seen.every((e) => NOTIFICATIONS.includes(e.method)));
  await client.close();
});

test("on calls the handler for its notification only, until unsubscribed", async () => {
  const client = new Client(daemon.wsUrl, { token: daemon.token });
  const completed: string[] = [];
  let done!: () => void;
  const finished = new Promise<void>((ok) => (done = ok));
  const off = await client.on("download.complete", (e) => {
    completed.push(e.gid);
    done();
  });
  const { gid } = await client.downloadAdd({ url: files.url(64 << 10), fileName: "on.bin" });
  await finished;
  assert.deepEqual(completed, [gid]);

  off();
  let later!: () => void;
  const laterDone = new Promise<void>((ok) => (later = ok));
  await client.on("download.complete", () => later());
  await client.downloadAdd({ url: files.url(64 << 10), fileName: "on-2.bin" });
  await laterDone;
  assert.deepEqual(completed, [gid], "the unsubscribed handler saw nothing more");
  await client.close();
});

test("a wrong token refuses the WebSocket with Unauthorized", async () => {
  const client = new Client(daemon.wsUrl, { token: "wrong" });
  await assert.rejects(
    client.on("download.progress", () => {}),
    (e: unknown) => e instanceof HaulError && e.code === ErrorCode.Unauthorized,
  );
  await client.close();
});
