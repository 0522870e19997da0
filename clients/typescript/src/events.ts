// The event stream that survives disconnects (hand-written; the same algorithm as the Rust SDK's
// `client::events`).
//
// A stream keeps a WebSocket of its own open. On it, it subscribes (`events.subscribe`) from the
// last `seq` it delivered, drops what arrives before the answer (the replay that follows repeats
// it), delivers each notification once, and when the connection drops it reconnects with
// exponential backoff and jitter. When the daemon cannot replay (it restarted, or the client was
// away longer than its window) the stream yields a `Resync` with every download's current state,
// then goes on. When no WebSocket can be opened at all while the daemon answers over HTTP (a
// proxy refusing upgrades) and `pollingIntervalMs` is set, it polls `events.poll` over HTTP
// instead, which answers from the same window: the same notifications, a poll interval later.

import type {
  DownloadList,
  DownloadListParams,
  DownloadStatus,
  ErrorCode,
  EventPoll,
  EventStream,
  EventsPollParams,
  EventsSubscribeParams,
  EventsUnavailableErrorData,
  Gid,
  Notification,
  NotificationKind,
} from "./api.js";
import { HaulError, TransportError, type Link, type Listener, type Socket } from "./runtime.js";

/** What to stream, and how to keep it going. */
export interface EventsOptions {
  /** Only notifications about these downloads. */
  gids?: Gid[];
  /** Only these notifications. */
  kinds?: NotificationKind[];
  /** At least this many milliseconds (≥ 100) between two progress notifications of one download. */
  progressInterval?: number;
  /** The first wait before reconnecting, in milliseconds; it doubles (with jitter) up to `maxBackoffMs`. Default 100. */
  initialBackoffMs?: number;
  /** The longest wait between two reconnection attempts, in milliseconds. Default 10000. */
  maxBackoffMs?: number;
  /**
   * Poll `events.poll` at this interval, in milliseconds, when the WebSocket upgrade is refused
   * (a proxy that does not pass WebSockets) but the daemon answers over HTTP. Default: never poll.
   */
  pollingIntervalMs?: number;
  /**
   * How long the connection may stay silent, in milliseconds, before the stream checks it with a
   * call; one the daemon does not answer within the client's `timeoutMs` is replaced (a network
   * that vanished without closing it, a laptop that slept). Default 30000.
   */
  livenessMs?: number;
}

/** How the stream gets its events: not connected (yet, or again), over a WebSocket, or by polling. */
export type EventsMode = "connecting" | "websocket" | "polling";

/**
 * Why notifications were lost for good: the daemon restarted (its stream is a new one), the client
 * was away longer than the daemon's replay window, or the stream switched to polling.
 */
export type ResyncReason = "restarted" | "windowExceeded" | "polling";

/**
 * Yielded instead of notifications that cannot be replayed: every download's current state
 * (only `gids`' when given). Notifications after it continue from that state.
 */
export interface Resync {
  method: "resync";
  reason: ResyncReason;
  downloads: DownloadStatus[];
}

/** One item of an event stream: a daemon notification or a `Resync`. */
export type StreamEvent = Notification | Resync;

/** Notifications asked for per poll; a full answer is followed at once by the next poll. */
const POLL_LIMIT = 1000;

// Checked against the generated `ErrorCode` at compile time.
const EVENTS_UNAVAILABLE: (typeof ErrorCode)["EventsUnavailable"] = -32012;
const UNAUTHORIZED: (typeof ErrorCode)["Unauthorized"] = -32000;

/** How one connection ended; "refused": the upgrade was answered, but not with a WebSocket. */
type Outcome = { end: "closed" } | { end: "fatal"; error: unknown } | { end: "retry" | "refused"; error: unknown };

/**
 * The daemon's notifications, each delivered once and in order across reconnects, with a `Resync`
 * where that is impossible. Progress a reader has not taken yet is replaced by the download's
 * next progress (state changes are always kept), so a slow reader never works through stale
 * progress. It connects at once; iterate it with `for await`. It ends on
 * `close()`, on `break`, when its client closes, or after throwing an error it cannot recover
 * from (a refused token, invalid options). Read it from one place at a time.
 */
