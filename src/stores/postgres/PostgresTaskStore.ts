import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { taskIdNumber } from '../../wire/convert.js';
import type { PersistedTaskMeta } from '../../wire/types.js';
import { type CorruptRecordOptions, decodeRows, encodeRecords } from '../decode.js';
import { loadPg } from '../drivers.js';
import type { CorruptRecord, TaskStore } from '../types.js';
import { Lease } from './lease.js';
import { PostgresMessageOutbox } from './outbox.js';
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
   * How long this instance counts as alive after its last heartbeat (every `leaseMs / 3`).
   * Default 15 000. Shorter: a crashed process's running tasks are orphaned sooner. Longer: a
   * process that stalls (GC pause, blocked event loop, database unreachable) for more than about
   * two thirds of it is not mistaken for dead and its tasks are not orphaned under it.
   */
  leaseMs?: number;
  /**
   * Stamped on every record this instance writes; default a random UUID. Give a stable, unique
   * id per process slot (a pod or host name) so a restarted process recognizes the records of its
   * own previous life as orphans at once instead of waiting for the old lease to expire. Two live
   * processes must never share one.
   */
  instanceId?: string;
}

/** The default lease length, in milliseconds. */
export const DEFAULT_LEASE_MS = 15_000;

/**
 * A task store on PostgreSQL for several processes sharing one database. Tables are created or
 * migrated on first use; each `put` is one upsert statement; ids come from a counter row, atomic
 * across processes. Each instance holds a lease renewed by heartbeat and stamps the records it
 * writes, so `liveElsewhere` tells a loading supervisor which `running` records another live
 * process is still running (not orphans) — see {@link PostgresTaskStoreOptions.leaseMs}.
 *
 * @example
 * import { PostgresTaskStore } from 'awaken-tasks/postgres';
 * const store = new PostgresTaskStore({ connectionString: process.env.DATABASE_URL });
 * const supervisor = createTaskSupervisor({ store });
 */
export class PostgresTaskStore implements TaskStore {
  /** The id this instance stamps on its records and holds its lease under. */
  readonly instanceId: string;
  /** The lease length in milliseconds. */
  readonly leaseMs: number;
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  readonly #names: TableNames;
  readonly #lease: Lease;
  readonly #onCorrupt: ((bad: CorruptRecord) => void) | undefined;
  #ready: Promise<void> | undefined;
  #closed = false;
  #lastLoadCorrupt: readonly CorruptRecord[] = [];

  constructor(options: PostgresTaskStoreOptions = {}) {
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    if (!Number.isSafeInteger(leaseMs) || leaseMs < 3) {
      throw new TypeError(`Expected \`leaseMs\` to be an integer >= 3, got ${String(leaseMs)}`);
    }
    this.leaseMs = leaseMs;
    this.instanceId = options.instanceId ?? randomUUID();
    this.#names = tableNames(options.table ?? 'awaken_tasks');
    this.#onCorrupt = options.onCorrupt;
    if (options.pool) {
      this.#pool = options.pool;
      this.#ownsPool = false;
    } else {
      const pool = new (loadPg().Pool)(
        options.connectionString === undefined ? {} : { connectionString: options.connectionString },
      );
      // An idle client losing its connection must not crash the process; the next query reconnects.
      pool.on('error', () => undefined);
      this.#pool = pool;
      this.#ownsPool = true;
    }
    this.#lease = new Lease(this.#pool, this.#names, this.instanceId, leaseMs);
  }

  #messages: PostgresMessageOutbox | undefined;

