// generated from openrpc.json by haul-codegen — do not edit; regenerate with `cargo run -p haul-codegen`
/**
 * Types and the typed client of haul API 0.2.0.
 *
 * haul is a download daemon. This document is the single source of truth for its JSON-RPC 2.0 API: the Rust, TypeScript and Python SDKs and these docs are generated from it.
 *
 * **Transports.** `POST /jsonrpc` (HTTP, one request or a batch per body) and a WebSocket at `/jsonrpc/ws`; both serve every method. Params are always by name (a JSON object). Byte counts and speeds are integers, times RFC 3339 UTC strings, unknown values `null`.
 *
 * **Auth.** Every request carries the daemon's token: `Authorization: Bearer <token>` on HTTP and on the WebSocket upgrade, or, for browsers, a `Sec-WebSocket-Protocol` entry `haul.bearer.<token>` next to the protocol `haul.jsonrpc` (the server answers with `haul.jsonrpc`). A missing or wrong token gets HTTP 401 with error -32000. The token is `--rpc-secret` / `HAUL_RPC_SECRET`, else one generated at first start and stored in the state directory (`rpc-secret`, mode 0600). That token may call everything; named tokens made with `token.add` carry a scope, `read`, `control` or `admin`, and each method's `x-scope` names the least it needs (a param's `x-scope` raises it when the param has the value `when`). A call beyond its token's scope gets error -32016 Forbidden; a `read` token's WebSocket still receives every notification.
 *
 * **Notifications.** Methods marked `x-notification` are sent by the daemon, not called: every authenticated WebSocket connection receives them as plain JSON-RPC notifications, e.g. `{"jsonrpc":"2.0","method":"download.progress","params":{…}}`, without subscribing. Each carries `seq` (strictly increasing within a `streamId`) and `streamId` (new at every daemon start); `events.subscribe` filters a connection's notifications and replays the ones it missed after a reconnect.
 */

import { Events, type EventsOptions } from "./events.js";
import { HaulError, RpcClient } from "./runtime.js";

/** The version of the API document this module was generated from. */
export const API_VERSION = "0.2.0";

/**
 * A download's id: 16 lowercase hexadecimal characters.
 */
export type Gid = string;

/**
 * A daemon process's event stream id: 16 lowercase hexadecimal characters, new at every start.
 */
export type StreamId = string;

/**
 * The name of a notification the daemon sends.
 */
export type NotificationKind = "download.started" | "download.progress" | "download.paused" | "download.complete" | "download.error" | "download.removed";

/**
 * A plain file name: no path separators, not `.` or `..`, no control characters, at most 255 bytes.
 */
export type FileName = string;

/**
 * An expected digest: `sha-256=` followed by 64 hex digits, or `sha-512=` followed by 128.
 */
export type Checksum = string;

/**
 * A speed limit in bytes per second; 0 means no limit.
 */
export type SpeedLimit = number;

/**
 * HTTP request headers by name. Names are HTTP tokens; values are single-line strings.
 */
export type Headers = Record<string, string>;

/**
 * Where a download is in its life: `queued` (waiting for a free slot), `active` (transferring), `paused` (stopped by request, bytes kept), `complete` (the file is in place), `error` (failed; bytes kept, can be resumed).
 */
export type DownloadState = "queued" | "active" | "paused" | "complete" | "error";

/**
 * What to do when the destination exists: `rename` saves as `name (1).ext` (the next free number), `overwrite` replaces the file, `fail` refuses the download.
 */
export type OverwritePolicy = "rename" | "overwrite" | "fail";

/**
 * Why a download failed: `network` (connection failures, resets, timeouts or stalls outlasted the retries), `http-status` (the server answered an error status), `invalid-response` (the server's answer broke its own promises: wrong length, ignored ranges, too many redirects), `checksum-mismatch` (the file's digest differs from the one given), `destination-exists` (the destination appeared and the policy is `fail`), `disk-full` (no space left), `io` (another local file error), `internal` (a fault in haul itself, whose details are in the daemon's log; resuming tries again), `tls` (the server's certificate failed verification — an unknown authority, another host's, expired — or the handshake did; the message names the cause and the fix), `proxy` (the proxy refused the download: its credentials, or a tunnel to the server).
 */
export type FailureCode = "network" | "http-status" | "invalid-response" | "checksum-mismatch" | "destination-exists" | "disk-full" | "io" | "internal" | "tls" | "proxy";

/**
 * Why a download that had bytes started again from zero: `remote-changed` (the remote file is another version now: its validators, length or range answers say so, so its old bytes must not be mixed with the new), `not-resumable` (the server no longer serves ranges, or the `.part` file is gone).
 */
export type RestartReason = "remote-changed" | "not-resumable";

/**
 * Why a download is in the `error` state.
 */
export interface Failure {
  /**
   * What kind of failure.
   */
  code: FailureCode;
  /**
   * A human-readable description naming the value at fault.
   */
  message: string;
}

/**
 * A source's part in its download: `waiting` while the download is not running (or before its transfer begins), `active` while in use, `dropped` when this run no longer uses it (see `reason`).
 */
export type SourceState = "waiting" | "active" | "dropped";

/**
 * One source of a download: its URL or a mirror.
 */
export interface Source {
  /**
   * The URL as given, without its password.
   */
  url: string;
  /**
   * Its part in the download now.
   */
  state: SourceState;
  /**
   * Bytes per second from it (0 unless active).
   *
   * Constraints: minimum 0.
   */
  downloadSpeed: number;
  /**
   * Connections open to it now.
   *
   * Constraints: minimum 0, maximum 64.
   */
  connections: number;
  /**
   * Why it is dropped (`failed: …`, `serves another file: …`, `dropped as slow: …`), or null.
   */
  reason: string | null;
}

/**
 * A download's current status.
 */
export interface DownloadStatus {
  /**
   * The download's gid.
   */
  gid: Gid;
  /**
   * The URL as given to `download.add`.
   */
  url: string;
  /**
   * The download's state.
   */
  state: DownloadState;
  /**
   * The file name it is saved as, or null until known (before the first response when no `fileName` was given).
   */
  fileName: string | null;
  /**
   * The absolute path of the final file, or null until the name is known. While downloading, data goes to this path plus `.part`.
   */
  path: string | null;
  /**
   * The file's size in bytes, or null until known (or when the server does not say).
   *
   * Constraints: minimum 0.
   */
  totalLength: number | null;
  /**
   * Bytes downloaded and kept so far.
   *
   * Constraints: minimum 0.
   */
  completedLength: number;
  /**
   * Current speed in bytes per second (0 unless active).
   *
   * Constraints: minimum 0.
   */
  downloadSpeed: number;
  /**
   * Estimated seconds to completion, or null when unknown or not active.
   *
   * Constraints: minimum 0.
   */
  eta: number | null;
  /**
   * Connections currently open for this download.
   *
   * Constraints: minimum 0, maximum 64.
   */
  connections: number;
  /**
   * Where the file comes from: its `url`, then its mirrors (`urls`), each with its part in the running download.
   */
  sources: Source[];
  /**
   * This download's speed limit in bytes per second; 0 means none.
   */
  speedLimit: SpeedLimit;
  /**
   * The proxy this download's requests take now (its own `proxy`, else the daemon's for its URL), without credentials; null when it goes direct.
   */
  proxy: string | null;
  /**
   * Whether this download skips TLS certificate verification (added with `insecure: true`).
   */
  insecure: boolean;
  /**
   * Why the download failed, or null unless the state is `error`.
   */
  error: Failure | null;
  /**
   * When the download was added (RFC 3339, UTC).
   *
   * Constraints: format "date-time".
   */
  createdAt: string;
  /**
   * When the download completed (RFC 3339, UTC), or null.
   *
   * Constraints: format "date-time".
   */
  completedAt: string | null;
  /**
   * In a cluster (`haul daemon --cluster-db`), the name of the node running the download (`--node-name`); null when no node runs it, and always on a lone daemon.
   */
  node: string | null;
}

