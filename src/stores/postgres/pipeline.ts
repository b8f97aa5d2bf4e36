import type pg from 'pg';
import { loadPg } from '../drivers.js';
import { destroyClient, withTimeouts } from './dedicated.js';

/**
 * One connection in pipeline mode for the store's record writes: each statement is sent as soon as
 * it is queued, without waiting for the answers to those before it, and PostgreSQL runs them in
 * the order sent (each in its own implicit transaction, so one failing does not undo another).
 * That order is what lets the supervisor's writer have several puts in flight: a later put never
 * lands before an earlier one.
 *
 * A lost connection fails every statement queued on it; the next `query` opens a new one. The
 * server ends a statement that runs (or waits on a lock) for nearly `timeoutMs` itself, and the
 * statements behind it go on; one still unanswered at `timeoutMs` fails, and with it the
 * connection (node-postgres destroys a pipelined connection whose answer it stopped waiting for).
 */
export class PipelinedConnection {
  readonly #config: pg.ClientConfig;
  readonly #timeoutMs: number;
  #client: pg.Client | undefined;
  /** The client being connected (closed with the store, so its socket cannot outlive it). */
  #opening: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;
  #closed = false;

  constructor(config: pg.ClientConfig, timeoutMs: number) {
    this.#config = config;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Resolves once a connection is open; a `query` issued right after is queued on it, behind
   * every statement queued before.
   */
  ready(): Promise<unknown> | undefined {
    if (this.#client !== undefined) return undefined;
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** Queues `text` on the open connection (call after {@link ready}). */
  query<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
    name?: string,
  ): Promise<pg.QueryResult<R>> {
    const client = this.#client;
    if (client === undefined) return Promise.reject(new Error('connection lost'));
    return client.query<R>({ name, text, values, query_timeout: this.#timeoutMs } as pg.QueryConfig);
  }

  /** Closes the connection (one being opened too); statements in flight fail. */
  close(): void {
    this.#closed = true;
    for (const client of [this.#client, this.#opening]) if (client !== undefined) destroyClient(client);
    this.#client = undefined;
    this.#opening = undefined;
  }

  async #connect(): Promise<pg.Client> {
    if (this.#closed) throw new Error('store is closed');
    const client = new (loadPg().Client)({
      ...withTimeouts(this.#config, this.#timeoutMs),
      pipeline: true,
    } as pg.ClientConfig);
    const lost = () => {
      if (this.#client === client) this.#client = undefined;
      destroyClient(client);
    };
    // A lost connection must not crash the process: its statements fail, the next put reconnects.
    client.on('error', lost);
    client.on('end', lost);
    this.#opening = client;
    try {
      await client.connect();
      // The server gives up on a statement itself a little before this side would (a statement
      // waiting on a lock, say): the statements queued behind it then go on, on this connection,
      // instead of failing with it when the client-side timeout destroys the connection (and the
      // old server session could still commit a statement the writer already wrote again).
      const serverMs = this.#timeoutMs - Math.min(1000, Math.floor(this.#timeoutMs / 4));
      if (serverMs >= 1) await client.query(`SET statement_timeout = ${serverMs}`).catch(() => undefined);
    } catch (e) {
      destroyClient(client);
      throw e;
    } finally {
      if (this.#opening === client) this.#opening = undefined;
    }
    if (this.#closed) {
      destroyClient(client);
      throw new Error('store is closed');
    }
    this.#client = client;
    return client;
  }
}
