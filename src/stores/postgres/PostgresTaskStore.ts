import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { PersistedTaskMeta } from '../../wire/types.js';
import type pg from 'pg';
import type { TaskCoordination } from '../coordination.js';
import { type CorruptRecordOptions, decodeRows } from '../decode.js';
import { loadPg } from '../drivers.js';
import type { CorruptRecord, PutResult, TaskStore } from '../types.js';
import { checkout } from './checkout.js';
import { PgCoordination } from './coordination.js';
import { withTimeouts } from './dedicated.js';
import { OwnerEpoch } from './epoch.js';
import { type FenceState, fencedPut } from './fencedPut.js';
import { PgDurableStore } from './durable.js';
import { applyStatusColumn, orphanOwnerless, reapDead } from './orphan.js';
import { PostgresMessageOutbox } from './outbox.js';
import { PipelinedConnection } from './pipeline.js';
import { migrate, type TableNames, tableNames } from './schema.js';

/** What `new PostgresTaskStore(options)` takes. */
export interface PostgresTaskStoreOptions extends CorruptRecordOptions {
  /** Used to create a pool when `pool` is not given (else node-postgres reads the `PG*` variables). */
  connectionString?: string;
  /** Your own pool; the store never ends it. */
  pool?: Pool;
  /** Table name (plain identifier); `<table>_leases` and `<table>_meta` sit beside it. Default `awaken_tasks`. */
  table?: string;
  /**
   * How long this process counts as alive after its last heartbeat (every `leaseMs / 3`), judged
   * by the database clock. Default 15 000. A killed process is dead at once anyway (its session
   * advisory lock goes with its connection); the lease catches a process that stalls (SIGSTOP, a
   * blocked event loop, a database outage): past it, another replica may orphan its tasks, and the
   * stalled process's late writes are refused.
   */
  leaseMs?: number;
  /**
   * A stable id per process slot (a pod or host name); default a random UUID. Each start of the
   * store still takes a fresh owner epoch, and a start revokes every earlier epoch of the same
   * `instanceId`: a restarted process orphans its previous life's tasks at once. Two live
   * processes must never share one (the second start revokes the first).
   */
  instanceId?: string;
  /**
   * `true` when connections go through a transaction-pooling proxy (PgBouncer `pool_mode =
   * transaction`), where session advisory locks and `LISTEN` do not work: liveness is then the
   * lease alone, and control requests and events are polled every `pollMs`. Default `false`.
   */
  transactionPooling?: boolean;
  /** How often the heartbeat renews the lease and polls for missed notifications. Default `leaseMs / 3`. */
  pollMs?: number;
  /**
   * The bound on every query of the dedicated connection (lease renewal, lock, `LISTEN`) and on
   * connecting: a query unanswered by then counts as a lost connection, which is dropped and
   * re-established. So a half-open socket is detected within `pollMs + queryTimeoutMs`. Default
   * `max(1000, pollMs / 2)`. Pools the store creates bound their queries and connects by `leaseMs`.
   */
  queryTimeoutMs?: number;
  /**
   * How long another replica waits, once it sees an epoch's advisory lock gone (its dedicated
   * connection closed), for the owner to reconnect and take it again before judging the epoch dead.
   * A killed process is judged dead this long after it is first seen gone (or at its lease, if
   * sooner); a connection blip shorter than it costs nothing. Default `min(leaseMs, 5000)`; `0`
   * judges a missing lock dead at once (every blip then ends the epoch).
   */
  lockGraceMs?: number;
}

/** The default lease length, in milliseconds. */
export const DEFAULT_LEASE_MS = 15_000;

/** Puts in flight at once on the pipelined write connection. */
const PIPELINE_DEPTH = 4;

/**
 * A task store on PostgreSQL, the fenced authority for several replicas sharing one database.
 * Tables are created or migrated on first use; ids come from a counter row, atomic across
 * processes. Each store start is an owner epoch; every status change is one conditional statement
 * that lands only on a row still `running` under the writer's epoch (a refused write is reported
 * with the row as stored). `coordination` routes cancels, sub-agent messages and task events
 * between replicas (see docs/replicas.md).
 *
 * @example
 * import { PostgresTaskStore } from 'awaken-tasks/postgres';
 * const store = new PostgresTaskStore({ connectionString: process.env.DATABASE_URL ?? 'postgres://localhost/agent' });
 * const supervisor = createTaskSupervisor({ store });
 */