/**
 * The result of `download.add`.
 */
export interface AddResult {
  /**
   * The new download's gid.
   */
  gid: Gid;
}

/**
 * The result of `download.remove`.
 */
export interface RemoveResult {
  /**
   * The removed download's gid.
   */
  gid: Gid;
}

/**
 * A page of downloads.
 */
export interface DownloadList {
  /**
   * The downloads on this page, oldest first.
   */
  downloads: DownloadStatus[];
  /**
   * How many downloads match the filter in all.
   *
   * Constraints: minimum 0.
   */
  total: number;
  /**
   * Where the next page starts: pass it as `cursor` to get the downloads after this page (created later), whatever was added or removed meanwhile. Null when this page is the last.
   */
  cursor: string | null;
}

/**
 * The daemon's version information.
 */
export interface VersionInfo {
  /**
   * The daemon's version (semver).
   */
  version: string;
  /**
   * The git commit the daemon was built from, or null when unknown.
   */
  commit: string | null;
  /**
   * The cargo features the daemon was built with.
   */
  features: string[];
}

/**
 * Global statistics.
 */
export interface Stats {
  /**
   * Downloads transferring now.
   *
   * Constraints: minimum 0.
   */
  active: number;
  /**
   * Downloads waiting for a free slot.
   *
   * Constraints: minimum 0.
   */
  queued: number;
  /**
   * Paused downloads.
   *
   * Constraints: minimum 0.
   */
  paused: number;
  /**
   * Completed downloads still listed.
   *
   * Constraints: minimum 0.
   */
  complete: number;
  /**
   * Failed downloads.
   *
   * Constraints: minimum 0.
   */
  error: number;
  /**
   * Total speed over all downloads in bytes per second.
   *
   * Constraints: minimum 0.
   */
  downloadSpeed: number;
  /**
   * Whether the state store records changes. While it does not, mutating calls fail with `StoreUnavailable`.
   */
  store: StoreHealth;
}

/**
 * Whether the daemon's state store records changes.
 */
export interface StoreHealth {
  /**
   * True when the last commit succeeded.
   */
  healthy: boolean;
  /**
   * Why the last commit failed, or null while the store is healthy.
   */
  error: string | null;
}

/**
 * The daemon options that can be changed at run time.
 */
export interface Options {
  /**
   * How many downloads may be active at once.
   *
   * Constraints: minimum 1, maximum 1000.
   */
  maxConcurrent: number;
  /**
   * The global speed limit in bytes per second; 0 means none.
   */
  speedLimit: SpeedLimit;
  /**
   * The proxy for URLs without a proxy of their scheme, without credentials; null for none. From `--all-proxy`, else `ALL_PROXY`.
   */
  allProxy: string | null;
  /**
   * The proxy for `http://` URLs, without credentials; null for none. From `--http-proxy`, else `HTTP_PROXY`.
   */
  httpProxy: string | null;
  /**
   * The proxy for `https://` URLs, without credentials; null for none. From `--https-proxy`, else `HTTPS_PROXY`.
   */
  httpsProxy: string | null;
  /**
   * The hosts reached directly, as curl reads `NO_PROXY`: comma-separated names (each covering its subdomains), IP addresses, CIDR blocks, or `*`; null for none.
   */
  noProxy: string | null;
}

/**
 * Where the daemon's notification stream stands.
 */
export interface EventStream {
  /**
   * The running daemon's stream.
   */
  streamId: StreamId;
  /**
   * The `seq` of the latest notification sent so far (0 before the first). Replayed notifications end here; live ones continue above it.
   *
   * Constraints: minimum 0.
   */
  seq: number;
  /**
   * The lowest `since` that can still be replayed without a gap: every notification above it is kept (or superseded progress).
   *
   * Constraints: minimum 0.
   */
  oldestSeq: number;
}

/**
 * What `events.poll` found: the notifications after `since`, in order, and where to go on from.
 */
export interface EventPoll {
  /**
   * The running daemon's stream.
   */
  streamId: StreamId;
  /**
   * The `seq` of the latest notification sent so far (0 before the first).
   *
   * Constraints: minimum 0.
   */
  seq: number;
  /**
   * The lowest `since` that can still be polled without a gap.
   *
   * Constraints: minimum 0.
   */
  oldestSeq: number;
  /**
   * The kept notifications with a `seq` above `since` that pass the filters, oldest first, at most `limit`: every state change, and the latest progress of each download. Each is what a WebSocket receives (but for its `jsonrpc` member), with its real `seq`.
   */
  notifications: Notification[];
  /**
   * The `since` of the next poll: no notification at or below it is left to fetch (it is `seq` unless `limit` cut the answer short).
   *
   * Constraints: minimum 0.
   */
  next: number;
}

/**
 * An OpenRPC 1.3.2 document (this one).
 */
export type OpenrpcDocument = Record<string, unknown>;

/**
 * What a token may do: `read` calls the methods that change nothing and receives notifications, `control` also adds, pauses, resumes and removes downloads (without deleting files) and sets their URLs and speed limits, `admin` may do everything. Each method's `x-scope` names the least it needs.
 */
export type TokenScope = "read" | "control" | "admin";

/**
 * A named token's name: 1 to 64 letters, digits, `.`, `_` or `-`.
 */
export type TokenName = string;

/**
 * A token just created, with its secret: shown this once.
 */
export interface NewToken {
  /**
   * The token's name.
   */
  name: TokenName;
  /**
   * What the token may do.
   */
  scope: TokenScope;
  /**
   * The secret to send as `Authorization: Bearer <token>`. Not stored by the daemon: keep it.
   */
  token: string;
  /**
   * When it was created (RFC 3339, UTC).
   *
   * Constraints: format "date-time".
   */
  createdAt: string;
}

/**
 * A named token, without its secret.
 */
export interface TokenInfo {
  /**
   * The token's name.
   */
  name: TokenName;
  /**
   * What the token may do.
   */
  scope: TokenScope;
  /**
   * When it was created (RFC 3339, UTC).
   *
   * Constraints: format "date-time".
   */
  createdAt: string;
}

/**
 * The named tokens, oldest first.
 */
export interface TokenList {
  /**
   * Every named token.
   */
  tokens: TokenInfo[];
}

/**
 * A token just revoked.
 */
export interface RemovedToken {
  /**
   * The token's name.
   */
  name: TokenName;
}

