import type pg from 'pg';
import { loadPg } from '../drivers.js';

/** How late a timeout may fire before it counts as this process's own stall, not the peer's silence. */
const STALL_MS = 200;

/** A query on a dedicated connection that did not answer in time: the connection counts as lost. */
export class QueryTimeoutError extends Error {
  override readonly name = 'QueryTimeoutError';
  readonly code = 'query_timeout';
}

/** How the store's own connections are configured: TCP keepalive on, connects and queries bounded. */
export function withTimeouts(config: pg.ClientConfig, timeoutMs: number): pg.ClientConfig {
  return {
    ...config,
    keepAlive: true,
    keepAliveInitialDelayMillis: config.keepAliveInitialDelayMillis ?? 10_000,
    connectionTimeoutMillis: config.connectionTimeoutMillis ?? timeoutMs,
  };
}

/**
 * Runs `text` on `client`, rejecting with {@link QueryTimeoutError} after `timeoutMs` (a half-open
 * socket never answers; the caller then drops the connection).
 */
export async function timedQuery<R extends pg.QueryResultRow>(
  client: pg.Client,
  timeoutMs: number,
  text: string,
  values: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const arm = (ms: number, stallChecked: boolean) => {
      const due = Date.now() + ms;
      timer = setTimeout(() => {
        // Fired late: this process itself was stalled (SIGSTOP, a blocked event loop), and the
        // answer may be waiting unread in the socket. Give it one more look before giving up.
        if (!stallChecked && Date.now() - due > STALL_MS) arm(STALL_MS, true);
        else reject(new QueryTimeoutError(`no answer from PostgreSQL within ${timeoutMs} ms`));
      }, ms);
    };
    arm(timeoutMs, false);
  });
  const query = client.query<R>(text, values);
  // A query answered after its timeout must not surface as an unhandled rejection.
  query.catch(() => undefined);
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes `client` at once, without waiting for a peer that may never answer. */
export function destroyClient(client: pg.Client): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection
    ?.stream;
  try {
    stream?.destroy?.();
  } catch {}
  client.end().catch(() => undefined);
}

/** What a dedicated connection reports. */
export interface DedicatedHooks {
  notify(payload: string): void;
  /** The connection failed or closed (reported once, for this client). */
  lost(client: pg.Client, error: unknown): void;
}

/** Opens the dedicated connection (keepalive on, connect bounded) and `LISTEN`s on `channel`. */
export async function openDedicated(
  config: pg.ClientConfig,
  timeoutMs: number,
  channel: string,
  hooks: DedicatedHooks,
): Promise<pg.Client> {
  const client = new (loadPg().Client)(withTimeouts(config, timeoutMs));
  let reported = false;
  const lost = (error: unknown) => {
    if (reported) return;
    reported = true;
    hooks.lost(client, error ?? new Error('connection ended'));
  };
  client.on('error', lost);
  client.on('end', () => lost(new Error('connection ended')));
  client.on('notification', (msg) => {
    if (msg.payload !== undefined) hooks.notify(msg.payload);
  });
  try {
    await client.connect();
    await timedQuery(client, timeoutMs, listenSql(channel));
  } catch (e) {
    reported = true;
    destroyClient(client);
    throw e;
  }
  return client;
}

/** `LISTEN` on `channel` (quoted: case and punctuation kept). */
export function listenSql(channel: string): string {
  return `LISTEN "${channel.replaceAll('"', '""')}"`;
}
