// The API page's TypeScript snippets (docs-snippets.ts, generated from the
// same text as the page) against a real daemon: each is a call the daemon
// accepts, answered with a result or an application error (the examples' gid
// is not there), never a protocol error. Downloads go through a proxy that is
// not there, so the examples' URLs are never fetched.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { Client, HaulError } from "../src/index.js";
import { ALL } from "./docs-snippets.js";
import { Daemon } from "./support.js";

/** Parse error, invalid request, unknown method, invalid params. */
const PROTOCOL_ERRORS = [-32700, -32600, -32601, -32602];

test("every TypeScript snippet is a call the daemon accepts", async () => {
  const daemon = await Daemon.start(["--all-proxy", "http://127.0.0.1:9"]);
  const client = new Client(daemon.url, { token: daemon.token });
  try {
    const document = JSON.parse(
      readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../../../../openrpc.json"), "utf8"),
    ) as { methods: { name: string; "x-notification"?: boolean }[] };
    const methods = document.methods.filter((m) => !m["x-notification"]).map((m) => m.name);
    assert.deepEqual(
      ALL.map(([method]) => method),
      methods,
      "a snippet per method",
    );
    for (const [method, snippet] of ALL) {
      try {
        await snippet(client);
      } catch (e) {
        assert.ok(e instanceof HaulError, `${method}: ${String(e)}`);
        assert.ok(!PROTOCOL_ERRORS.includes(e.code), `${method}: ${e.code} ${e.message}`);
      }
    }
  } finally {
    await client.close();
    await daemon.stop();
  }
});