/**
 * A proxy: `http://`, `https://` (TLS to the proxy), `socks5://` (host names resolved by the daemon) or `socks5h://` (resolved by the proxy, so no DNS query leaves the daemon's machine), with `user:password@` when the proxy wants credentials. Credentials are kept to connect, never shown.
 */
export type ProxyUrl = string;

/**
 * ParseError carries no `data`.
 */
export type ParseErrorErrorData = undefined;

/**
 * InvalidRequest carries no `data`.
 */
export type InvalidRequestErrorData = undefined;

/**
 * MethodNotFound carries no `data`.
 */
export type MethodNotFoundErrorData = undefined;

/**
 * The params do not match the method's schema: a missing or unknown field, a wrong type, a value out of range, or positional params (haul takes params by name). `data` says which param and why.
 */
export interface InvalidParamsErrorData {
  /**
   * The param at fault, or null when the params object as a whole is wrong.
   */
  param: string | null;
  /**
   * What is wrong, as a lowercase phrase naming the value.
   */
  reason: string;
}

/**
 * InternalError carries no `data`.
 */
export type InternalErrorErrorData = undefined;

/**
 * Unauthorized carries no `data`.
 */
export type UnauthorizedErrorData = undefined;

/**
 * No download has this gid: it never existed or was removed.
 */
export interface DownloadNotFoundErrorData {
  /**
   * The gid asked for.
   */
  gid: Gid;
}

/**
 * The download is in a state that does not allow the operation, e.g. pausing a complete download.
 */
export interface InvalidStateErrorData {
  /**
   * The download's gid.
   */
  gid: Gid;
  /**
   * The download's current state.
   */
  state: DownloadState;
}

/**
 * The URL does not parse or its scheme is not http or https.
 */
export interface InvalidUrlErrorData {
  /**
   * The URL as given.
   */
  url: string;
  /**
   * What is wrong with it.
   */
  reason: string;
}

/**
 * The file name or directory would put the file outside the daemon's download root (an absolute path, `..`, a path separator in `fileName`, or a symlink leading out).
 */
export interface OutsideDownloadRootErrorData {
  /**
   * The offending name or directory as given.
   */
  path: string;
}

/**
 * The destination file exists and `overwrite` is `fail`.
 */
export interface DestinationExistsErrorData {
  /**
   * The existing file's path.
   */
  path: string;
}

/**
 * A daemon limit would be exceeded, e.g. the number of downloads it keeps.
 */
export interface LimitExceededErrorData {
  /**
   * The limit's name.
   */
  limit: string;
  /**
   * The limit's value.
   *
   * Constraints: minimum 0.
   */
  max: number;
}

/**
 * `events.subscribe` cannot replay from `since`: the window no longer reaches back that far, or `streamId` is not the running daemon's because it restarted. Nothing changed; resynchronise from `download.list`, then subscribe from `seq` without `since`.
 */
export interface EventsUnavailableErrorData {
  /**
   * The running daemon's stream.
   */
  streamId: StreamId;
  /**
   * The `seq` of the latest notification sent so far.
   *
   * Constraints: minimum 0.
   */
  seq: number;
  /**
   * The lowest `since` the window can still replay from.
   *
   * Constraints: minimum 0.
   */
  oldestSeq: number;
}

/**
 * WebSocketRequired carries no `data`.
 */
export type WebSocketRequiredErrorData = undefined;

/**
 * The daemon could not commit the change to its state store (a full or broken state disk), so it is not acknowledged: an added download was not kept; a pause, resume or remove took effect but may be lost at the next start. The store retries by itself; `system.getStats` shows when it works again.
 */
export interface StoreUnavailableErrorData {
  /**
   * The store's own error.
   */
  reason: string;
}

/**
 * The request body, or a WebSocket call's params, is larger than the daemon's `--max-request-size`. Over HTTP the status is 413. `data` is a short text saying which limit, e.g. `Exceeded max limit of 1048576`.
 */
export type RequestTooLargeErrorData = string;

/**
 * The response would be larger than the daemon's `--max-response-size`; ask for less (e.g. a smaller `limit` in `download.list`). `data` is a short text saying which limit, e.g. `Exceeded max limit of 16777216`.
 */
export type ResponseTooLargeErrorData = string;

/**
 * The daemon is serving as many connections as `--max-connections` allows; retry shortly. The answer comes at once, with HTTP status 503, and the connection is closed. `data` is a short text saying which limit, e.g. `too many connections`.
 */
export type ServerBusyErrorData = string;

/**
 * The batch has more calls than the daemon's `--max-batch`. `data` is a short text saying which limit, e.g. `Exceeded max limit of 100`.
 */
export type BatchTooLargeErrorData = string;

/**
 * The batch's responses together exceed the daemon's `--max-response-size`; split the batch. `data` is a short text saying which limit, e.g. `Exceeded max limit of 16777216`.
 */
export type BatchResponseTooLargeErrorData = string;

/**
 * `download.setUrl` found another file at the new URL than the bytes kept belong to, or could not ask it; pass `restart: true` to start again from zero there.
 */
export interface RemoteFileDiffersErrorData {
  /**
   * The new URL, without its password.
   */
  url: string;
  /**
   * What differs (the length, the ETag, Last-Modified), or why the URL could not be asked.
   */
  reason: string;
}

/**
 * The call needs a token of a wider scope than the one it came with (see the method's `x-scope`); over HTTP the status stays 200, as for every answered call. A `read` token's WebSocket still receives every notification.
 */
export interface ForbiddenErrorData {
  /**
   * The least scope the call needs.
   */
  requiredScope: TokenScope;
  /**
   * The scope of the call's token.
   */
  tokenScope: TokenScope;
}

/**
 * No named token has this name: it never existed or was removed.
 */
export interface TokenNotFoundErrorData {
  /**
   * The name asked for.
   */
  name: string;
}

/**
 * Params of `download.add`.
 */
