// The docs page and the browser transport in headless Chromium: /docs lists
// every method and notification, and a page served by the daemon opens a
// WebSocket with the subprotocol token and receives a real download's
// notifications — by hand, and through haul-client itself, whose connectLocal,
// `ca` option and unix: URLs say they need Node.js.

import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { chromium, type Browser } from "playwright-core";

import { Daemon, FileServer } from "./support.js";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../../../..");
const dist = resolve(here, "../../dist");
const artifacts = process.env.HAUL_ARTIFACTS ?? join(repo, "target/artifacts");

let daemon: Daemon;
let files: FileServer;
let browser: Browser;

before(async () => {
  [daemon, files, browser] = await Promise.all([
    Daemon.start(),
    FileServer.start(),
    chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] }),
  ]);
});
after(async () => {
  await Promise.all([browser?.close(), daemon?.stop(), files?.stop()]);
});

test("the docs page shows every method and notification and needs no token", async () => {
  const page = await browser.newPage();
  const response = await page.goto(`http://${daemon.addr}/docs`);
  assert.equal(response?.status(), 200);
  const document = JSON.parse(readFileSync(join(repo, "openrpc.json"), "utf8")) as {
    methods: { name: string }[];
  };
  for (const { name } of document.methods) {
    const anchor = name.replace(/[^\p{L}\p{N}_-]/gu, "").toLowerCase();
    const heading = page.locator(`h3#${anchor}`);
    assert.equal(await heading.textContent(), name, `the page has a section for ${name}`);
    assert.ok(await page.locator(`nav a[href="#${anchor}"]`).isVisible(), `the nav links to ${name}`);
  }
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, "docs.png"), fullPage: false });
  await page.close();
});

test("a page served by the daemon receives notifications over a WebSocket authenticated by subprotocol", async () => {
  const page = await browser.newPage();
  await page.goto(`http://${daemon.addr}/docs`);
  const url = files.url(256 << 10);
  const result = await page.evaluate(
    async ({ token, url }) => {
      const ws = new WebSocket(`ws://${location.host}/jsonrpc/ws`, ["haul.jsonrpc", `haul.bearer.${token}`]);
      await new Promise((ok, fail) => ((ws.onopen = ok), (ws.onerror = () => fail(new Error("refused")))));
      const methods: string[] = [];
      let gid = "";
      await new Promise<void>((ok) => {
        ws.onmessage = (event) => {
          const message = JSON.parse(event.data as string);
          if (message.id === 1) gid = message.result.gid;
          else if (message.params?.gid === gid) methods.push(message.method);
          if (message.method === "download.complete" && message.params.gid === gid) ok();
        };
        ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "download.add", params: { url, fileName: "browser.bin" } }));
      });
      ws.close();
      return { protocol: ws.protocol, methods };
    },
    { token: daemon.token, url },
  );
  assert.equal(result.protocol, "haul.jsonrpc", "the server echoes the plain protocol, never the token");
  assert.equal(result.methods[0], "download.started");
  assert.equal(result.methods.at(-1), "download.complete");
  await page.close();
});

test("haul-client runs in the browser: calls over fetch, events over a subprotocol-authenticated WebSocket", async () => {
  // The docs page's policy allows no scripts; this context loads the SDK anyway.
  const context = await browser.newContext({ bypassCSP: true });
  await context.route(`http://${daemon.addr}/sdk/**`, (route) =>
    route.fulfill({
      contentType: "text/javascript",
      body: readFileSync(join(dist, new URL(route.request().url()).pathname.slice("/sdk/".length))),
    }),
  );
  const page = await context.newPage();
  await page.goto(`http://${daemon.addr}/docs`);
  const result = await page.evaluate(
    async ({ token, url }) => {
      const sdk = await import(`${location.origin}/sdk/index.js`);
      const client = new sdk.Client(`${location.origin}/jsonrpc`, { token });
      const version = await client.systemGetVersion();
      let complete!: (gid: string) => void;
      const completed = new Promise<string>((ok) => (complete = ok));
      await client.on("download.complete", (e: { gid: string }) => complete(e.gid));
      const { gid } = await client.downloadAdd({ url, fileName: "sdk.bin" });
      const done = await completed;
      await client.close();
      // A browser has no environment or state directory to find a token in.
      const local = await sdk.connectLocal().then(
        () => "resolved",
        (e: Error) => `${e.name}: ${e.message}`,
      );
      // Nor can it trust a given CA or open a unix socket: both are refused at once, saying so.
      const refusal = (f: () => unknown) => {
        try {
          f();
          return "constructed";
        } catch (e) {
          return `${(e as Error).name}: ${(e as Error).message}`;
        }
      };
      const ca = refusal(() => new sdk.Client("https://haul.example/jsonrpc", { token, ca: "-----BEGIN CERTIFICATE-----\n" }));
      const unix = refusal(() => new sdk.Client("unix:/run/haul/haul.sock", { token }));
      return { version: version.version, gid, done, local, ca, unix };
    },
    { token: daemon.token, url: files.url(128 << 10) },
  );
  assert.match(result.version, /^\d+\.\d+\.\d+/);
  assert.equal(result.done, result.gid);
  assert.equal(
    result.local,
    "LocalDaemonError: connectLocal needs Node.js: a browser has no environment or state directory to find the " +
      "daemon's token in\nhint: use new Client(url, { token }) with the daemon's URL and token",
  );
  assert.equal(
    result.ca,
    "TypeError: the `ca` option needs Node.js: a browser trusts only its own certificate store\n" +
      "hint: add the CA to the browser's (or the system's) trust store, and leave `ca` out",
  );
  assert.equal(
    result.unix,
    "TypeError: a unix: URL (`unix:/run/haul/haul.sock`) needs Node.js: a browser cannot open unix sockets\n" +
      "hint: have the daemon listen on TCP too (--listen HOST:PORT) and use its https:// URL",
  );
  await context.close();
});
