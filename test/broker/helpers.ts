// Shared bits of the broker tests: temp data dirs, free ports, and clients that record
// what they receive.
import { waitUntil as waitUntilHolds } from '../helpers/wait.js';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MqttLink, type MqttLinkOptions } from '../../protocol/mqtt/link.js';

export function tempDir(prefix = 'pikube-broker-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let counter = 0;

/** Starts a link and fails the test quickly if it does not connect. */
export async function connectLink(url: string, opts: Partial<MqttLinkOptions> & { username?: string; password?: string }): Promise<MqttLink> {
  // A node's links must use its own client ids (pikube-agent-<node>[:suffix]); the controller may use any.
  const own = opts.username && opts.username !== 'pikube-controller' && opts.username !== 'pikube-join' ? `pikube-agent-${opts.username}:` : 'test-';
  const link = new MqttLink({ url, clientId: opts.clientId ?? `${own}${process.pid}-${++counter}`, reconnectPeriodMs: 200, ...opts });
  await link.start({ timeoutMs: 5000 });
  return link;
}

/** Records every message on a filter. */
export async function record(link: MqttLink, filter: string): Promise<{ topic: string; payload: Buffer }[]> {
  const got: { topic: string; payload: Buffer }[] = [];
  await link.subscribe(filter, (topic, payload) => got.push({ topic, payload }));
  return got;
}

/** Waits until check() is true, or throws after timeoutMs. */
export const waitUntil = (check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> => waitUntilHolds(what, check, timeoutMs);