export class Events implements AsyncIterableIterator<StreamEvent> {
  readonly #link: Link;
  readonly #options: EventsOptions;
  readonly #known: readonly string[];
  readonly #queue = new Unread();
  readonly #ready: Promise<void>;
  readonly #forget: (() => void) | undefined;
  #settleReady: ((error?: unknown) => void) | undefined;
  #wake: (() => void) | undefined;
  #failure: { error: unknown } | undefined;
  #closed = false;
  #mode: EventsMode = "connecting";
  #socket: Socket | undefined;
  /** Gives up the WebSocket being opened, on `close()`. */
  #opening: AbortController | undefined;
  #interruptSleep: (() => void) | undefined;
  /** The last notification delivered: its stream and `seq`. */
  #position: { streamId: string; seq: number } | undefined;
  /** A resync owed to the reader, delivered once a connection has listed the downloads. */
  #resync: ResyncReason | undefined;
  #everConnected = false;

  /** Use `client.events(options)`. */
  constructor(link: Link, known: readonly string[], options: EventsOptions = {}) {
    for (const name of ["initialBackoffMs", "maxBackoffMs", "pollingIntervalMs", "livenessMs"] as const) {
      const value = options[name];
      if (value !== undefined && !(value > 0)) throw new RangeError(`${name} must be positive, got ${value}`);
    }
    if ((options.maxBackoffMs ?? 10_000) < (options.initialBackoffMs ?? 100)) {
      throw new RangeError(`maxBackoffMs (${options.maxBackoffMs}) is below initialBackoffMs (${options.initialBackoffMs ?? 100})`);
    }
    this.#link = link;
    this.#known = known;
    this.#options = options;
    this.#ready = new Promise((resolve, reject) => {
      this.#settleReady = (error) => (error === undefined ? resolve() : reject(error));
    });
    this.#ready.catch(() => {});
    this.#forget = link.track(this);
    void this.#run();
  }

  /** How the stream gets its events right now. */
  get mode(): EventsMode {
    return this.#mode;
  }

  /**
   * Resolves once the first connection attempt delivers (nothing the daemon sends after this is
   * missed), else rejects with that attempt's error. The stream keeps retrying either way.
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  async next(): Promise<IteratorResult<StreamEvent, undefined>> {
    for (;;) {
      const event = this.#queue.shift();
      if (event !== undefined) return { value: event, done: false };
      if (this.#failure) {
        const { error } = this.#failure;
        this.close();
        throw error;
      }
      if (this.#closed) return { value: undefined, done: true };
      await new Promise<void>((wake) => (this.#wake = wake));
      this.#wake = undefined;
    }
  }

  async return(): Promise<IteratorResult<StreamEvent, undefined>> {
    this.close();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): Events {
    return this;
  }

  /** Closes the stream's connection and stops reconnecting; iteration ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failure = undefined;
    this.#queue.clear();
    this.#socket?.close();
    this.#opening?.abort();
    this.#interruptSleep?.();
    this.#forget?.();
    this.#tellFirst(new TransportError("the event stream was closed"));
    this.#wake?.();
  }

  async #run(): Promise<void> {
    const initial = this.#options.initialBackoffMs ?? 100;
    let backoff = initial;
    while (!this.#closed) {
      const outcome = await this.#connection(() => (backoff = initial));
      this.#mode = "connecting";
      if (outcome.end === "closed" || this.#closed) return;
      if (outcome.end === "fatal") return this.#fail(outcome.error);
      if (outcome.end === "refused" && !this.#everConnected) {
        // Whatever refused the upgrade, the daemon may still answer over HTTP: a wrong token is
        // final (a browser's WebSocket hides the 401), and polling is what is left, if allowed.
        const probe = await this.#link.post("system.getVersion", undefined).then(
          () => undefined,
          (error: unknown) => error,
        );
        if (this.#closed) return;
        if (probe instanceof HaulError && probe.code === UNAUTHORIZED) return this.#fail(probe);
        if (probe === undefined && this.#options.pollingIntervalMs !== undefined) return this.#poll();
        // A browser's WebSocket (and Node's global one) does not say why it failed; when HTTP
        // fails too, its error does (an untrusted certificate, a refused connection).
        if (probe instanceof TransportError && outcome.error instanceof TransportError && outcome.error.status === 0) {
          this.#tellFirst(probe);
        }
      }
      this.#tellFirst(outcome.error);
      await this.#sleep(backoff * (0.5 + Math.random() / 2));
      backoff = Math.min(backoff * 2, this.#options.maxBackoffMs ?? 10_000);
    }
  }

  /** One WebSocket, from opening to its end; `connected` runs once it is subscribed. */
  async #connection(connected: () => void): Promise<Outcome> {
    // Notifications before the subscribe answer are dropped (the replay repeats them); while a
    // resync is listing the downloads, the ones after it are held back, then delivered.
    let live = false;
    let held: Notification[] | undefined = this.#resync !== undefined ? [] : undefined;
    const notify: Listener = (method, params) => {
      if (!live || !this.#known.includes(method) || !stamped(params)) return;
      const notification = { method, params } as Notification;
      if (held) held.push(notification);
      else this.#deliver(notification);
    };
    let socket: Socket;
    this.#opening = new AbortController();
    try {
      socket = await this.#link.open(notify, this.#opening.signal);
    } catch (error) {
      return { end: classify(error), error };
    } finally {
      this.#opening = undefined;
    }
    if (this.#closed) {
      socket.close();
      return { end: "closed" };
    }
    this.#socket = socket;
    const timeoutMs = this.#link.timeoutMs;
    const call = (method: string, params: unknown, answered?: (result: unknown) => void) =>
      socket.call(method, params, timeoutMs, answered);
    // From the answer on, notifications count; the first one also sets where the stream starts.
    const subscribe = () =>
      call("events.subscribe", this.#subscribeParams(), (result) => {
        live = true;
        const { streamId, seq } = result as EventStream;
        this.#position ??= { streamId, seq };
      }) as Promise<EventStream>;
    const livenessMs = this.#options.livenessMs ?? 30_000;
    let checking = false;
    const watchdog = setInterval(() => {
      if (checking || Date.now() - socket.lastMessage < livenessMs) return;
      checking = true;
      call("system.getVersion", undefined).then(
        () => (checking = false),
        () => socket.close(),
      );
    }, livenessMs);
    try {
      try {
        await subscribe();
      } catch (error) {
        if (!(error instanceof HaulError) || error.code !== EVENTS_UNAVAILABLE) throw error;
        const data = error.data as EventsUnavailableErrorData | null | undefined;
        this.#resync = data && data.streamId === this.#position?.streamId ? "windowExceeded" : "restarted";
        this.#position = undefined;
        held = [];
        await subscribe();
      }
      this.#mode = "websocket";
      this.#everConnected = true;
      this.#tellFirst();
      connected();
      if (this.#resync !== undefined) {
        const downloads = await this.#listAll((params) => call("download.list", params));
        this.#push({ method: "resync", reason: this.#resync, downloads });
        this.#resync = undefined;
        const kept = held ?? [];
        held = undefined;
        for (const notification of kept) this.#deliver(notification);
      }
      const reason = await socket.closed;
      return this.#closed ? { end: "closed" } : { end: "retry", error: reason };
    } catch (error) {
      socket.close();
      if (this.#closed) return { end: "closed" };
      return { end: error instanceof HaulError ? "fatal" : "retry", error };
    } finally {
      clearInterval(watchdog);
      this.#socket = undefined;
    }
  }

  /**
   * Polls `events.poll` until closed: where the stream stands and every download first (a
   * `Resync`), then the notifications after it, as a WebSocket would have had them.
   */
  async #poll(): Promise<void> {
    this.#mode = "polling";
    const post = (method: string, params: unknown) => this.#link.post(method, params);
    const { gids, kinds } = this.#options;
    let reason: ResyncReason = "polling";
    while (!this.#closed) {
      let wait = this.#options.pollingIntervalMs ?? 1000;
      try {
        if (this.#position === undefined) {
          const { streamId, next } = (await post("events.poll", {})) as EventPoll;
          const downloads = await this.#listAll((params) => post("download.list", params));
          this.#tellFirst();
          this.#push({ method: "resync", reason, downloads });
          this.#position = { streamId, seq: next };
          wait = 0;
        } else {
          const params: EventsPollParams = {
            since: this.#position.seq,
            streamId: this.#position.streamId,
            limit: POLL_LIMIT,
          };
          if (gids) params.gids = gids;
          if (kinds) params.kinds = kinds;
          const poll = (await post("events.poll", params)) as EventPoll;
          for (const notification of poll.notifications) {
            if (this.#known.includes(notification.method)) this.#push(notification);
          }
          this.#position = { streamId: poll.streamId, seq: poll.next };
          if (poll.notifications.length >= POLL_LIMIT) wait = 0;
        }
      } catch (error) {
        if (error instanceof HaulError && error.code === UNAUTHORIZED) return this.#fail(error);
        if (error instanceof HaulError && error.code === EVENTS_UNAVAILABLE) {
          const data = error.data as EventsUnavailableErrorData | null | undefined;
          reason = data && data.streamId === this.#position?.streamId ? "windowExceeded" : "restarted";
          this.#position = undefined;
          continue;
        }
        this.#tellFirst(error); // The daemon is away: poll again later.
      }
      await this.#sleep(wait);
    }
  }

  /**
   * Every download the daemon keeps (only `gids`' when given), page by page along the list's
   * cursor, so downloads added or removed between two pages never make one skip or repeat another.
   */
  async #listAll(call: (params: DownloadListParams) => Promise<unknown>): Promise<DownloadStatus[]> {
    const all: DownloadStatus[] = [];
    let cursor: string | null = null;
    do {
      const params: DownloadListParams = cursor === null ? { limit: 1000 } : { limit: 1000, cursor };
      const page = (await call(params)) as DownloadList;
      all.push(...page.downloads);
      cursor = page.cursor;
    } while (cursor !== null);
    const gids = this.#options.gids;
    return gids ? all.filter((d) => gids.includes(d.gid)) : all;
  }

  #subscribeParams(): EventsSubscribeParams {
    const { gids, kinds, progressInterval } = this.#options;
    const params: EventsSubscribeParams = {};
    if (this.#position) {
      params.since = this.#position.seq;
      params.streamId = this.#position.streamId;
    }
    if (gids) params.gids = gids;
    if (kinds) params.kinds = kinds;
    if (progressInterval !== undefined) params.progressInterval = progressInterval;
    return params;
  }

  /** Hands on `notification` unless it was delivered already. */
  #deliver(notification: Notification): void {
    const { streamId, seq } = notification.params;
    const last = this.#position;
    if (last && last.streamId === streamId && seq <= last.seq) return;
    this.#position = { streamId, seq };
    this.#push(notification);
  }

  #push(event: StreamEvent): void {
    if (this.#closed) return;
    this.#queue.push(event);
    this.#wake?.();
  }

  #fail(error: unknown): void {
    this.#tellFirst(error);
    this.#failure = { error };
    this.#wake?.();
  }

  /** Settles `ready()` with the first attempt's outcome. */
  #tellFirst(error?: unknown): void {
    this.#settleReady?.(error);
    this.#settleReady = undefined;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#interruptSleep = () => (clearTimeout(timer), resolve());
    });
  }
}