export interface DownloadAddParams {
  /**
   * The http or https URL to download. Redirects (up to 10) are followed.
   *
   * Constraints: minLength 1, maxLength 8192, format "uri".
   */
  url: string;
  /**
   * Mirrors: more http or https URLs of the same file. Connections are spread over `url` and these; a source that fails, serves another file (another length, no ranges) or is far slower than the others per connection is dropped for the rest of that run, and `sources` in the status says which and why. The first source that answers is the one the others are checked against. Default none.
   */
  urls?: string[];
  /**
   * The name to save the file as: a plain file name, no directory parts. When absent, the name comes from the server's Content-Disposition header, else the URL's last path segment, else `download`.
   */
  fileName?: FileName;
  /**
   * A directory relative to the download root, created when missing. Absolute paths, `..` and symlinks that lead out of the root are refused.
   *
   * Constraints: minLength 1, maxLength 4096.
   */
  dir?: string;
  /**
   * How many TCP connections to download with (ranged HTTP/1.1 GETs). Servers without range support get one. Default 8.
   *
   * Constraints: minimum 1, maximum 64.
   *
   * @default 8
   */
  connections?: number;
  /**
   * Extra request headers sent with every request of this download, by name.
   */
  headers?: Headers;
  /**
   * The expected digest of the whole file, `sha-256=<hex>` or `sha-512=<hex>`. The file gets its final name only after it matches; a mismatch moves the download to `error` with code `checksum-mismatch`.
   */
  checksum?: Checksum;
  /**
   * Speed limit for this download in bytes per second; 0 means none. Default 0.
   */
  speedLimit?: SpeedLimit;
  /**
   * Add the download in the `paused` state instead of queueing it. Default false.
   *
   * @default false
   */
  paused?: boolean;
  /**
   * What to do when the destination file already exists. Default `rename`; `overwrite` (which replaces a file) needs an `admin` token.
   */
  overwrite?: OverwritePolicy;
  /**
   * This download's proxy, over the daemon's: a proxy URL (`http://`, `https://`, `socks5://`, `socks5h://`, with `user:password@` if needed), or `none` to go direct whatever the daemon's proxies. Default: the daemon's (`system.setOptions`, its flags, else the standard environment variables), chosen per request by the URL's scheme and `noProxy`.
   */
  proxy?: ProxyUrl;
  /**
   * Skip TLS certificate verification for this download only. Dangerous: anyone on the path can then serve another file. Prefer trusting the server's authority (`--ca-certificate` or the system's store). Shown in the download's status. Default false.
   */
  insecure?: boolean;
  /**
   * Cookies this download sends, besides the daemon's (`--load-cookies`): a `Cookie` header value (`name=value; name2=value2`, for the URL's host), or the contents of a Netscape cookies.txt (as curl and browser exporters write it: each cookie goes only to the hosts and paths it names). Cookies the server sets during the download are kept for its later requests. Kept to resume, never shown.
   *
   * Constraints: minLength 1, maxLength 262144.
   */
  cookies?: string;
}

/**
 * Params of `download.pause`.
 */
export interface DownloadPauseParams {
  /**
   * The download's gid.
   */
  gid: Gid;
}

/**
 * Params of `download.resume`.
 */
export interface DownloadResumeParams {
  /**
   * The download's gid.
   */
  gid: Gid;
}

/**
 * Params of `download.remove`.
 */
export interface DownloadRemoveParams {
  /**
   * The download's gid.
   */
  gid: Gid;
  /**
   * Also delete the download's file (finished or partial): needs an `admin` token. Default false.
   *
   * @default false
   */
  deleteFiles?: boolean;
}

/**
 * Params of `download.status`.
 */
export interface DownloadStatusParams {
  /**
   * The download's gid.
   */
  gid: Gid;
}

/**
 * Params of `download.list`.
 */
export interface DownloadListParams {
  /**
   * Only list downloads in one of these states. Default: every state.
   */
  states?: DownloadState[];
  /**
   * How many matching downloads to skip. Default 0.
   *
   * Constraints: minimum 0.
   *
   * @default 0
   */
  offset?: number;
  /**
   * The most downloads to return. Default 100, at most 1000.
   *
   * Constraints: minimum 1, maximum 1000.
   *
   * @default 100
   */
  limit?: number;
  /**
   * Continue after the page that returned this `cursor` (use it instead of `offset`, which counts over a list that may change between pages). The downloads are in creation order, so a page never repeats or skips one that was there on both calls.
   *
   * Constraints: minLength 1, maxLength 32.
   */
  cursor?: string;
}

/**
 * Params of `download.setSpeedLimit`.
 */
export interface DownloadSetSpeedLimitParams {
  /**
   * The download's gid.
   */
  gid: Gid;
  /**
   * The new limit in bytes per second; 0 removes the limit.
   */
  speedLimit: SpeedLimit;
}

/**
 * Params of `download.setUrl`.
 */
export interface DownloadSetUrlParams {
  /**
   * The download's gid.
   */
  gid: Gid;
  /**
   * The new URL (http or https; `user:password@` is sent as Basic auth and never shown).
   *
   * Constraints: minLength 1, maxLength 8192, format "uri".
   */
  url: string;
  /**
   * Allow starting again from zero when the new URL serves another file (or cannot say which it serves), instead of refusing. Default false.
   */
  restart?: boolean;
}

/**
 * Params of `system.setOptions`.
 */
export interface SystemSetOptionsParams {
  /**
   * How many downloads may be active at once (1 to 1000).
   *
   * Constraints: minimum 1, maximum 1000.
   */
  maxConcurrent?: number;
  /**
   * The global speed limit over all downloads in bytes per second; 0 means none.
   */
  speedLimit?: SpeedLimit;
  /**
   * The proxy for URLs without a proxy of their scheme; an empty string removes it.
   *
   * Constraints: maxLength 2048.
   */
  allProxy?: string;
  /**
   * The proxy for `http://` URLs; an empty string removes it.
   *
   * Constraints: maxLength 2048.
   */
  httpProxy?: string;
  /**
   * The proxy for `https://` URLs; an empty string removes it.
   *
   * Constraints: maxLength 2048.
   */
  httpsProxy?: string;
  /**
   * The hosts reached directly (curl's `NO_PROXY` syntax); an empty string removes the list.
   *
   * Constraints: maxLength 8192.
   */
  noProxy?: string;
}

/**
 * Params of `events.subscribe`.
 */
export interface EventsSubscribeParams {
  /**
   * Replay the kept notifications with a higher `seq` than this before live ones. 0 replays the whole window.
   *
   * Constraints: minimum 0.
   */
  since?: number;
  /**
   * The stream `since` counts in. When given and not the running daemon's, the call fails with `EventsUnavailable`; always give it with `since`.
   */
  streamId?: StreamId;
  /**
   * Only notifications about these downloads. Absent: every download.
   */
  gids?: Gid[];
  /**
   * Only these notifications. Absent: all of them.
   */
  kinds?: NotificationKind[];
  /**
   * At least this many milliseconds between two `download.progress` notifications of one download on this connection; the ones in between are skipped (the next one carries the latest values). Absent: the daemon's own pace, a few per second.
   *
   * Constraints: minimum 100, maximum 3600000.
   */
  progressInterval?: number;
}

/**
 * Params of `events.poll`.
 */
export interface EventsPollParams {
  /**
   * Return the kept notifications with a higher `seq` than this. 0 returns the whole window. Absent: none, only where the stream stands.
   *
   * Constraints: minimum 0.
   */
  since?: number;
  /**
   * The stream `since` counts in. When given and not the running daemon's, the call fails with `EventsUnavailable`; always give it with `since`.
   */
  streamId?: StreamId;
  /**
   * The most notifications to return. Default 1000.
   *
   * Constraints: minimum 1, maximum 10000.
   *
   * @default 1000
   */
  limit?: number;
  /**
   * Only notifications about these downloads. Absent: every download.
   */
  gids?: Gid[];
  /**
   * Only these notifications. Absent: all of them.
   */
  kinds?: NotificationKind[];
}

/**
 * Params of `token.add`.
 */
export interface TokenAddParams {
  /**
   * The token's name, unique among the daemon's tokens: what `token.list` shows and `token.remove` takes.
   */
  name: TokenName;
  /**
   * What the token may do.
   */
  scope: TokenScope;
}

/**
 * Params of `token.remove`.
 */
export interface TokenRemoveParams {
  /**
   * The token's name.
   */
  name: TokenName;
}

/**
 * A download started (`download.started`).
 *
 * Sent when a download becomes active: for the first time, after a pause, after a retry of a failed download, or when the daemon restarts with it unfinished (`resumed` tells the last three from the first). A download whose kept bytes cannot continue starts again from zero, with `resumed` false and `restarted` saying why; bytes of two versions of a file are never mixed.
 */
