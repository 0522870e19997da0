// generated from openrpc.json by haul-codegen — do not edit; regenerate with `cargo run -p haul-codegen`
// The API page's snippets (docs/site/index.html), one function per method, and `ALL` of them
// in document order, which the tests build and call.

import type { Client } from "../src/index.js";

export async function downloadAdd(client: Client): Promise<unknown> {
  const result = await client.downloadAdd({ url: "https://example.com/files/ubuntu.iso", connections: 4 });
  return result;
}

export async function downloadPause(client: Client): Promise<unknown> {
  const result = await client.downloadPause({ gid: "2f1c0d9a7b3e4a51" });
  return result;
}

export async function downloadResume(client: Client): Promise<unknown> {
  const result = await client.downloadResume({ gid: "2f1c0d9a7b3e4a51" });
  return result;
}

export async function downloadRemove(client: Client): Promise<unknown> {
  const result = await client.downloadRemove({ gid: "2f1c0d9a7b3e4a51", deleteFiles: true });
  return result;
}

export async function downloadStatus(client: Client): Promise<unknown> {
  const result = await client.downloadStatus({ gid: "2f1c0d9a7b3e4a51" });
  return result;
}

export async function downloadList(client: Client): Promise<unknown> {
  const result = await client.downloadList({ states: ["active", "queued"], limit: 10 });
  return result;
}

export async function downloadSetSpeedLimit(client: Client): Promise<unknown> {
  const result = await client.downloadSetSpeedLimit({ gid: "2f1c0d9a7b3e4a51", speedLimit: 1048576 });
  return result;
}

export async function downloadSetUrl(client: Client): Promise<unknown> {
  const result = await client.downloadSetUrl({ gid: "2f1c0d9a7b3e4a51", url: "https://mirror.example.org/ubuntu.iso" });
  return result;
}

export async function systemGetVersion(client: Client): Promise<unknown> {
  const result = await client.systemGetVersion();
  return result;
}

export async function systemGetStats(client: Client): Promise<unknown> {
  const result = await client.systemGetStats();
  return result;
}

export async function systemGetOptions(client: Client): Promise<unknown> {
  const result = await client.systemGetOptions();
  return result;
}

export async function systemSetOptions(client: Client): Promise<unknown> {
  const result = await client.systemSetOptions({ speedLimit: 10485760 });
  return result;
}

export async function eventsSubscribe(client: Client): Promise<unknown> {
  const result = await client.eventsSubscribe({ since: 41, streamId: "c0ffee0ddba11e57" });
  return result;
}

export async function eventsUnsubscribe(client: Client): Promise<unknown> {
  const result = await client.eventsUnsubscribe();
  return result;
}

export async function eventsPoll(client: Client): Promise<unknown> {
  const result = await client.eventsPoll({ since: 41, streamId: "c0ffee0ddba11e57" });
  return result;
}

export async function tokenAdd(client: Client): Promise<unknown> {
  const result = await client.tokenAdd({ name: "dashboard", scope: "read" });
  return result;
}

export async function tokenList(client: Client): Promise<unknown> {
  const result = await client.tokenList();
  return result;
}

export async function tokenRemove(client: Client): Promise<unknown> {
  const result = await client.tokenRemove({ name: "dashboard" });
  return result;
}

export async function rpcDiscover(client: Client): Promise<unknown> {
  const result = await client.rpcDiscover();
  return result;
}

/** Every snippet, in document order, with the method it calls. */
export const ALL: [string, (client: Client) => Promise<unknown>][] = [
  ["download.add", downloadAdd],
  ["download.pause", downloadPause],
  ["download.resume", downloadResume],
  ["download.remove", downloadRemove],
  ["download.status", downloadStatus],
  ["download.list", downloadList],
  ["download.setSpeedLimit", downloadSetSpeedLimit],
  ["download.setUrl", downloadSetUrl],
  ["system.getVersion", systemGetVersion],
  ["system.getStats", systemGetStats],
  ["system.getOptions", systemGetOptions],
  ["system.setOptions", systemSetOptions],
  ["events.subscribe", eventsSubscribe],
  ["events.unsubscribe", eventsUnsubscribe],
  ["events.poll", eventsPoll],
  ["token.add", tokenAdd],
  ["token.list", tokenList],
  ["token.remove", tokenRemove],
  ["rpc.discover", rpcDiscover],
];
