import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { taskIdNumber } from '../../wire/convert.js';
import type { PersistedTaskMeta } from '../../wire/types.js';
import { type CorruptRecordOptions, decodeRows, encodeRecords } from '../decode.js';
import { loadBetterSqlite3 } from '../drivers.js';
import type { CorruptRecord, PutResult, TaskStore } from '../types.js';
import { SqliteStoreError } from './errors.js';
import { inspectFile, isMemoryPath } from './inspect.js';
import { OwnerLock } from './ownerLock.js';
import { SchemaRefusal, SCHEMA_VERSION, migrate } from './schema.js';
import { sameRecord } from './sameRecord.js';
import { SqliteMessageOutbox } from './outbox.js';
import { SqliteDurableStore } from './durable.js';

/** What `new SqliteTaskStore(path, options)` takes besides the path. */
export interface SqliteTaskStoreOptions extends CorruptRecordOptions {
  /**
   * `'full'` (default) syncs the write-ahead log on every commit, so a resolved `put` survives a
   * power cut; `'normal'` survives a crash of the process but not of the machine, and is faster.
   */
  synchronous?: 'full' | 'normal';
  /** How long a read or write waits for SQLite's own locks on the file. Default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * Open an existing file to read it only (`load`), beside the process that owns it: no lock is
   * taken, nothing is written, and `put`, `allocateIds` and `delete` reject with
   * `opened_read_only`. What the CLI's `tree` and `serve --db` use.
   */
  readonly?: boolean;
}

type Row = { task_id: string; record: string };
type Fenced = { records: readonly PersistedTaskMeta[]; texts: readonly string[] };

/**
 * The embedded durable store: one SQLite file (WAL), one row per task, indexed by owner thread.
 *
 * One process owns a file at a time: opening it for writing takes an exclusive lock on the
 * sidecar `<file>-owner`, held until `close` or the process's death (SIGKILL included), and a
 * second writer gets a `SqliteStoreError` (`owned_elsewhere`) at once naming the owner's pid,
 * host and instance. Readers open with `{ readonly: true }` and work while the owner runs.
 * Before anything is written the file is checked: a newer schema, another application's database
 * or a file this process may not write is refused and left byte-for-byte untouched.
 *
 * A status change is fenced: a record whose stored row is no longer `running` is not overwritten
 * by a different version; `put` resolves with such records in `refused`, each as stored.
 * Unreadable rows are skipped by `load` and reported through `onCorrupt` and
 * {@link SqliteTaskStore.lastLoadCorrupt}.
 *
 * @example
 * import { SqliteTaskStore } from 'awaken-tasks/sqlite';
 * const supervisor = createTaskSupervisor({ store: new SqliteTaskStore('./tasks.db') });
 */
export class SqliteTaskStore implements TaskStore {
  /** This store's identity; stamped on the rows it writes and in the file's owner row. */
  readonly instanceId = randomUUID();
  /** The file, as given. */
  readonly path: string;
  /** Whether the store was opened with `{ readonly: true }`. */
  readonly readonly: boolean;
  readonly #onCorrupt: ((bad: CorruptRecord) => void) | undefined;
  #db: Database.Database | undefined;
  #lock: OwnerLock | undefined;
  #lastLoadCorrupt: readonly CorruptRecord[] = [];
  #putTx: ((batch: Fenced) => PersistedTaskMeta[]) | undefined;
  #allocateTx: ((count: number) => number) | undefined;
  #deleteTx: ((ids: readonly string[]) => void) | undefined;
  #loadAll: Database.Statement<[], Row> | undefined;
  #loadThread: Database.Statement<[string], Row> | undefined;