export interface DownloadStartedEvent {
  /**
   * The event's sequence number, strictly increasing within one `streamId`, so a client can tell which events it has seen. Progress for a client that falls behind is coalesced (only the latest per download is sent), so numbers of superseded progress are skipped; state changes (every other notification) never are.
   *
   * Constraints: minimum 1.
   */
  seq: number;
  /**
   * Identifies the running daemon process; it changes when the daemon restarts, and `seq` values of different streams are unrelated.
   */
  streamId: StreamId;
  /**
   * The download's gid.
   */
  gid: Gid;
  /**
   * The file name the download is saved as (known from here on).
   */
  fileName: FileName;
  /**
   * The file's size in bytes, or null when the server does not say.
   *
   * Constraints: minimum 0.
   */
  totalLength: number | null;
  /**
   * True when the download continues from bytes it kept; false on a fresh start.
   */
  resumed: boolean;
  /**
   * Why the download started again from zero although it had bytes, or null (a fresh start, or a resume that kept them).
   */
  restarted: RestartReason | null;
}

/**
 * A download made progress (`download.progress`).
 *
 * Sent a few times a second per active download. Progress is coalesced, by one rule wherever notifications wait (the daemon's queue for a connection that reads slowly, its replay window, and every SDK's event stream): a download's progress that has not gone out yet is superseded by its newer progress, which keeps its own place in the order; state changes (every other notification) are never dropped, merged or reordered. So a slow reader gets every state change and the latest progress of each download, in the order they happened, never a backlog.
 */
export interface DownloadProgressEvent {
  /**
   * The event's sequence number, strictly increasing within one `streamId`, so a client can tell which events it has seen. Progress for a client that falls behind is coalesced (only the latest per download is sent), so numbers of superseded progress are skipped; state changes (every other notification) never are.
   *
   * Constraints: minimum 1.
   */
  seq: number;
  /**
   * Identifies the running daemon process; it changes when the daemon restarts, and `seq` values of different streams are unrelated.
   */
  streamId: StreamId;
  /**
   * The download's gid.
   */
  gid: Gid;
  /**
   * Bytes downloaded and kept so far.
   *
   * Constraints: minimum 0.
   */
  completedLength: number;
  /**
   * The file's size in bytes, or null when unknown.
   *
   * Constraints: minimum 0.
   */
  totalLength: number | null;
  /**
   * Current speed in bytes per second.
   *
   * Constraints: minimum 0.
   */
  downloadSpeed: number;
  /**
   * Estimated seconds to completion, or null when unknown.
   *
   * Constraints: minimum 0.
   */
  eta: number | null;
  /**
   * Connections currently open for this download.
   *
   * Constraints: minimum 0, maximum 64.
   */
  connections: number;
}

/**
 * A download was paused (`download.paused`).
 *
 * Sent when a queued or active download is paused.
 */
export interface DownloadPausedEvent {
  /**
   * The event's sequence number, strictly increasing within one `streamId`, so a client can tell which events it has seen. Progress for a client that falls behind is coalesced (only the latest per download is sent), so numbers of superseded progress are skipped; state changes (every other notification) never are.
   *
   * Constraints: minimum 1.
   */
  seq: number;
  /**
   * Identifies the running daemon process; it changes when the daemon restarts, and `seq` values of different streams are unrelated.
   */
  streamId: StreamId;
  /**
   * In a cluster (`haul daemon --cluster-db`), the state change's number in the cluster's event log: gap-free and in commit order across every node, so a client of any node sees each download's changes, and all of them, in the order they happened; null on a lone daemon. `seq` stays this node's own numbering.
   *
   * Constraints: minimum 1.
   */
  clusterSeq: number | null;
  /**
   * The download's gid.
   */
  gid: Gid;
  /**
   * Bytes kept at the moment of pausing.
   *
   * Constraints: minimum 0.
   */
  completedLength: number;
}

/**
 * A download finished (`download.complete`).
 *
 * Sent when the whole file is on disk under its final name (and matched its checksum, when one was given).
 */
export interface DownloadCompleteEvent {
  /**
   * The event's sequence number, strictly increasing within one `streamId`, so a client can tell which events it has seen. Progress for a client that falls behind is coalesced (only the latest per download is sent), so numbers of superseded progress are skipped; state changes (every other notification) never are.
   *
   * Constraints: minimum 1.
   */
  seq: number;
  /**
   * Identifies the running daemon process; it changes when the daemon restarts, and `seq` values of different streams are unrelated.
   */
  streamId: StreamId;
  /**
   * In a cluster (`haul daemon --cluster-db`), the state change's number in the cluster's event log: gap-free and in commit order across every node, so a client of any node sees each download's changes, and all of them, in the order they happened; null on a lone daemon. `seq` stays this node's own numbering.
   *
   * Constraints: minimum 1.
   */
  clusterSeq: number | null;
  /**
   * The download's gid.
   */
  gid: Gid;
  /**
   * The absolute path of the finished file.
   */
  path: string;
  /**
   * The file's size in bytes.
   *
   * Constraints: minimum 0.
   */
  totalLength: number;
}

/**
 * A download failed (`download.error`).
 *
 * Sent when a download moves to the `error` state: a permanent failure, or transient failures that outlasted the retries. Finished bytes are kept; `download.resume` retries from them.
 */
export interface DownloadErrorEvent {
  /**
   * The event's sequence number, strictly increasing within one `streamId`, so a client can tell which events it has seen. Progress for a client that falls behind is coalesced (only the latest per download is sent), so numbers of superseded progress are skipped; state changes (every other notification) never are.
   *
   * Constraints: minimum 1.
   */
  seq: number;
  /**
   * Identifies the running daemon process; it changes when the daemon restarts, and `seq` values of different streams are unrelated.
   */
  streamId: StreamId;
  /**
   * In a cluster (`haul daemon --cluster-db`), the state change's number in the cluster's event log: gap-free and in commit order across every node, so a client of any node sees each download's changes, and all of them, in the order they happened; null on a lone daemon. `seq` stays this node's own numbering.
   *
   * Constraints: minimum 1.
   */
  clusterSeq: number | null;
  /**
   * The download's gid.
   */
  gid: Gid;
  /**
   * What kind of failure.
   */
  code: FailureCode;
  /**
   * A human-readable description naming the value at fault.
   */
  message: string;
  /**
   * Bytes kept.
   *
   * Constraints: minimum 0.
   */
  completedLength: number;
}

/**
 * A download was removed (`download.removed`).
 *
 * Sent when a download is removed with `download.remove`.
 */
export interface DownloadRemovedEvent {
  /**
   * The event's sequence number, strictly increasing within one `streamId`, so a client can tell which events it has seen. Progress for a client that falls behind is coalesced (only the latest per download is sent), so numbers of superseded progress are skipped; state changes (every other notification) never are.
   *
   * Constraints: minimum 1.
   */
  seq: number;
  /**
   * Identifies the running daemon process; it changes when the daemon restarts, and `seq` values of different streams are unrelated.
   */
  streamId: StreamId;
  /**
   * In a cluster (`haul daemon --cluster-db`), the state change's number in the cluster's event log: gap-free and in commit order across every node, so a client of any node sees each download's changes, and all of them, in the order they happened; null on a lone daemon. `seq` stays this node's own numbering.
   *
   * Constraints: minimum 1.
   */
  clusterSeq: number | null;
  /**
   * The download's gid.
   */
  gid: Gid;
}