export class PostgresTaskStore implements TaskStore {
  /** The id of this process slot (see {@link PostgresTaskStoreOptions.instanceId}). */
  readonly instanceId: string;
  /** The lease length in milliseconds. */
  readonly leaseMs: number;
  /** Replica coordination: ownership, control and events through this database. */
  readonly coordination: TaskCoordination;
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  readonly #names: TableNames;
  readonly #epoch: OwnerEpoch;
  readonly #fence: FenceState;
  readonly #coordination: PgCoordination;
  readonly #onCorrupt: ((bad: CorruptRecord) => void) | undefined;
  #ready: Promise<void> | undefined;
  #closed = false;
  /** The turn of the last put to queue its statement. */
  #sending: Promise<unknown> = Promise.resolve();
  readonly #writes: PipelinedConnection | undefined;
  /**
   * How many puts may be in flight at once. Records are written on a connection of their own in
   * pipeline mode: each put's statement is sent without waiting for the answers to those before
   * it, and PostgreSQL runs them in the order sent, so a later put never lands before an earlier
   * one. Behind a transaction-pooling proxy (`transactionPooling: true`) puts go through the pool,
   * one at a time (`1`).
   *
   * @example
   * const store = new PostgresTaskStore({ connectionString: process.env.DATABASE_URL });
   * store.pipelinedPuts; // 4
   */
  readonly pipelinedPuts: number;
  #lastLoadCorrupt: readonly CorruptRecord[] = [];
  #refusals = 0;
  readonly #lockGraceMs: number;
  readonly #pollMs: number;