/**
 * The events a reader has not taken yet, in order, by the rule openrpc.json states on
 * `download.progress` (the daemon's own queues follow it too): a download's unread progress is
 * superseded by its newer progress, which keeps its own place (so `seq` keeps increasing); state
 * changes are never dropped. A superseded entry is left in place as a hole that `shift` skips,
 * so pushing and shifting cost O(1); the array is compacted once holes outnumber live entries.
 */
export class Unread {
  #slots: (StreamEvent | undefined)[] = [];
  #head = 0;
  #live = 0;
  /** Where each download's unread progress is, as an index into `#slots`. */
  readonly #progress = new Map<Gid, number>();

  push(event: StreamEvent): void {
    if (event.method === "download.progress") {
      const gid = event.params.gid;
      const stale = this.#progress.get(gid);
      if (stale !== undefined) {
        this.#slots[stale] = undefined;
        this.#live--;
      }
      this.#progress.set(gid, this.#slots.length);
    }
    this.#slots.push(event);
    this.#live++;
    if (this.#slots.length - this.#head > 2 * this.#live + 16) this.#compact();
  }

  shift(): StreamEvent | undefined {
    while (this.#head < this.#slots.length) {
      const index = this.#head++;
      const event = this.#slots[index];
      if (event === undefined) continue;
      this.#slots[index] = undefined;
      this.#live--;
      if (event.method === "download.progress" && this.#progress.get(event.params.gid) === index) {
        this.#progress.delete(event.params.gid);
      }
      if (this.#head === this.#slots.length) this.clear();
      return event;
    }
    return undefined;
  }

  clear(): void {
    this.#slots = [];
    this.#head = 0;
    this.#live = 0;
    this.#progress.clear();
  }

  /** Drops the holes (and what was shifted), renumbering the progress positions. */
  #compact(): void {
    const kept = this.#slots.slice(this.#head).filter((e): e is StreamEvent => e !== undefined);
    this.clear();
    for (const event of kept) this.push(event);
  }
}

/**
 * How a failed open ends the connection: a refused token is final, a busy daemon is retried, and
 * an upgrade answered without a WebSocket (or by a browser that does not tell why) is "refused".
 */
function classify(error: unknown): "fatal" | "retry" | "refused" {
  if (error instanceof HaulError) return error.code === UNAUTHORIZED ? "fatal" : "retry";
  if (error instanceof TransportError && error.status !== undefined) {
    return error.status === 401 ? "fatal" : error.status === 503 ? "retry" : "refused";
  }
  return "retry";
}

/** Whether `params` carry the `streamId` and `seq` every notification has. */
function stamped(params: unknown): boolean {
  const p = params as { streamId?: unknown; seq?: unknown } | null;
  return typeof p === "object" && p !== null && typeof p.streamId === "string" && typeof p.seq === "number";
}
