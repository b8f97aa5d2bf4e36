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
 * A lost connection fails every statement queued on it; the next `query` opens a new one. A
 * statement unanswered within `timeoutMs` fails, and with it the connection (node-postgres
 * destroys a pipelined connection whose answer it stopped waiting for).
 */
export class PipelinedConnection {
  readonly #config: pg.ClientConfig;
  readonly #timeoutMs: number;
  #client: pg.Client | undefined;
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

  /** Closes the connection; statements in flight fail. */
  close(): void {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) destroyClient(client);
  }

  async #connect(): Promise<pg.Client> {
    if (this.#closed) throw new Error('store is closed');
    const client = new (loadPg().Client)({
      ...withTimeouts(this.#config, this.#timeoutMs),
      pipeline: true,
      options: `${this.#config.options ?? ''} -c plan_cache_mode=force_generic_plan`.trim(),
    } as pg.ClientConfig);
    const lost = () => {
      if (this.#client === client) this.#client = undefined;
      destroyClient(client);
    };
    // A lost connection must not crash the process: its statements fail, the next put reconnects.
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
    } catch (e) {
      destroyClient(client);
      throw e;
    }
    if (this.#closed) {
      destroyClient(client);
      throw new Error('store is closed');
    }
    this.#client = client;
    return client;
  }
}