/** Every method by wire name: its params and its result. */
export interface Methods {
  "download.add": { params: DownloadAddParams; result: AddResult };
  "download.pause": { params: DownloadPauseParams; result: DownloadStatus };
  "download.resume": { params: DownloadResumeParams; result: DownloadStatus };
  "download.remove": { params: DownloadRemoveParams; result: RemoveResult };
  "download.status": { params: DownloadStatusParams; result: DownloadStatus };
  "download.list": { params: DownloadListParams; result: DownloadList };
  "download.setSpeedLimit": { params: DownloadSetSpeedLimitParams; result: DownloadStatus };
  "download.setUrl": { params: DownloadSetUrlParams; result: DownloadStatus };
  "system.getVersion": { params: undefined; result: VersionInfo };
  "system.getStats": { params: undefined; result: Stats };
  "system.getOptions": { params: undefined; result: Options };
  "system.setOptions": { params: SystemSetOptionsParams; result: Options };
  "events.subscribe": { params: EventsSubscribeParams; result: EventStream };
  "events.unsubscribe": { params: undefined; result: EventStream };
  "events.poll": { params: EventsPollParams; result: EventPoll };
  "token.add": { params: TokenAddParams; result: NewToken };
  "token.list": { params: undefined; result: TokenList };
  "token.remove": { params: TokenRemoveParams; result: RemovedToken };
  "rpc.discover": { params: undefined; result: OpenrpcDocument };
}

/** Every notification's payload, by wire name. */
export interface Notifications {
  "download.started": DownloadStartedEvent;
  "download.progress": DownloadProgressEvent;
  "download.paused": DownloadPausedEvent;
  "download.complete": DownloadCompleteEvent;
  "download.error": DownloadErrorEvent;
  "download.removed": DownloadRemovedEvent;
}

/** A notification as received: its wire name and its typed payload. */
export type Notification = {
  [M in keyof Notifications]: { method: M; params: Notifications[M] };
}[keyof Notifications];

/** The wire names of every notification. */
export const NOTIFICATIONS = ["download.started", "download.progress", "download.paused", "download.complete", "download.error", "download.removed"] as const;

/** Every error code the API documents, by name. */
export const ErrorCode = {
  /**
   * Parse error — The request body is not valid JSON. `id` in the response is null.
   */
  ParseError: -32700,
  /**
   * Invalid request — The JSON is not a valid JSON-RPC 2.0 request object (or batch of them), or a batch is empty or larger than the daemon's batch limit.
   */
  InvalidRequest: -32600,
  /**
   * Method not found — No method of this name exists.
   */
  MethodNotFound: -32601,
  /**
   * Invalid params — The params do not match the method's schema: a missing or unknown field, a wrong type, a value out of range, or positional params (haul takes params by name). `data` says which param and why.
   */
  InvalidParams: -32602,
  /**
   * Internal error — The daemon failed in a way that is not the caller's fault; details are in the daemon's log, never in the response.
   */
  InternalError: -32603,
  /**
   * Unauthorized — The request carried no bearer token or a wrong one. Sent with HTTP status 401 before the request is parsed.
   */
  Unauthorized: -32000,
  /**
   * Download not found — No download has this gid: it never existed or was removed.
   */
  DownloadNotFound: -32001,
  /**
   * Invalid state for this operation — The download is in a state that does not allow the operation, e.g. pausing a complete download.
   */
  InvalidState: -32002,
  /**
   * Invalid or unsupported URL — The URL does not parse or its scheme is not http or https.
   */
  InvalidUrl: -32003,
  /**
   * Destination outside the download root — The file name or directory would put the file outside the daemon's download root (an absolute path, `..`, a path separator in `fileName`, or a symlink leading out).
   */
  OutsideDownloadRoot: -32004,
  /**
   * Destination exists — The destination file exists and `overwrite` is `fail`.
   */
  DestinationExists: -32005,
  /**
   * Limit exceeded — A daemon limit would be exceeded, e.g. the number of downloads it keeps.
   */
  LimitExceeded: -32006,
  /**
   * Events no longer available — `events.subscribe` cannot replay from `since`: the window no longer reaches back that far, or `streamId` is not the running daemon's because it restarted. Nothing changed; resynchronise from `download.list`, then subscribe from `seq` without `since`.
   */
  EventsUnavailable: -32012,
  /**
   * Needs a WebSocket connection — The method configures a WebSocket connection's notifications: call it over WebSocket, on its own rather than in a batch.
   */
  WebSocketRequired: -32013,
  /**
   * The state store cannot record changes — The daemon could not commit the change to its state store (a full or broken state disk), so it is not acknowledged: an added download was not kept; a pause, resume or remove took effect but may be lost at the next start. The store retries by itself; `system.getStats` shows when it works again.
   */
  StoreUnavailable: -32014,
  /**
   * Request is too big — The request body, or a WebSocket call's params, is larger than the daemon's `--max-request-size`. Over HTTP the status is 413. `data` is a short text saying which limit, e.g. `Exceeded max limit of 1048576`.
   */
  RequestTooLarge: -32007,
  /**
   * Response is too big — The response would be larger than the daemon's `--max-response-size`; ask for less (e.g. a smaller `limit` in `download.list`). `data` is a short text saying which limit, e.g. `Exceeded max limit of 16777216`.
   */
  ResponseTooLarge: -32008,
  /**
   * Server is busy, try again later — The daemon is serving as many connections as `--max-connections` allows; retry shortly. The answer comes at once, with HTTP status 503, and the connection is closed. `data` is a short text saying which limit, e.g. `too many connections`.
   */
  ServerBusy: -32009,
  /**
   * The batch request was too large — The batch has more calls than the daemon's `--max-batch`. `data` is a short text saying which limit, e.g. `Exceeded max limit of 100`.
   */
  BatchTooLarge: -32010,
  /**
   * The batch response was too large — The batch's responses together exceed the daemon's `--max-response-size`; split the batch. `data` is a short text saying which limit, e.g. `Exceeded max limit of 16777216`.
   */
  BatchResponseTooLarge: -32011,
  /**
   * The new URL serves another file — `download.setUrl` found another file at the new URL than the bytes kept belong to, or could not ask it; pass `restart: true` to start again from zero there.
   */
  RemoteFileDiffers: -32015,
  /**
   * Forbidden — The call needs a token of a wider scope than the one it came with (see the method's `x-scope`); over HTTP the status stays 200, as for every answered call. A `read` token's WebSocket still receives every notification.
   */
  Forbidden: -32016,
  /**
   * Token not found — No named token has this name: it never existed or was removed.
   */
  TokenNotFound: -32017,
} as const;

