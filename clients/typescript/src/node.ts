// The Node-only transport of haul-client (hand-written runtime): what the global `fetch` and
// `WebSocket` cannot do there, trust a given CA and talk over a unix socket, done with Node's own
// `http`, `https` and `net`. `runtime.ts` imports this module only for a client that needs it
// (`ca`, or a `unix:` URL), so a browser never loads it; package.json's "browser" field maps it
// away for bundlers.

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { connect } from "node:net";

/** The `ca` option: PEM text (one certificate or several, concatenated), as a string or bytes. */
export type Ca = string | Uint8Array;

/** The HTTP path of calls, and of the WebSocket, on a unix socket: the same as on TCP. */
const HTTP_PATH = "/jsonrpc";
const WS_PATH = "/jsonrpc/ws";
/**
 * The Host header sent over a unix socket: the daemon answers only to loopback names (its DNS
 * rebinding guard), and a socket has no host of its own.
 */
const UNIX_HOST = "localhost";

/** What the `ws` package is given to open a WebSocket that `new WebSocket(url)` alone could not. */
export interface WsTarget {
  /** The URL handed to `ws`: for a unix socket, `ws://localhost/jsonrpc/ws` (the connection goes to the socket). */
  url: string;
  options: { ca?: Ca; createConnection?: () => unknown };
}

/** The socket path of a `unix:/abs/path/haul.sock` URL, or undefined for any other URL. */
export function socketPathOf(url: string): string | undefined {
  // Taken literally, not URL-decoded: the daemon prints its socket as `unix:` + the path.
  return url.startsWith("unix:") ? url.slice("unix:".length) : undefined;
}

/**
 * One client's Node transport: keep-alive agents (HTTPS ones trusting `ca` when given) that
 * `close()` ends.
 */
export class NodeTransport {
  readonly #ca: Ca | undefined;
  readonly #http = new HttpAgent({ keepAlive: true });
  readonly #https: HttpsAgent;

  constructor(ca: Ca | undefined) {
    this.#ca = ca;
    // `ca` replaces Node's bundled roots (and NODE_EXTRA_CA_CERTS) for this client: it trusts the
    // daemon's CA and nothing else, which is what a pinned private CA is for.
    this.#https = new HttpsAgent({ keepAlive: true, ...(ca === undefined ? {} : { ca: pem(ca) }) });
  }

  /** POSTs `body` to `url` (`http(s)://…` or `unix:/…`); resolves with the status and body text. */
  post(
    url: string,
    headers: Record<string, string>,
    body: string,
    timeoutMs: number,
  ): Promise<{ status: number; text: string }> {
    const socketPath = socketPathOf(url);
    const secure = socketPath === undefined && url.startsWith("https:");
    const signal = AbortSignal.timeout(timeoutMs);
    const options = {
      method: "POST",
      headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
      agent: secure ? this.#https : this.#http,
      signal,
    };
    return new Promise((resolve, reject) => {
      const done = (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", reject);
      };
      const request =
        socketPath !== undefined
          ? httpRequest({ ...options, socketPath, path: HTTP_PATH, headers: { ...options.headers, host: UNIX_HOST } }, done)
          : (secure ? httpsRequest : httpRequest)(url, options, done);
      request.on("error", reject);
      request.end(body);
    });
  }

  /** How the `ws` package opens `wsUrl` (`ws(s)://…` or `unix:/…`) for this client. */
  webSocket(wsUrl: string): WsTarget {
    const socketPath = socketPathOf(wsUrl);
    if (socketPath !== undefined) {
      return { url: `ws://${UNIX_HOST}${WS_PATH}`, options: { createConnection: () => connect(socketPath) } };
    }
    return { url: wsUrl, options: this.#ca !== undefined && wsUrl.startsWith("wss:") ? { ca: pem(this.#ca) } : {} };
  }

  /** Ends the kept-alive connections. */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

/** Node's TLS reads PEM from a string or a Buffer, not from any Uint8Array. */
function pem(ca: Ca): string | Buffer {
  return typeof ca === "string" ? ca : Buffer.from(ca.buffer, ca.byteOffset, ca.byteLength);
}
