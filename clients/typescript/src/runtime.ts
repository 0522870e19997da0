// The hand-written runtime of haul-client: JSON-RPC 2.0 over fetch and over a
// WebSocket, bearer auth, notifications and errors. It knows nothing of haul's
// methods; `api.ts`, generated from openrpc.json, supplies every name and type.
// What fetch cannot do (a given CA, a unix socket) is in `node.ts`, Node only.

import type { Ca, NodeTransport } from "./node.js";

/** How to reach the daemon. */
export interface ClientOptions {
  /** The daemon's token: `--rpc-secret`, or the `rpc-secret` file in its state directory. */
  token: string;
  /**
   * The WebSocket URL that notifications (and, for a `ws(s)://` client URL, calls) go over.
   * Default: the client URL with `http` → `ws` and `/jsonrpc` → `/jsonrpc/ws`; for a
   * `unix:/path/haul.sock` client URL, the same socket (its WebSocket is at `/jsonrpc/ws`).
   */
  wsUrl?: string;
  /** How long a call may take before it fails with a `TransportError`, in milliseconds. Default 30000. */
  timeoutMs?: number;
  /**
   * The WebSocket implementation. Default: the global `WebSocket` (browsers, Node ≥ 22), which
   * authenticates with the `haul.bearer.<token>` subprotocol; else the `ws` package, which sends
   * an `Authorization` header. Not with `ca` or a `unix:` URL, which the `ws` package handles.
   */
  WebSocket?: WebSocketConstructor;
  /**
   * The certificate of the CA that signed the daemon's (`haul daemon --rpc-certificate`), as PEM
   * text or bytes (the file's contents, not its path; several certificates may be concatenated).
   * HTTPS calls and WSS connections of this client, its event streams' reconnections included,
   * trust it and nothing else. Without it, Node trusts its bundled roots and `NODE_EXTRA_CA_CERTS`.
   *
   * Node only: a browser trusts what its own certificate store does, so a `Client` given `ca`
   * there throws; add the CA to the browser's (or the system's) store instead.
   */
  ca?: string | Uint8Array;
}

/** What the runtime needs of a WebSocket: the browser's and the `ws` package's both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: { headers?: Record<string, string>; handshakeTimeout?: number },
) => WebSocketLike;

/** An error the API answered with: `code` is one of `ErrorCode`, `data` its documented data. */
export class HaulError<D = unknown> extends Error {
  readonly code: number;
  readonly data: D;
  constructor(code: number, message: string, data: D) {
    super(message);
    this.name = "HaulError";
    this.code = code;
    this.data = data;
  }
}

/** The daemon could not be reached, the connection broke, or it answered something that is not JSON-RPC. */
export class TransportError extends Error {
  /**
   * For a WebSocket that could not be opened: the HTTP status the upgrade was refused with, or 0
   * when the WebSocket implementation (a browser's) does not tell why it failed.
   */
  readonly status: number | undefined;
  constructor(message: string, options?: { cause?: unknown; status?: number | undefined }) {
    super(message, options);
    this.name = "TransportError";
    this.status = options?.status;
  }
}

type MethodMap<M> = { [K in keyof M]: { params: unknown; result: unknown } };
/** Receives a connection's notifications, in the order they arrive. */
export type Listener = (method: string, params: unknown) => void;

/**
 * What an event stream (`events.ts`) needs of its client: WebSockets of its own, HTTP calls for
 * polling, and a way to be closed with the client.
 */
export interface Link {
  readonly wsUrl: string;
  /** Opens a new authenticated WebSocket that hands its notifications to `notify`; `signal` gives up. */
  open(notify: Listener, signal?: AbortSignal): Promise<Socket>;
  /** Calls `method` over HTTP. */
  post(method: string, params: unknown): Promise<unknown>;
  /** How long a call may take, in milliseconds. */
  readonly timeoutMs: number;
  /** Ends `stream` when the client closes; returns the function that forgets it. */
  track(stream: { close(): void }): () => void;
}

/** A `unix:` client URL: the daemon's `--listen unix:/path/haul.sock`, taken literally. */
const UNIX = "unix:";

