import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { taskIdNumber } from '../../wire/convert.js';
import type { PersistedTaskMeta } from '../../wire/types.js';
import { type CorruptRecordOptions, decodeRows, encodeRecords } from '../decode.js';
import { loadBetterSqlite3 } from '../drivers.js';
import type { CorruptRecord, TaskStore } from '../types.js';
import { migrate } from './schema.js';

/** What `new SqliteTaskStore(path, options)` takes besides the path. */
export interface SqliteTaskStoreOptions extends CorruptRecordOptions {
  /**
   * `'full'` (default) syncs the write-ahead log on every commit, so a resolved `put` survives a
   * power cut; `'normal'` survives a crash of the process but not of the machine, and is faster.
   */
  synchronous?: 'full' | 'normal';
  /** How long a write waits for another process's lock on the same file. Default 5000 ms. */
  busyTimeoutMs?: number;
}

type Row = { task_id: string; record: string };

/**
 * The embedded durable store: one SQLite file (WAL), one row per task, indexed by owner thread.
 * Each `put` is one transaction; ids come from a counter row in the file, so several processes
 * sharing the file never mint the same id. Unreadable rows are skipped by `load` and reported
 * through `onCorrupt` and {@link SqliteTaskStore.lastLoadCorrupt}.
 *
 * No `liveElsewhere`: SQLite has no cheap way to know another process is alive, so the store
 * treats its file as having one running supervisor at a time — every `running` record a restarted
 * process loads is an orphan. Use `PostgresTaskStore` for several live processes.
 *
 * @example
 * import { SqliteTaskStore } from 'awaken-tasks/sqlite';
 * const supervisor = createTaskSupervisor({ store: new SqliteTaskStore('./tasks.db') });
 */
export class SqliteTaskStore implements TaskStore {
  /** Stamped on the rows this store writes (diagnostics; SQLite ownership is single-writer). */
  readonly instanceId = randomUUID();
  readonly #onCorrupt: ((bad: CorruptRecord) => void) | undefined;
  #db: Database.Database | undefined;
  #lastLoadCorrupt: readonly CorruptRecord[] = [];
  readonly #putTx: (records: readonly PersistedTaskMeta[], texts: readonly string[]) => void;
  readonly #allocateTx: (count: number) => number;
  readonly #loadAll: Database.Statement<[], Row>;
  readonly #loadThread: Database.Statement<[string], Row>;

  constructor(path: string, options: SqliteTaskStoreOptions = {}) {
    this.#onCorrupt = options.onCorrupt;
    const db = new (loadBetterSqlite3())(path, { timeout: options.busyTimeoutMs ?? 5000 });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      migrate(db);
    } catch (e) {
      db.close();
      throw e;
    }
    this.#db = db;

    const upsert = db.prepare<[string, string, string, string, string]>(
      `INSERT INTO tasks (task_id, owner_thread_id, status, record, writer) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (task_id) DO UPDATE SET owner_thread_id = excluded.owner_thread_id,
         status = excluded.status, record = excluded.record, writer = excluded.writer`,
    );
    const bump = db.prepare<[number, number]>(
      "UPDATE counters SET value = ? WHERE name = 'next_id' AND value < ?",
    );
    const take = db.prepare<[number], { value: number }>(
      "UPDATE counters SET value = value + ? WHERE name = 'next_id' RETURNING value",
    );
    // `.immediate` takes the write lock up front: a deferred transaction that later upgrades can
    // fail with SQLITE_BUSY at once when another process holds the lock, ignoring busy_timeout.
    const putTx = db.transaction((records: readonly PersistedTaskMeta[], texts: readonly string[]) => {
      let next = -1;
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        upsert.run(r.task_id, r.owner_thread_id, r.status, texts[i]!, this.instanceId);
        const n = taskIdNumber(r.task_id);
        if (n !== undefined && n >= next) next = n + 1;
      }
      // Keep the counter past every stored `bg_<n>`, in the same transaction as the rows.
      if (next > 0) bump.run(next, next);
    });
    this.#putTx = (records, texts) => putTx.immediate(records, texts);
    const allocateTx = db.transaction((count: number) => take.get(count)!.value - count);
    this.#allocateTx = (count) => allocateTx.immediate(count);
    this.#loadAll = db.prepare<[], Row>('SELECT task_id, record FROM tasks ORDER BY rowid');
    this.#loadThread = db.prepare<[string], Row>(
      'SELECT task_id, record FROM tasks WHERE owner_thread_id = ? ORDER BY rowid',
    );
  }

  /** The rows the last `load` could not read, with their task ids and reasons. */
  get lastLoadCorrupt(): readonly CorruptRecord[] {
    return this.#lastLoadCorrupt;
  }

  /** Upserts `records` by `task_id` in one transaction; durable once it resolves. */
  async put(records: readonly PersistedTaskMeta[]): Promise<void> {
    this.#open();
    if (records.length === 0) return;
    this.#putTx(records, encodeRecords(records));
  }

  /** Every readable record, or one owner thread's, in first-write order. */
  async load(threadId?: string): Promise<PersistedTaskMeta[]> {
    this.#open();
    const rows = threadId === undefined ? this.#loadAll.all() : this.#loadThread.all(threadId);
    const { records, corrupt } = decodeRows(rows, this.#onCorrupt);
    this.#lastLoadCorrupt = corrupt;
    return records;
  }

  /** Reserves `count` ids in the file and returns the first; atomic across processes. */
  async allocateIds(count: number): Promise<number> {
    this.#open();
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new TypeError(`Expected \`count\` to be a positive integer, got ${String(count)}`);
    }
    return this.#allocateTx(count);
  }

  /** Closes the file; every later call rejects with `store is closed`. Idempotent. */
  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    db?.close();
  }

  #open(): Database.Database {
    if (this.#db === undefined) throw new Error('store is closed');
    return this.#db;
  }
}
