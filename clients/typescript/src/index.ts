// The package's entry point: the generated API (types, `Client`) and the
// hand-written runtime it stands on (transports, errors, event streams).
export * from "./api.js";
export {
  Events,
  type EventsMode,
  type EventsOptions,
  type Resync,
  type ResyncReason,
  type StreamEvent,
} from "./events.js";
export { HaulError, TransportError, type ClientOptions, type WebSocketLike } from "./runtime.js";
export { connectLocal, DEFAULT_URL, findLocal, LocalDaemonError, TOKEN_FILE } from "./local.js";