/** The subprotocol haul speaks, and the prefix that carries the token for browsers. */
const PROTOCOL = "haul.jsonrpc";
const BEARER_PROTOCOL = "haul.bearer.";

/**
 * The untyped core of `Client`: `M` maps method names to params and results, `N` notification
 * names to payloads (both generated).
 */
export class RpcClient<M extends MethodMap<M>, N> {
  /** Where calls go: `http(s)://…/jsonrpc`, `ws(s)://…/jsonrpc/ws` or `unix:/…/haul.sock`. */
  readonly url: string;
  /** Where notifications come from. */
  readonly wsUrl: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #WebSocket: WebSocketConstructor | undefined;
  readonly #ca: Ca | undefined;
  /** Node's HTTP(S) and sockets, loaded on first use when `ca` or a `unix:` URL needs them. */
  #node: Promise<NodeTransport> | undefined;
  readonly #listeners = new Set<Listener>();
  /** How to end each open event stream, for `close()`. */
  readonly #streams = new Set<{ close(): void }>();
  #socket: Promise<Socket> | undefined;
  #closed = false;

  constructor(url: string, options: ClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (e) {
      throw new TypeError(`invalid daemon url \`${url}\`: ${describe(e)}`);
    }
    if (!["http:", "https:", "ws:", "wss:", UNIX].includes(parsed.protocol)) {
      throw new TypeError(`invalid daemon url \`${url}\`: expected http(s)://, ws(s):// or unix:/path`);
    }
    this.url = url;
    this.wsUrl = options.wsUrl ?? (url.startsWith(UNIX) ? url : webSocketUrl(parsed));
    for (const [what, value] of [["daemon url", url], ["wsUrl", this.wsUrl]] as const) {
      if (value.startsWith(UNIX) && !value.startsWith(UNIX + "/")) {
        throw new TypeError(`invalid ${what} \`${value}\`: a unix: URL takes an absolute socket path, e.g. unix:/run/haul/haul.sock`);
      }
    }
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#WebSocket = options.WebSocket;
    this.#ca = options.ca;
    const socket = [url, this.wsUrl].find((u) => u.startsWith(UNIX));
    if (options.ca !== undefined) checkCa(options.ca);
    if (options.ca !== undefined || socket !== undefined) {
      const what = options.ca !== undefined ? "the `ca` option" : `a unix: URL (\`${socket}\`)`;
      if (!(globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node) {
        throw new TypeError(
          options.ca !== undefined
            ? "the `ca` option needs Node.js: a browser trusts only its own certificate store\n" +
                "hint: add the CA to the browser's (or the system's) trust store, and leave `ca` out"
            : `${what} needs Node.js: a browser cannot open unix sockets\n` +
                "hint: have the daemon listen on TCP too (--listen HOST:PORT) and use its https:// URL",
        );
      }
      if (options.WebSocket) {
        throw new TypeError(
          `the \`WebSocket\` option cannot be combined with ${what}: those WebSockets are opened with the ws package\n` +
            "hint: leave `WebSocket` out",
        );
      }
    }
  }

  /** Calls `method`; resolves with its result or rejects with a `HaulError` or a `TransportError`. */
  protected async call<K extends keyof M & string>(
    method: K,
    params: M[K]["params"],
  ): Promise<M[K]["result"]> {
    if (this.url.startsWith("ws")) {
      const socket = await this.#connect();
      return (await socket.call(method, params, this.#timeoutMs)) as M[K]["result"];
    }
    return (await this.#post(this.url, method, params)) as M[K]["result"];
  }

  /** What `Events` needs of this client (see `events()`). */
  protected link(): Link {
    const httpUrl = this.url.startsWith("ws") ? httpUrlFor(this.url) : this.url;
    return {
      wsUrl: this.wsUrl,
      timeoutMs: this.#timeoutMs,
      open: (notify, signal) =>
        this.#closed ? Promise.reject(new TransportError("the client is closed")) : this.#open(notify, signal),
      post: (method, params) => this.#post(httpUrl, method, params),
      track: (stream) => {
        if (this.#closed) {
          queueMicrotask(() => stream.close());
          return () => {};
        }
        this.#streams.add(stream);
        return () => this.#streams.delete(stream);
      },
    };
  }

  /**
   * Calls `handler` with every `method` notification on the client's WebSocket. Resolves, with a
   * function that stops the calls, once the WebSocket is open: no notification sent after that is
   * missed while it stays open. It is not reopened or replayed after it drops; `events()` is.
   */
  async on<K extends keyof N & string>(method: K, handler: (params: N[K]) => void): Promise<() => void> {
    const listener: Listener = (m, params) => {
      if (m === method) handler(params as N[K]);
    };
    this.#listeners.add(listener);
    try {
      await this.#connect();
    } catch (e) {
      this.#listeners.delete(listener);
      throw e;
    }
    return () => this.#listeners.delete(listener);
  }

  /** Closes the WebSocket, if one is open: pending calls fail, event streams end. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const stream of [...this.#streams]) stream.close();
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) (await socket.catch(() => undefined))?.close();
    const node = this.#node;
    this.#node = undefined;
    if (node) (await node).close();
  }

  async #post(url: string, method: string, params: unknown): Promise<unknown> {
    const headers = { "content-type": "application/json", authorization: `Bearer ${this.#token}` };
    const body = JSON.stringify(request(1, method, params));
    let status: number;
    let text: string;
    try {
      if (this.#needsNode(url)) {
        ({ status, text } = await (await this.#nodeTransport()).post(url, headers, body, this.#timeoutMs));
      } else {
        const response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(this.#timeoutMs) });
        status = response.status;
        text = await response.text();
      }
    } catch (e) {
      throw new TransportError(`cannot reach the haul daemon at ${url}: ${describe(e)}`, { cause: e });
    }
    return settle(parseReply(text, `${url} (HTTP ${status})`));
  }

  /** Whether `url` needs Node's own transport: a unix socket, or TLS that trusts `ca`. */
  #needsNode(url: string): boolean {
    return url.startsWith(UNIX) || (this.#ca !== undefined && /^(https|wss):/.test(url));
  }

  #nodeTransport(): Promise<NodeTransport> {
    this.#node ??= import("./node.js").then(({ NodeTransport }) => new NodeTransport(this.#ca));
    return this.#node;
  }

  #connect(): Promise<Socket> {
    if (this.#closed) return Promise.reject(new TransportError("the client is closed"));
    if (!this.#socket) {
      const socket = this.#open((method, params) => {
        for (const listener of this.#listeners) listener(method, params);
      });
      this.#socket = socket;
      socket.then(
        (s) => s.closed.then(() => this.#socket === socket && (this.#socket = undefined)),
        () => this.#socket === socket && (this.#socket = undefined),
      );
    }
    return this.#socket;
  }

  async #open(notify: Listener, signal?: AbortSignal): Promise<Socket> {
    if (this.#needsNode(this.wsUrl)) {
      // Neither a browser's nor Node's global WebSocket takes a CA or a socket; the ws package does.
      const [{ default: WebSocket }, node] = await Promise.all([import("ws"), this.#nodeTransport()]);
      const target = node.webSocket(this.wsUrl);
      const ws = new WebSocket(target.url, [PROTOCOL], {
        headers: { authorization: `Bearer ${this.#token}` },
        handshakeTimeout: this.#timeoutMs,
        ...(target.options as object),
      });
      return Socket.open(ws as unknown as WebSocketLike, this.wsUrl, notify, this.#timeoutMs, signal);
    }
    let Ctor = this.#WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    let headers = false;
    if (!Ctor) {
      Ctor = (await import("ws")).default as unknown as WebSocketConstructor;
      headers = true;
    }
    const ws = headers
      ? new Ctor(this.wsUrl, [PROTOCOL], {
          headers: { authorization: `Bearer ${this.#token}` },
          handshakeTimeout: this.#timeoutMs,
        })
      : new Ctor(this.wsUrl, [PROTOCOL, BEARER_PROTOCOL + this.#token]);
    return Socket.open(ws, this.wsUrl, notify, this.#timeoutMs, signal);
  }
}

interface Pending {
  /** Runs with the result as a successful answer is read, before any message after it. */
  answered: ((result: unknown) => void) | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** One open WebSocket: calls matched to answers by id, notifications handed on. */
export class Socket {
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  /** When the last message arrived (`Date.now()`). */
  lastMessage = Date.now();
  /** Resolves with the reason when the socket closes, whoever closed it. */
  readonly closed: Promise<TransportError>;
  #onClose!: (reason: TransportError) => void;
  #isClosed = false;

  private constructor(
    private readonly ws: WebSocketLike,
    private readonly url: string,
    notify: Listener,
  ) {
    this.closed = new Promise((resolve) => (this.#onClose = resolve));
    ws.onmessage = (event) => {
      this.lastMessage = Date.now();
      let message: { id?: unknown; method?: unknown; params?: unknown; result?: unknown };
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (typeof message.id === "number" && this.#pending.has(message.id)) {
        const pending = this.#pending.get(message.id)!;
        this.#pending.delete(message.id);
        clearTimeout(pending.timer);
        if (!("error" in message)) pending.answered?.(message.result);
        try {
          pending.resolve(settle(message));
        } catch (e) {
          pending.reject(e);
        }
      } else if (message.id === undefined && typeof message.method === "string") {
        notify(message.method, message.params);
      }
    };
    ws.onclose = (event) => {
      this.#end(
        new TransportError(`the connection to ${url} closed (code ${event.code}${event.reason ? `: ${event.reason}` : ""})`),
      );
    };
  }

  /**
   * Resolves once `ws` is open. Rejects with the daemon's error when it refuses the upgrade, else
   * with a `TransportError` (whose `status` says how the upgrade was refused, if it was), after
   * `timeoutMs` without an answer, or when `signal` aborts.
   */
  static open(
    ws: WebSocketLike,
    url: string,
    notify: Listener,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Socket> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", abort);
        abandon(ws);
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new TransportError(`no WebSocket handshake with ${url} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const abort = () => fail(new TransportError(`gave up opening a WebSocket to ${url}`));
      if (signal?.aborted) return abort();
      signal?.addEventListener("abort", abort);
      // The `ws` package reports a refused upgrade with the response; the daemon's has a JSON-RPC error.
      const emitter = ws as unknown as { on?: (event: string, f: (...args: never[]) => void) => void };
      emitter.on?.("unexpected-response", (request: { destroy(): void }, response: AsyncIterable<Buffer> & { statusCode?: number }) => {
        (async () => {
          let text = "";
          for await (const chunk of response) text += chunk.toString();
          const status = response.statusCode ?? 0;
          let refusal: Error = new TransportError(
            `${url} refused the WebSocket upgrade (HTTP ${status})${text ? `: ${text.slice(0, 200)}` : ""}`,
            { status },
          );
          try {
            settle(JSON.parse(text));
          } catch (e) {
            if (e instanceof HaulError) refusal = e;
          }
          request.destroy();
          fail(refusal);
        })().catch(fail);
      });
      ws.onerror = (event) => {
        // The ws package's event carries the error (a TLS one has its code); a browser's carries nothing.
        const error = (event as { error?: unknown }).error;
        const detail = error !== undefined ? describe(error) : (event as { message?: string }).message;
        // A browser's WebSocket does not say why (refused, unreachable or unauthorized).
        const status = emitter.on ? undefined : 0;
        fail(new TransportError(`cannot open a WebSocket to ${url}: ${detail ?? "refused, unreachable or unauthorized"}`, { status }));
      };
      ws.onopen = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", abort);
        ws.onerror = null;
        resolve(new Socket(ws, url, notify));
      };
    });
  }

  /**
   * Calls `method` on this socket. `answered` runs with the result as a successful answer arrives,
   * before the socket hands on any notification sent after it.
   */
  call(method: string, params: unknown, timeoutMs: number, answered?: (result: unknown) => void): Promise<unknown> {
    if (this.#isClosed) return Promise.reject(new TransportError(`the connection to ${this.url} is closed`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new TransportError(`no answer from ${this.url} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { answered, resolve, reject, timer });
      this.ws.send(JSON.stringify(request(id, method, params)));
    });
  }

  /** Closes the socket now: pending calls fail, `closed` resolves. */
  close(): void {
    this.#end(new TransportError(`the connection to ${this.url} was closed by the client`));
    abandon(this.ws);
  }

  #end(reason: TransportError): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(reason);
    }
    this.#pending.clear();
    this.#onClose(reason);
  }
}

/** Closes `ws` at once: the `ws` package's `terminate()` when there is one (no closing handshake to wait for). */
function abandon(ws: WebSocketLike): void {
  const terminate = (ws as { terminate?: () => void }).terminate;
  try {
    if (terminate) terminate.call(ws);
    else ws.close(1000);
  } catch {
    // Closing a socket that never opened can throw in some implementations; it is gone either way.
  }
}

function request(id: number, method: string, params: unknown): Record<string, unknown> {
  const request: Record<string, unknown> = { jsonrpc: "2.0", id, method };
  if (params !== undefined) request.params = params;
  return request;
}

function parseReply(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new TransportError(`${where} answered something that is not JSON-RPC: ${text.slice(0, 200)}`);
  }
}

/** A reply's result, or its error thrown as a `HaulError`. */
function settle(reply: unknown): unknown {
  const r = reply as { result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } };
  if (r && typeof r === "object" && r.error && typeof r.error.code === "number") {
    throw new HaulError(r.error.code, String(r.error.message ?? ""), r.error.data);
  }
  if (r && typeof r === "object" && "result" in r) return r.result;
  throw new TransportError(`not a JSON-RPC response: ${JSON.stringify(reply).slice(0, 200)}`);
}

function webSocketUrl(url: URL): string {
  const ws = new URL(url.href);
  if (ws.protocol === "http:") ws.protocol = "ws:";
  if (ws.protocol === "https:") ws.protocol = "wss:";
  if (ws.pathname.endsWith("/jsonrpc")) ws.pathname += "/ws";
  return ws.href;
}

/** The HTTP endpoint behind a WebSocket one: `ws://h/jsonrpc/ws` → `http://h/jsonrpc`. */
function httpUrlFor(wsUrl: string): string {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  url.pathname = url.pathname.replace(/\/+$/, "").replace(/\/ws$/, "");
  return url.href;
}

/**
 * OpenSSL's verification errors that mean the certificate's issuer is not trusted (as opposed to a
 * certificate that is expired, or not for this host), which the `ca` option fixes.
 */
const UNTRUSTED = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
]);

/** Why a connection failed, as a phrase: an error code, or what a TLS failure means. */
function describe(e: unknown): string {
  // fetch wraps the socket's error as its cause; Node's http and the ws package report it as is.
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const inner = (cause?.code ? cause : e) as { code?: unknown; message?: unknown } | null;
  const code = typeof inner?.code === "string" ? inner.code : undefined;
  const message = typeof inner?.message === "string" ? inner.message : undefined;
  if (code && UNTRUSTED.has(code)) {
    return (
      `its TLS certificate is not trusted (${message ?? code})\n` +
      "hint: pass the certificate of the CA that signed it as the `ca` option, or name its file in NODE_EXTRA_CA_CERTS"
    );
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `its TLS certificate is not for this host (${message ?? code})`;
  if (code?.startsWith("CERT_")) return `its TLS certificate is not valid (${message ?? code})`;
  // A system error's code alone (`ECONNREFUSED`), as fetch's cause gives it.
  if (code && /^E[A-Z0-9]+$/.test(code)) return code;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return e instanceof Error ? e.message : String(e);
}

/** Refuses a `ca` that is not PEM, the likely mistake being a file's path instead of its contents. */
function checkCa(ca: unknown): void {
  const text =
    typeof ca === "string" ? ca : ca instanceof Uint8Array ? new TextDecoder().decode(ca.subarray(0, 1 << 20)) : undefined;
  if (text === undefined) {
    throw new TypeError(`invalid ca: expected PEM text (a string or bytes), got ${typeof ca}`);
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    throw new TypeError(
      `invalid ca \`${shown}\`: not a PEM certificate (no "-----BEGIN CERTIFICATE-----")\n` +
        "hint: pass the file's contents, e.g. readFileSync(\"ca.pem\"), not its path",
    );
  }
}