/** One of the documented error codes. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Each error's `data` type, by error name. */
export interface ErrorData {
  ParseError: ParseErrorErrorData;
  InvalidRequest: InvalidRequestErrorData;
  MethodNotFound: MethodNotFoundErrorData;
  InvalidParams: InvalidParamsErrorData;
  InternalError: InternalErrorErrorData;
  Unauthorized: UnauthorizedErrorData;
  DownloadNotFound: DownloadNotFoundErrorData;
  InvalidState: InvalidStateErrorData;
  InvalidUrl: InvalidUrlErrorData;
  OutsideDownloadRoot: OutsideDownloadRootErrorData;
  DestinationExists: DestinationExistsErrorData;
  LimitExceeded: LimitExceededErrorData;
  EventsUnavailable: EventsUnavailableErrorData;
  WebSocketRequired: WebSocketRequiredErrorData;
  StoreUnavailable: StoreUnavailableErrorData;
  RequestTooLarge: RequestTooLargeErrorData;
  ResponseTooLarge: ResponseTooLargeErrorData;
  ServerBusy: ServerBusyErrorData;
  BatchTooLarge: BatchTooLargeErrorData;
  BatchResponseTooLarge: BatchResponseTooLargeErrorData;
  RemoteFileDiffers: RemoteFileDiffersErrorData;
  Forbidden: ForbiddenErrorData;
  TokenNotFound: TokenNotFoundErrorData;
}

/**
 * Whether `error` is the API error `name`; narrows `error.data` to that error's data type.
 *
 * ```ts
 * try { await client.downloadStatus({ gid }); }
 * catch (e) { if (isApiError(e, "DownloadNotFound")) console.log(e.data.gid); else throw e; }
 * ```
 */
export function isApiError<K extends keyof ErrorData>(
  error: unknown,
  name: K,
): error is HaulError<ErrorData[K]> {
  return error instanceof HaulError && error.code === ErrorCode[name];
}

/**
 * The typed haul client. Calls go over HTTP (`http(s)://…/jsonrpc`, one `fetch` per call) or over one
 * WebSocket (`ws(s)://…/jsonrpc/ws`); notifications always arrive over a WebSocket.
 *
 * ```ts
 * const client = new Client("http://127.0.0.1:6801/jsonrpc", { token });
 * const events = client.events();
 * await events.ready();
 * const { gid } = await client.downloadAdd({ url: "https://example.com/f.iso" });
 * for await (const e of events) if (e.method === "download.complete" && e.params.gid === gid) break;
 * ```
 */
export class Client extends RpcClient<Methods, Notifications> {
  /**
   * Add a download (`download.add`).
   *
   * Queues a new HTTP(S) download and returns its gid at once; the transfer itself happens in the background and is reported by notifications. The destination is resolved inside the daemon's download root: `dir` is relative to it and the file name (given, or taken from the server's Content-Disposition or the URL) must be a plain name. A download starts when fewer than the daemon's `maxConcurrent` downloads are active, unless `paused` is true. Needs a `control` token (`admin` with `overwrite` `"overwrite"`).
   *
   * @throws {HaulError} `InvalidUrl` (-32003): Invalid or unsupported URL
   * @throws {HaulError} `OutsideDownloadRoot` (-32004): Destination outside the download root
   * @throws {HaulError} `DestinationExists` (-32005): Destination exists
   * @throws {HaulError} `LimitExceeded` (-32006): Limit exceeded
   * @throws {HaulError} `StoreUnavailable` (-32014): The state store cannot record changes
   */
  downloadAdd(params: DownloadAddParams): Promise<AddResult> {
    return this.call("download.add", params);
  }

  /**
   * Pause a download (`download.pause`).
   *
   * Stops a queued or active download, keeping every finished byte, and answers once it is stopped, its progress checkpointed and its state committed, with its status then. Pausing a paused download changes nothing. A complete or failed download cannot be paused. When a `download.remove` arrives while the pause is in flight the remove wins (and this call answers `DownloadNotFound`); a `download.resume` that arrives meanwhile leaves the download queued. Needs a `control` token.
   *
   * @throws {HaulError} `DownloadNotFound` (-32001): Download not found
   * @throws {HaulError} `InvalidState` (-32002): Invalid state for this operation
   * @throws {HaulError} `StoreUnavailable` (-32014): The state store cannot record changes
   */
  downloadPause(params: DownloadPauseParams): Promise<DownloadStatus> {
    return this.call("download.pause", params);
  }

  /**
   * Resume a download (`download.resume`).
   *
   * Puts a paused download back in the queue, or retries a failed one from the bytes it kept, and returns its status. Resuming a queued or active download changes nothing; a complete download cannot be resumed. A resumed download announces itself with `download.started` (`resumed: true`). Needs a `control` token.
   *
   * @throws {HaulError} `DownloadNotFound` (-32001): Download not found
   * @throws {HaulError} `InvalidState` (-32002): Invalid state for this operation
   * @throws {HaulError} `StoreUnavailable` (-32014): The state store cannot record changes
   */
  downloadResume(params: DownloadResumeParams): Promise<DownloadStatus> {
    return this.call("download.resume", params);
  }

  /**
   * Remove a download (`download.remove`).
   *
   * Stops the download if it is running and forgets it. With `deleteFiles`, its partial or finished file is deleted too; without, a finished file stays where it is and a partial `.part` file is kept. Needs a `control` token (`admin` with `deleteFiles` `true`).
   *
   * @throws {HaulError} `DownloadNotFound` (-32001): Download not found
   * @throws {HaulError} `StoreUnavailable` (-32014): The state store cannot record changes
   */
  downloadRemove(params: DownloadRemoveParams): Promise<RemoveResult> {
    return this.call("download.remove", params);
  }

  /**
   * Get a download's status (`download.status`).
   *
   * Returns the current status of one download. Needs a `read` token.
   *
   * @throws {HaulError} `DownloadNotFound` (-32001): Download not found
   */
  downloadStatus(params: DownloadStatusParams): Promise<DownloadStatus> {
    return this.call("download.status", params);
  }

  /**
   * List downloads (`download.list`).
   *
   * Returns one page of downloads in the order they were added, optionally only those in the given states, with the total number that match. For every download, page with `cursor` rather than `offset`: `offset` counts positions in a list that changes when downloads are added or removed between two calls. Needs a `read` token.
   */
  downloadList(params: DownloadListParams = {}): Promise<DownloadList> {
    return this.call("download.list", params);
  }

  /**
   * Change a download's speed limit (`download.setSpeedLimit`).
   *
   * Changes the speed limit of one download; it takes effect at once, also while the download is running. Needs a `control` token.
   *
   * @throws {HaulError} `DownloadNotFound` (-32001): Download not found
   * @throws {HaulError} `StoreUnavailable` (-32014): The state store cannot record changes
   */
  downloadSetSpeedLimit(params: DownloadSetSpeedLimitParams): Promise<DownloadStatus> {
    return this.call("download.setSpeedLimit", params);
  }

