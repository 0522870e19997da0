// connectLocal and findLocal against real daemons that wrote their own tokens:
// the same variables, order and errors as the Rust SDK and the CLI.

import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { connectLocal, DEFAULT_URL, findLocal, LocalDaemonError } from "../src/index.js";
import { Daemon } from "./support.js";

let dir: string;
let daemon: Daemon;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "haul-ts-local-"));
  daemon = await Daemon.startGenerated(join(dir, "xdg", "haul"));
});
after(async () => {
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `f` with exactly these locating variables in process.env, as a user's shell would set them. */
async function withEnv<T>(vars: Record<string, string>, f: () => Promise<T>): Promise<T> {
  const names = ["HAUL_URL", "HAUL_RPC_SECRET", "HAUL_STATE_DIR", "XDG_STATE_HOME", "HOME"];
  const saved = names.map((name) => [name, process.env[name]] as const);
  for (const name of names) delete process.env[name];
  Object.assign(process.env, vars);
  try {
    return await f();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

test("connectLocal finds the daemon's token in $XDG_STATE_HOME/haul and calls it", async () => {
  const version = await withEnv({ HAUL_URL: daemon.url, XDG_STATE_HOME: join(dir, "xdg") }, async () => {
    const client = await connectLocal();
    try {
      return (await client.systemGetVersion()).version;
    } finally {
      await client.close();
    }
  });
  assert.match(version, /^\d+\.\d+\.\d+/);
});

test("findLocal: HAUL_RPC_SECRET first, then HAUL_STATE_DIR, XDG_STATE_HOME (absolute only), HOME", async () => {
  const stateDir = join(dir, "xdg", "haul");
  const home = join(dir, "home");
  mkdirSync(join(home, ".local/state/haul"), { recursive: true });
  writeFileSync(join(home, ".local/state/haul/rpc-secret"), " from-home \n", { mode: 0o600 });
  assert.deepEqual(await findLocal({ HAUL_URL: daemon.url, HAUL_RPC_SECRET: "given", HAUL_STATE_DIR: stateDir }), {
    url: daemon.url,
    token: "given",
  });
  assert.equal((await findLocal({ HAUL_STATE_DIR: stateDir, HOME: home })).token, daemon.token);
  assert.equal((await findLocal({ XDG_STATE_HOME: join(dir, "xdg"), HOME: home })).token, daemon.token);
  assert.deepEqual(await findLocal({ XDG_STATE_HOME: "relative", HOME: home, HAUL_RPC_SECRET: "" }), {
    url: DEFAULT_URL,
    token: "from-home",
  });
});

test("without a token the error names where it looked", async () => {
  const empty = join(dir, "empty");
  await withEnv({ HAUL_URL: daemon.url, XDG_STATE_HOME: empty }, async () => {
    await assert.rejects(connectLocal(), (e: unknown) => {
      assert.ok(e instanceof LocalDaemonError);
      assert.equal(e.file, join(empty, "haul", "rpc-secret"));
      assert.equal(
        e.message,
        `no daemon token: HAUL_RPC_SECRET is not set and there is no ${join(empty, "haul", "rpc-secret")}\n` +
          "hint: start the daemon (`haul daemon`), which writes that file; or set HAUL_RPC_SECRET to the daemon's " +
          "--rpc-secret, or HAUL_STATE_DIR to its --state-dir",
      );
      return true;
    });
  });
});

test("a token file that other users can read, or an empty one, is refused", async () => {
  const state = join(dir, "exposed");
  mkdirSync(state);
  const file = join(state, "rpc-secret");
  writeFileSync(file, "abc\n");
  chmodSync(file, 0o644);
  await assert.rejects(findLocal({ HAUL_STATE_DIR: state }), {
    name: "LocalDaemonError",
    message: `the daemon token ${file} is readable by other users (mode 644)\nhint: chmod 600 ${file}`,
  });
  writeFileSync(file, "\n");
  chmodSync(file, 0o600);
  await assert.rejects(findLocal({ HAUL_STATE_DIR: state }), /is empty\nhint: delete it and restart the daemon/);
});