  /** Durable agent messaging (outbox, dead letters, reference mailbox) beside the task table. */
  get messages(): PostgresMessageOutbox {
    this.#messages ??= new PostgresMessageOutbox(this.#pool, this.#names.tasks.slice(1, -1), () =>
      this.#open(),
    );
    return this.#messages;
  }

  /** The rows the last `load` could not read, with their task ids and reasons. */
  get lastLoadCorrupt(): readonly CorruptRecord[] {
    return this.#lastLoadCorrupt;
  }

  /** Upserts `records` by `task_id` in one statement (all or none), stamped with this instance. */
  async put(records: readonly PersistedTaskMeta[]): Promise<void> {
    await this.#open();
    if (records.length === 0) return;
    // One statement cannot upsert a row twice: the last write of an id wins, as in a sequence of puts.
    const latest = new Map<string, PersistedTaskMeta>();
    for (const r of records) latest.set(r.task_id, r);
    const batch = [...latest.values()];
    const texts = encodeRecords(batch);
    let next = 0;
    for (const r of batch) {
      const n = taskIdNumber(r.task_id);
      if (n !== undefined && n >= next) next = n + 1;
    }
    const n = this.#names;
    // A `running` record never takes over a row that another live instance wrote: that instance
    // runs the task and owns its record (a supervisor restoring a thread echoes the records it
    // loaded; the echo must neither steal ownership nor overwrite a terminal write racing it).
    // Terminal records always land, so an orphan can be marked once the writer's lease lapsed.
    // The counter bump rides in the same statement, and only locks the counter row when a record
    // carries an id at or past it (ids the supervisor minted never do), so puts do not serialize.
    await this.#pool.query(
      `WITH data AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS d(task_id, owner_thread_id, status, record)
       ), up AS (
         INSERT INTO ${n.tasks} AS t (task_id, owner_thread_id, status, record, writer)
         SELECT task_id, owner_thread_id, status, record, $5 FROM data
         ON CONFLICT (task_id) DO UPDATE SET owner_thread_id = excluded.owner_thread_id,
           status = excluded.status, record = excluded.record, writer = excluded.writer
         WHERE NOT (excluded.status = 'running' AND t.writer <> excluded.writer AND EXISTS (
           SELECT 1 FROM ${n.leases} l WHERE l.instance_id = t.writer AND l.expires_at > now()))
       )
       UPDATE ${n.meta} SET value = $6::bigint WHERE name = 'next_id' AND value < $6::bigint`,
      [
        batch.map((r) => r.task_id),
        batch.map((r) => r.owner_thread_id),
        batch.map((r) => r.status),
        texts,
        this.instanceId,
        next,
      ],
    );
  }

  /** Every readable record, or one owner thread's (by index), in first-write order. */
  async load(threadId?: string): Promise<PersistedTaskMeta[]> {
    await this.#open();
    const n = this.#names;
    const res =
      threadId === undefined
        ? await this.#pool.query<{ task_id: string; record: string }>(
            `SELECT task_id, record FROM ${n.tasks} ORDER BY seq`,
          )
        : await this.#pool.query<{ task_id: string; record: string }>(
            `SELECT task_id, record FROM ${n.tasks} WHERE owner_thread_id = $1 ORDER BY seq`,
            [threadId],
          );
    const { records, corrupt } = decodeRows(res.rows, this.#onCorrupt);
    this.#lastLoadCorrupt = corrupt;
    return records;
  }

  /** Reserves `count` ids from the shared counter row and returns the first. */
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
   * The ids, among `records`, of `running` tasks last written by another instance whose lease has
   * not expired. A record written by this instance, or by one whose lease lapsed (a crashed or
   * closed process), is not live elsewhere: it is an orphan.
   */
  async liveElsewhere(records: readonly PersistedTaskMeta[]): Promise<ReadonlySet<string>> {
    await this.#open();
    const running = records.filter((r) => r.status === 'running').map((r) => r.task_id);
    if (running.length === 0) return new Set();
    const n = this.#names;
    const res = await this.#pool.query<{ task_id: string }>(
      `SELECT t.task_id FROM ${n.tasks} t JOIN ${n.leases} l ON l.instance_id = t.writer
       WHERE t.task_id = ANY($1::text[]) AND t.status = 'running' AND t.writer <> $2 AND l.expires_at > now()`,
      [running, this.instanceId],
    );
    return new Set(res.rows.map((r) => r.task_id));
  }

  /** Removes the rows of these ids in one statement (unknown ids are ignored). */
  async delete(taskIds: readonly string[]): Promise<void> {
    await this.#open();
    if (!Array.isArray(taskIds) || !taskIds.every((id) => typeof id === 'string')) {
      throw new TypeError(`Expected \`taskIds\` to be an array of strings, got ${typeof taskIds}`);
    }
    if (taskIds.length === 0) return;
    await this.#pool.query(`DELETE FROM ${this.#names.tasks} WHERE task_id = ANY($1::text[])`, [taskIds]);
  }

  /**
   * Stops the heartbeat, deletes this instance's lease (its running records become orphans for
   * others at once) and ends the pool if the store created it. Later calls reject with
   * `store is closed`. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#ready) await this.#ready.then(() => this.#lease.release()).catch(() => undefined);
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
    const client = await this.#pool.connect();
    try {
      await migrate(client, this.#names);
    } finally {
      client.release();
    }
    await this.#lease.start();
  }
}