  constructor(path: string, options: SqliteTaskStoreOptions = {}) {
    if (typeof path !== 'string') {
      throw new TypeError(`Expected \`path\` to be a string, got ${path === null ? 'null' : typeof path}`);
    }
    this.path = path;
    this.readonly = options.readonly === true;
    this.#onCorrupt = options.onCorrupt;
    const timeout = options.busyTimeoutMs ?? 5000;
    if (this.readonly) {
      if (isMemoryPath(path) || !existsSync(path)) {
        throw new TypeError(`Expected \`path\` to be an existing file for a read-only store, got '${path}'`);
      }
      inspectFile(path, false);
      this.#db = new (loadBetterSqlite3())(path, { readonly: true, fileMustExist: true, timeout });
      return;
    }
    if (!isMemoryPath(path)) {
      inspectFile(path, true);
      this.#lock = OwnerLock.acquire(path);
    }
    let db: Database.Database | undefined;
    try {
      db = new (loadBetterSqlite3())(path, { timeout });
      migrate(db);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      if (this.#lock !== undefined) OwnerLock.claim(db, this.instanceId, Date.now());
    } catch (e) {
      db?.close();
      this.#lock?.release();
      throw e instanceof SchemaRefusal ? refusal(path, e) : e;
    }
    this.#db = db;
    this.#prepareWrites(db);
  }

  #messages: SqliteMessageOutbox | undefined;
  #durable: SqliteDurableStore | undefined;

  /**
   * Durable task rows (input, attempts, steps, idempotency keys) in this file; tables made on first use.
   *
   * @example
   * const pending = await store.durable.pending('render');
   */
  get durable(): SqliteDurableStore {
    this.#durable ??= new SqliteDurableStore(() => {
      this.#writable(this.#putTx);
      return this.#open();
    }, this.#onCorrupt);
    return this.#durable;
  }

  /**
   * Durable agent messaging (outbox, dead letters, reference mailbox) in this file; tables made on first use.
   *
   * @example
   * const dead = await store.messages.deadLetterCount('thread-1');
   */
  get messages(): SqliteMessageOutbox {
    this.#messages ??= new SqliteMessageOutbox(() => this.#open());
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
   * Upserts `records` by `task_id` in one transaction; durable once it resolves. A record whose
   * row is no longer `running` and holds a different version is left as stored and returned in
   * `refused` (an identical rewrite is accepted).
   *
   * @example
   * const outcome = await store.put([record]);
   * if (outcome?.refused.length) console.warn('refused', outcome.refused);
   */
  async put(records: readonly PersistedTaskMeta[]): Promise<void | PutResult> {
    const putTx = this.#writable(this.#putTx);
    if (records.length === 0) return;
    const refused = putTx({ records, texts: encodeRecords(records) });
    if (refused.length > 0) return { refused };
  }

  /**
   * Every readable record, or one owner thread's, in first-write order.
   *
   * @example
   * const records = await store.load('thread-1');
   */
  async load(threadId?: string): Promise<PersistedTaskMeta[]> {
    const db = this.#open();
    if (this.#loadAll === undefined || this.#loadThread === undefined) {
      // A read-only store may look at a file whose owner has not created the table yet.
      if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'tasks'").get() === undefined) return [];
      this.#loadAll = db.prepare<[], Row>('SELECT task_id, record FROM tasks ORDER BY rowid');
      this.#loadThread = db.prepare<[string], Row>(
        'SELECT task_id, record FROM tasks WHERE owner_thread_id = ? ORDER BY rowid',
      );
    }
    const rows = threadId === undefined ? this.#loadAll.all() : this.#loadThread.all(threadId);
    const { records, corrupt } = decodeRows(rows, this.#onCorrupt);
    this.#lastLoadCorrupt = corrupt;
    return records;
  }

  /**
   * Reserves `count` ids in the file and returns the first; atomic across processes.
   *
   * @example
   * const first = await store.allocateIds(10);
   */
  async allocateIds(count: number): Promise<number> {
    const allocateTx = this.#writable(this.#allocateTx);
    if (!Number.isSafeInteger(count) || count < 1) {
      throw new TypeError(`Expected \`count\` to be a positive integer, got ${String(count)}`);
    }
    return allocateTx(count);
  }

  /**
   * Removes the rows of these ids in one transaction (unknown ids are ignored).
   *
   * @example
   * await store.delete(['bg_0']);
   */
  async delete(taskIds: readonly string[]): Promise<void> {
    const deleteTx = this.#writable(this.#deleteTx);
    if (!Array.isArray(taskIds) || !taskIds.every((id) => typeof id === 'string')) {
      throw new TypeError(`Expected \`taskIds\` to be an array of strings, got ${typeof taskIds}`);
    }
    if (taskIds.length > 0) deleteTx(taskIds);
  }

  /**
   * Closes the file and gives up its ownership; every later call rejects with `store is closed`. Idempotent.
   *
   * @example
   * await supervisor.stop();
   * await store.close();
   */
  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    try {
      db?.close();
    } finally {
      this.#lock?.release();
    }
  }