  /**
   * Point a download at another URL of the same file (`download.setUrl`).
   *
   * Replaces the URL of a download that is queued, active, paused or in error: a signed link that expired, a mirror, a moved file. When the download has bytes on disk, the daemon first asks the new URL for the file and keeps the bytes only if it is the same file: the same length, and the same ETag and Last-Modified where both URLs give them; otherwise it refuses with `RemoteFileDiffers` and changes nothing, unless `restart` is true, which starts the download again from zero at the new URL (when the file turns out different). An active download goes on from its bytes at the new URL: its connections end after a last checkpoint, and it starts again (a `download.started` with `resumed` true) without leaving the `active` state. The request's own headers, proxy and settings stay. Needs a `control` token.
   *
   * @throws {HaulError} `DownloadNotFound` (-32001): Download not found
   * @throws {HaulError} `InvalidState` (-32002): Invalid state for this operation
   * @throws {HaulError} `InvalidUrl` (-32003): Invalid or unsupported URL
   * @throws {HaulError} `StoreUnavailable` (-32014): The state store cannot record changes
   * @throws {HaulError} `RemoteFileDiffers` (-32015): The new URL serves another file
   */
  downloadSetUrl(params: DownloadSetUrlParams): Promise<DownloadStatus> {
    return this.call("download.setUrl", params);
  }

  /**
   * Get the daemon's version (`system.getVersion`).
   *
   * Returns the daemon's version, the commit it was built from and its compiled-in features. Needs a `read` token.
   */
  systemGetVersion(): Promise<VersionInfo> {
    return this.call("system.getVersion", undefined);
  }

  /**
   * Get global statistics (`system.getStats`).
   *
   * Returns how many downloads are in each state and the total download speed. Needs a `read` token.
   */
  systemGetStats(): Promise<Stats> {
    return this.call("system.getStats", undefined);
  }

  /**
   * Get the daemon's runtime options (`system.getOptions`).
   *
   * Returns the options that can be changed while the daemon runs. Needs a `read` token.
   */
  systemGetOptions(): Promise<Options> {
    return this.call("system.getOptions", undefined);
  }

  /**
   * Change the daemon's runtime options (`system.setOptions`).
   *
   * Changes the global speed limit and/or the number of downloads that may be active at once; both take effect at once. Options left out keep their value. Needs a `admin` token.
   */
  systemSetOptions(params: SystemSetOptionsParams = {}): Promise<Options> {
    return this.call("system.setOptions", params);
  }

  /**
   * Choose this connection's notifications and replay missed ones (`events.subscribe`).
   *
   * Configures which notifications this WebSocket connection receives, and, with `since`, first replays the ones it missed. A connection that never calls this receives every notification.
   *
   * The daemon keeps a window of recent notifications (`--event-window`, default 10000): every state change, and the latest progress of each download. With `since` (the last `seq` the client processed, of the stream `streamId`), the answer to this call is followed by every kept notification with a higher `seq`, in order, then by live ones: no gap, no duplicate. When the window no longer reaches back to `since`, or `streamId` is not the running daemon's (it restarted), the call fails with `EventsUnavailable` and changes nothing: resynchronise from `download.list`, then subscribe without `since`.
   *
   * Only over WebSocket, as a single call (not in a batch); elsewhere it fails with `WebSocketRequired` (over HTTP, `events.poll` gets the same notifications). Calling it again replaces the previous settings. Needs a `read` token.
   *
   * @throws {HaulError} `EventsUnavailable` (-32012): Events no longer available
   * @throws {HaulError} `WebSocketRequired` (-32013): Needs a WebSocket connection
   */
  eventsSubscribe(params: EventsSubscribeParams = {}): Promise<EventStream> {
    return this.call("events.subscribe", params);
  }

  /**
   * Receive every notification again (`events.unsubscribe`).
   *
   * Drops this connection's `events.subscribe` settings: it receives every notification again, at the daemon's own pace. Only over WebSocket, as a single call; elsewhere it fails with `WebSocketRequired`. Needs a `read` token.
   *
   * @throws {HaulError} `WebSocketRequired` (-32013): Needs a WebSocket connection
   */
  eventsUnsubscribe(): Promise<EventStream> {
    return this.call("events.unsubscribe", undefined);
  }

  /**
   * Fetch the notifications since a point, over any transport (`events.poll`).
   *
   * Returns the kept notifications with a `seq` above `since`, as a WebSocket receives them (the same window as `events.subscribe`: every state change, and the latest progress of each download), for clients that cannot keep a WebSocket open. Call it again with `since` set to the answer's `next`: notifications are never skipped or repeated. Without `since` it returns none, and `next` is where the stream stands now: start there after listing the downloads. When the window no longer reaches back to `since`, or `streamId` is not the running daemon's (it restarted), it fails with `EventsUnavailable`, exactly as `events.subscribe` does: list the downloads again, then poll without `since`. Needs a `read` token.
   *
   * @throws {HaulError} `EventsUnavailable` (-32012): Events no longer available
   */
  eventsPoll(params: EventsPollParams = {}): Promise<EventPoll> {
    return this.call("events.poll", params);
  }

  /**
   * Add a named token (`token.add`).
   *
   * Creates a token with a scope, for a program or a person that should be able to do less than the daemon's own token: `read` (status, lists, stats, options, events), `control` (read, and adding, pausing, resuming, removing downloads without deleting files, setting URLs and speed limits) or `admin` (everything). The answer holds the token itself, the only time it is shown: the daemon keeps only its SHA-256 digest (`tokens.json` in the state directory, mode 0600). It is valid at once, on HTTP and WebSocket alike, until `token.remove`. Also `haul token add NAME --scope SCOPE`. Needs a `admin` token.
   *
   * @throws {HaulError} `StoreUnavailable` (-32014): The state store cannot record changes
   */
  tokenAdd(params: TokenAddParams): Promise<NewToken> {
    return this.call("token.add", params);
  }

  /**
   * List the named tokens (`token.list`).
   *
   * Returns every named token's name, scope and creation time, oldest first; never a secret (the daemon does not have them). The daemon's own token (`--rpc-secret`, or the `rpc-secret` file) is not among them: it is always `admin`. Also `haul token ls`. Needs a `admin` token.
   */
  tokenList(): Promise<TokenList> {
    return this.call("token.list", undefined);
  }

  /**
   * Revoke a named token (`token.remove`).
   *
   * Forgets the token: from the answer on, requests with it get 401, and WebSocket connections opened with it are closed. Also `haul token rm NAME`. Needs a `admin` token.
   *
   * @throws {HaulError} `StoreUnavailable` (-32014): The state store cannot record changes
   * @throws {HaulError} `TokenNotFound` (-32017): Token not found
   */
  tokenRemove(params: TokenRemoveParams): Promise<RemovedToken> {
    return this.call("token.remove", params);
  }

  /**
   * Get this document (`rpc.discover`).
   *
   * Returns this OpenRPC document, byte for byte as the daemon ships it (also served at `GET /openrpc.json`). Needs a `read` token.
   */
  rpcDiscover(): Promise<OpenrpcDocument> {
    return this.call("rpc.discover", undefined);
  }

  /**
   * The daemon's notifications, typed, each delivered once and in order: the stream reconnects by
   * itself (backoff with jitter), replays what it missed, and yields a `Resync` with every download's
   * state when the daemon cannot replay (see `Events`).
   *
   * @param options Filters (`gids`, `kinds`, `progressInterval`), the backoff, and polling when no
   * WebSocket can be opened (`pollingIntervalMs`).
   */
  events(options: EventsOptions = {}): Events {
    return new Events(this.link(), NOTIFICATIONS, options);
  }
}
