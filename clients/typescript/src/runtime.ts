// The hand-written runtime of haul-client: JSON-RPC 2.0 over fetch and over a
// WebSocket, bearer auth, notifications and errors. It knows nothing of haul's
// methods; `api.ts`, generated from openrpc.json, supplies every name and type.

/** How to reach the daemon. */
export interface ClientOptions {
  /** The daemon's token: `--rpc-secret`, or the `rpc-secret` file in its state directory. */
  token: string;
  /**
   * The WebSocket URL that notifications (and, for a `ws(s)://` client URL, calls) go over.
   * Default: the client URL with `http` → `ws` and `/jsonrpc` → `/jsonrpc/ws`.
   */
  wsUrl?: string;
  /** How long a call may take before it fails with a `TransportError`, in milliseconds. Default 30000. */
  timeoutMs?: number;
  /**
   * The WebSocket implementation. Default: the global `WebSocket` (browsers, Node ≥ 22), which
   * authenticates with the `haul.bearer.<token>` subprotocol; else the `ws` package, which sends
   * an `Authorization` header.
   */
  WebSocket?: WebSocketConstructor;
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

/** The subprotocol haul speaks, and the prefix that carries the token for browsers. */
const PROTOCOL = "haul.jsonrpc";
const BEARER_PROTOCOL = "haul.bearer.";

/**
 * The untyped core of `Client`: `M` maps method names to params and results, `N` notification
 * names to payloads (both generated).
 */
export class RpcClient<M extends MethodMap<M>, N> {
  /** Where calls go: `http(s)://…/jsonrpc` or `ws(s)://…/jsonrpc/ws`. */
  readonly url: string;
  /** Where notifications come from. */
  readonly wsUrl: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #WebSocket: WebSocketConstructor | undefined;
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
    if (!["http:", "https:", "ws:", "wss:"].includes(parsed.protocol)) {
      throw new TypeError(`invalid daemon url \`${url}\`: expected http(s):// or ws(s)://`);
    }
    this.url = url;
    this.wsUrl = options.wsUrl ?? webSocketUrl(parsed);
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#WebSocket = options.WebSocket;
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
  }

  async #post(url: string, method: string, params: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.#token}` },
        body: JSON.stringify(request(1, method, params)),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (e) {
      throw new TransportError(`cannot reach the haul daemon at ${url}: ${describe(e)}`, { cause: e });
    }
    const text = await response.text();
    return settle(parseReply(text, `${url} (HTTP ${response.status})`));
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
        const detail = (event as { message?: string }).message;
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

function describe(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return e instanceof Error ? e.message : String(e);
}
