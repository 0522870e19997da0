// The package's entry point: the generated API (types, `Client`) and the
// hand-written runtime it stands on (transports, errors).
export * from "./api.js";
export { HaulError, TransportError, type ClientOptions, type WebSocketLike } from "./runtime.js";