  #open(): Database.Database {
    if (this.#db === undefined) throw new Error('store is closed');
    return this.#db;
  }

  #writable<T>(op: T | undefined): T {
    this.#open();
    if (op === undefined) {
      throw new SqliteStoreError(
        'opened_read_only',
        this.path,
        `cannot write to ${this.path}: the store was opened with { readonly: true }`,
      );
    }
    return op;
  }

  #prepareWrites(db: Database.Database): void {
    // Fenced upsert: a row that is no longer `running` changes only to the very same text.
    const upsert = db.prepare<[string, string, string, string, string]>(
      `INSERT INTO tasks (task_id, owner_thread_id, status, record, writer) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (task_id) DO UPDATE SET owner_thread_id = excluded.owner_thread_id,
         status = excluded.status, record = excluded.record, writer = excluded.writer
       WHERE tasks.status = 'running' OR tasks.record = excluded.record`,
    );
    const overwrite = db.prepare<[string, string, string, string, string]>(
      'UPDATE tasks SET owner_thread_id = ?, status = ?, record = ?, writer = ? WHERE task_id = ?',
    );
    const stored = db.prepare<[string], Row>('SELECT task_id, record FROM tasks WHERE task_id = ?');
    const bump = db.prepare<[number, number]>(
      "UPDATE counters SET value = ? WHERE name = 'next_id' AND value < ?",
    );
    const take = db.prepare<[number], { value: number }>(
      "UPDATE counters SET value = value + ? WHERE name = 'next_id' RETURNING value",
    );
    const remove = db.prepare<[string]>('DELETE FROM tasks WHERE task_id = ?');
    // `.immediate` takes the write lock up front: a deferred transaction that later upgrades can
    // fail with SQLITE_BUSY at once when another connection holds the lock, ignoring busy_timeout.
    const putTx = db.transaction(({ records, texts }: Fenced) => {
      const refused: PersistedTaskMeta[] = [];
      let next = -1;
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        const text = texts[i]!;
        if (upsert.run(r.task_id, r.owner_thread_id, r.status, text, this.instanceId).changes === 0) {
          const row = stored.get(r.task_id)!;
          const { records: held } = decodeRows([row]);
          if (held.length === 0) {
            // An unreadable row is no state worth keeping: the new version replaces it.
            overwrite.run(r.owner_thread_id, r.status, text, this.instanceId, r.task_id);
          } else if (!sameRecord(held[0]!, r)) {
            refused.push(held[0]!);
          }
        }
        const n = taskIdNumber(r.task_id);
        if (n !== undefined && n >= next) next = n + 1;
      }
      // Keep the counter past every stored `bg_<n>`, in the same transaction as the rows.
      if (next > 0) bump.run(next, next);
      return refused;
    });
    this.#putTx = (batch) => putTx.immediate(batch);
    const allocateTx = db.transaction((count: number) => take.get(count)!.value - count);
    this.#allocateTx = (count) => allocateTx.immediate(count);
    const deleteTx = db.transaction((ids: readonly string[]) => {
      for (const id of ids) remove.run(id);
    });
    this.#deleteTx = (ids) => deleteTx.immediate(ids);
  }
}

function refusal(path: string, e: SchemaRefusal): SqliteStoreError {
  return e.kind === 'newer'
    ? new SqliteStoreError(
        'newer_schema',
        path,
        `cannot open ${path}: task store schema version ${e.version} is newer than this awaken-tasks (${SCHEMA_VERSION}); upgrade awaken-tasks`,
        { cause: e },
      )
    : new SqliteStoreError(
        'foreign_database',
        path,
        `cannot open ${path}: ${e.message}; it was left untouched`,
        { cause: e },
      );
}