  constructor(options: PostgresTaskStoreOptions = {}) {
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    if (!Number.isSafeInteger(leaseMs) || leaseMs < 3) {
      throw new TypeError(`Expected \`leaseMs\` to be an integer >= 3, got ${String(leaseMs)}`);
    }
    const pollMs = options.pollMs ?? Math.max(1, Math.floor(leaseMs / 3));
    if (!Number.isSafeInteger(pollMs) || pollMs < 1) {
      throw new TypeError(`Expected \`pollMs\` to be a positive integer, got ${String(pollMs)}`);
    }
    const queryTimeoutMs = options.queryTimeoutMs ?? Math.max(1000, Math.floor(pollMs / 2));
    if (!Number.isSafeInteger(queryTimeoutMs) || queryTimeoutMs < 1) {
      throw new TypeError(
        `Expected \`queryTimeoutMs\` to be a positive integer, got ${String(queryTimeoutMs)}`,
      );
    }
    const lockGraceMs = options.lockGraceMs ?? Math.min(leaseMs, 5000);
    if (!Number.isSafeInteger(lockGraceMs) || lockGraceMs < 0) {
      throw new TypeError(
        `Expected \`lockGraceMs\` to be a non-negative integer, got ${String(lockGraceMs)}`,
      );
    }
    this.leaseMs = leaseMs;
    this.#pollMs = pollMs;
    this.#lockGraceMs = lockGraceMs;
    this.instanceId = options.instanceId ?? randomUUID();
    this.#names = tableNames(options.table ?? 'awaken_tasks');
    this.#onCorrupt = options.onCorrupt;
    let clientConfig: pg.ClientConfig;
    if (options.pool) {
      this.#pool = options.pool;
      this.#ownsPool = false;
      clientConfig = (options.pool as unknown as { options: pg.ClientConfig }).options;
    } else {
      clientConfig =
        options.connectionString === undefined ? {} : { connectionString: options.connectionString };
      // Keepalive on; a connect or query that takes longer than the lease cannot help and fails
      // (a half-open socket would otherwise hold a write forever; the writer retries it).
      const pool = new (loadPg().Pool)({
        ...withTimeouts(clientConfig, leaseMs),
        query_timeout: leaseMs,
      });
      // An idle client losing its connection must not crash the process; the next query reconnects.
      pool.on('error', () => undefined);
      this.#pool = pool;
      this.#ownsPool = true;
    }
    const open = () => this.#open();
    const pipelined = options.transactionPooling !== true;
    this.#writes = pipelined ? new PipelinedConnection(clientConfig, leaseMs) : undefined;
    this.pipelinedPuts = pipelined ? PIPELINE_DEPTH : 1;
    this.#fence = {
      writes: this.#writes,
      pool: this.#pool,
      names: this.#names,
      instanceId: this.instanceId,
      epoch: () => this.#epoch.current,
      epochOf: new Map(),
      localInbox: new Map(),
      tookTerminal: new Map(),
    };
    this.#coordination = new PgCoordination(this.#fence, open, lockGraceMs, () =>
      Math.round(Date.now() + this.#epoch.clockOffsetMs),
    );
    this.coordination = this.#coordination;
    this.#epoch = new OwnerEpoch(
      this.#pool,
      this.#names,
      this.instanceId,
      { leaseMs, pollMs, queryTimeoutMs, lockGraceMs },
      options.transactionPooling !== true,
      clientConfig,
      {
        notify: (payload) => this.#coordination.onNotify(payload),
        connection: (event) => this.#coordination.onConnection(event),
        revoked: (old) => this.#coordination.onRevoked(old),
        tick: () => this.#coordination.onTick(),
        retire: async (epoch) => {
          await this.#pool.query(`DELETE FROM ${this.#names.epochs} WHERE epoch = $1`, [epoch]);
          await orphanOwnerless(this.#pool, this.#names);
        },
      },
    );
  }

  #durable: PgDurableStore | undefined;

  /**
   * Durable task rows beside the task table: input, attempts, steps, the idempotency key unique
   * per thread; a live replica adopts the durable tasks of a dead or lease-expired one.
   *
   * @example
   * const pending = await store.durable.pending('render');
   */
  get durable(): PgDurableStore {
    this.#durable ??= new PgDurableStore({
      pool: this.#pool,
      names: this.#names,
      ready: () => this.#open(),
      epoch: () => this.#epoch.current,
      lockGraceMs: this.#lockGraceMs,
      sweepMs: this.#pollMs,
      onCorrupt: this.#onCorrupt,
    });
    return this.#durable;
  }

  #messages: PostgresMessageOutbox | undefined;

  /**
   * Durable agent messaging (outbox, dead letters, reference mailbox) beside the task table.
   *
   * @example
   * const dead = await store.messages.deadLetterCount();
   */
  get messages(): PostgresMessageOutbox {
    this.#messages ??= new PostgresMessageOutbox(this.#pool, this.#names.tasks.slice(1, -1), () =>
      this.#open(),
    );
    return this.#messages;
  }

  /**
   * The rows the last `load` could not read, with their task ids and reasons.
   *
   * @example
   * await store.load();
   * for (const bad of store.lastLoadCorrupt) console.warn(bad.task_id, bad.reason);
   */
  get lastLoadCorrupt(): readonly CorruptRecord[] {
    return this.#lastLoadCorrupt;
  }

  /**
   * This process's current owner epoch ('' before first use).
   *
   * @example
   * console.log('owner epoch', store.epoch);
   */
  get epoch(): string {
    return this.#epoch.current;
  }

  /**
   * How many records `put` refused so far (their rows had changed under another owner).
   *
   * @example
   * if (store.refusals > 0) console.warn('another replica took over some of our tasks');
   */
  get refusals(): number {
    return this.#refusals;
  }

  /**
   * Writes `records` in one statement, fenced: a new `running` record is inserted under this
   * process's epoch; any change to an existing row lands only while the row is `running` under
   * the epoch this process inserted it with. Resolves with the refused records (as stored now)
   * and the rejected new ones (duplicate running name, cancelled run).
   *
   * @example
   * const { refused } = await store.put([record]);
   */
  async put(records: readonly PersistedTaskMeta[]): Promise<PutResult> {
    let landing: Promise<PutResult> | undefined;
    // Statements are queued in call order (each put's turn comes after the previous one's
    // statement was queued, not answered): the connection runs them in that order, so a later
    // put never lands before an earlier one, while several are in flight.
    const turn = this.#sending.then(async () => {
      await this.#open();
      if (records.length === 0) return;
      // A task's custom events are stored before its terminal event.
      await this.#coordination.appended();
      await this.#writes?.ready();
      landing = fencedPut(this.#fence, records);
    });
    this.#sending = turn.catch(() => undefined);
    await turn;
    if (landing === undefined) return { refused: [] };
    const result = await landing;
    this.#refusals += result.refused.length;
    this.#coordination.landed(records);
    return result;
  }

  /**
   * Every readable record, or one owner thread's (by index), in first-write order.
   *
   * @example
   * const records = await store.load('thread-1');
   */
  async load(threadId?: string): Promise<PersistedTaskMeta[]> {
    await this.#open();
    const n = this.#names;
    type Row = { task_id: string; record: string; status: string; orphaned_at_ms: string | null };
    const res =
      threadId === undefined
        ? await this.#pool.query<Row>(
            `SELECT task_id, record, status, orphaned_at_ms FROM ${n.tasks} ORDER BY seq`,
          )
        : await this.#pool.query<Row>(
            `SELECT task_id, record, status, orphaned_at_ms FROM ${n.tasks} WHERE owner_thread_id = $1 ORDER BY seq`,
            [threadId],
          );
    const { records, corrupt } = decodeRows(res.rows, this.#onCorrupt);
    this.#lastLoadCorrupt = corrupt;
    const byId = new Map(res.rows.map((r) => [r.task_id, r]));
    return records.map((m) => {
      const row = byId.get(m.task_id)!;
      return applyStatusColumn(m, row.status, row.orphaned_at_ms);
    });
  }

  /**
   * Reserves `count` ids from the shared counter row and returns the first.
   *
   * @example
   * const first = await store.allocateIds(10); // ids first … first + 9 are ours
   */
  async allocateIds(count: number): Promise<number> {
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new TypeError(`Expected \`count\` to be a positive integer, got ${String(count)}`);
    }
    await this.#open();
    const res = await this.#pool.query<{ first: string }>(
      `UPDATE ${this.#names.meta} SET value = value + $1 WHERE name = 'next_id' RETURNING value - $1 AS first`,
      [count],
    );
    return Number(res.rows[0]!.first);
  }

  /**
   * Removes the rows of these ids, and their pending control requests, in one statement
   * (unknown ids are ignored).
   *
   * @example
   * await store.delete(['bg_0', 'bg_1']);
   */
  async delete(taskIds: readonly string[]): Promise<void> {
    await this.#open();
    if (!Array.isArray(taskIds) || !taskIds.every((id) => typeof id === 'string')) {
      throw new TypeError(`Expected \`taskIds\` to be an array of strings, got ${typeof taskIds}`);
    }
    if (taskIds.length === 0) return;
    await this.#pool.query(
      `WITH gone AS (DELETE FROM ${this.#names.tasks} WHERE task_id = ANY($1::text[]))
       DELETE FROM ${this.#names.control} WHERE task_id = ANY($1::text[])`,
      [taskIds],
    );
  }

  /**
   * Stops the heartbeat, deletes this process's epoch (its running tasks are orphaned by the next
   * replica that loads their thread) and ends the pool if the store created it. Later calls reject
   * with `store is closed`. Idempotent.
   *
   * @example
   * await supervisor.stop();
   * await store.close();
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#coordination.close();
    this.#writes?.close();
    try {
      if (this.#ready) await this.#ready.then(() => this.#epoch.stop()).catch(() => undefined);
    } finally {
      if (this.#ownsPool) await this.#pool.end();
    }
  }

  #open(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('store is closed'));
    this.#ready ??= this.#setUp().catch((e: unknown) => {
      // Let the next call try again (the database may come up later).
      this.#ready = undefined;
      throw e;
    });
    return this.#ready;
  }

  async #setUp(): Promise<void> {
    const client = await checkout(this.#pool);
    try {
      await migrate(client, this.#names);
    } finally {
      client.release();
    }
    await this.#epoch.start();
    // A restart with the same instanceId ends its previous life now, on every replica.
    await reapDead(this.#pool, this.#names, this.#lockGraceMs, {
      instanceId: this.instanceId,
      current: this.#epoch.current,
    });
  }
}
