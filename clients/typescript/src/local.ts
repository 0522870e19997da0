// Finding the daemon on this machine the way the `haul` CLI does (and the Rust
// SDK's `Client::connect_local`, and the Python SDK's `Client.local()`): the
// same variables, the same order, the same errors. Node only: a browser has
// neither an environment nor a state directory, so it is told so.

import { Client } from "./api.js";
import type { ClientOptions } from "./runtime.js";

/** Where the daemon listens unless told otherwise (`haul daemon --listen`). */
export const DEFAULT_URL = "http://127.0.0.1:6801/jsonrpc";
/** The token file's name in the daemon's state directory. */
export const TOKEN_FILE = "rpc-secret";

/** `connectLocal` or `findLocal` could not find a token it can use, or runs where it cannot look. */
export class LocalDaemonError extends Error {
  /** The token file looked for, when there was one to look for. */
  readonly file: string | undefined;
  constructor(message: string, file?: string) {
    super(message);
    this.name = "LocalDaemonError";
    this.file = file;
  }
}

type Env = Record<string, string | undefined>;
interface NodeProcess {
  versions?: { node?: string };
  env: Env;
  platform: string;
}

/**
 * The local daemon's URL and token: the URL is `HAUL_URL`, else `http://127.0.0.1:6801/jsonrpc`; the
 * token is `HAUL_RPC_SECRET`, else the `rpc-secret` file the daemon wrote in its state directory
 * (`HAUL_STATE_DIR`, else `$XDG_STATE_HOME/haul`, else `~/.local/state/haul`), refused when other
 * users can read it. `env` defaults to `process.env`.
 *
 * @throws {LocalDaemonError} no token, naming where it looked; an unusable token file; not Node.js
 */
export async function findLocal(env?: Env): Promise<{ url: string; token: string }> {
  const node = (globalThis as { process?: NodeProcess }).process;
  if (!node?.versions?.node) {
    throw new LocalDaemonError(
      "connectLocal needs Node.js: a browser has no environment or state directory to find the daemon's token in\n" +
        "hint: use new Client(url, { token }) with the daemon's URL and token",
    );
  }
  const vars = env ?? node.env;
  const variable = (name: string) => vars[name] || undefined; // set but empty is unset
  const url = variable("HAUL_URL") ?? DEFAULT_URL;
  const given = variable("HAUL_RPC_SECRET");
  if (given) return { url, token: given };
  const [{ open }, { homedir }, path] = await Promise.all([
    import("node:fs/promises"),
    import("node:os"),
    import("node:path"),
  ]);
  let dir = variable("HAUL_STATE_DIR");
  const xdg = variable("XDG_STATE_HOME");
  // The XDG spec ignores a relative XDG_STATE_HOME.
  if (!dir && xdg && path.isAbsolute(xdg)) dir = path.join(xdg, "haul");
  const home = variable("HOME") ?? (homedir() || undefined);
  if (!dir && home) dir = path.join(home, ".local/state/haul");
  if (!dir) {
    throw noToken("no state directory (HAUL_STATE_DIR, XDG_STATE_HOME and HOME are not set)");
  }
  const file = path.join(dir, TOKEN_FILE);
  let handle;
  try {
    handle = await open(file, "r");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") throw noToken(`no ${file}`, file);
    throw new LocalDaemonError(`cannot read the daemon token ${file}: ${(e as Error).message}`, file);
  }
  try {
    // Checked on the open handle, so the file cannot change in between.
    const mode = (await handle.stat()).mode & 0o777;
    if (node.platform !== "win32" && (mode & 0o077) !== 0) {
      throw new LocalDaemonError(
        `the daemon token ${file} is readable by other users (mode ${mode.toString(8)})\nhint: chmod 600 ${file}`,
        file,
      );
    }
    const token = (await handle.readFile("utf8")).trim();
    if (!token) {
      throw new LocalDaemonError(
        `the daemon token file ${file} is empty\nhint: delete it and restart the daemon, which writes a new one`,
        file,
      );
    }
    return { url, token };
  } finally {
    await handle.close();
  }
}

/**
 * A `Client` for the daemon on this machine, found by `findLocal` (Node only). Without a `ca`
 * option, it trusts the CA in the PEM file `HAUL_RPC_CA_CERTIFICATE` names, if set (the CLI's
 * `--rpc-ca-certificate`).
 *
 * ```ts
 * const client = await connectLocal();
 * console.log((await client.systemGetVersion()).version);
 * ```
 */
export async function connectLocal(options: Omit<ClientOptions, "token"> = {}): Promise<Client> {
  const { url, token } = await findLocal();
  // The CLI's --rpc-ca-certificate, as the Rust and Python SDKs read it.
  const caFile = (globalThis as { process?: NodeProcess }).process?.env?.HAUL_RPC_CA_CERTIFICATE;
  if (options.ca === undefined && caFile) {
    const { readFile } = await import("node:fs/promises");
    let ca: string;
    try {
      ca = await readFile(caFile, "utf8");
    } catch (e) {
      throw new LocalDaemonError(`cannot read HAUL_RPC_CA_CERTIFICATE ${caFile}: ${(e as Error).message}`);
    }
    return new Client(url, { ...options, ca, token });
  }
  return new Client(url, { ...options, token });
}

function noToken(where: string, file?: string): LocalDaemonError {
  return new LocalDaemonError(
    `no daemon token: HAUL_RPC_SECRET is not set and there is ${where}\n` +
      "hint: start the daemon (`haul daemon`), which writes that file; or set HAUL_RPC_SECRET to the daemon's " +
      "--rpc-secret, or HAUL_STATE_DIR to its --state-dir",
    file,
  );
}
