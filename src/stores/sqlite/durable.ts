import type Database from 'better-sqlite3';
import type { Json, TaskId } from '../../wire/types.js';
import type { DurableCreated, DurableRow, DurableTaskStore } from '../durable.js';
import {
  DURABLE_COLUMNS,
  decodeDurableRows,
  decodeSteps,
  encodeDurableRow,
  type StoredDurableRow,
} from '../durableRows.js';
import type { CorruptRecord } from '../types.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS durable_tasks (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id         TEXT NOT NULL UNIQUE,
    thread_id       TEXT NOT NULL,
    task_type       TEXT NOT NULL,
    idempotency_key TEXT,
    state           TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    max_attempts    INTEGER NOT NULL,
    next_run_at_ms  INTEGER NOT NULL,
    owner           TEXT,
    record          TEXT NOT NULL,
    input           TEXT NOT NULL,
    errors          TEXT NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS durable_tasks_key
    ON durable_tasks (thread_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE INDEX IF NOT EXISTS durable_tasks_pending ON durable_tasks (task_type, state);
  CREATE TABLE IF NOT EXISTS durable_steps (
    task_id TEXT NOT NULL,
    name    TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (task_id, name)
  );
`;

/** One write waiting for its group transaction. */
type Pending = {
  run(): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  value: unknown;
};

const COLS = DURABLE_COLUMNS.join(', ');

function prepare(db: Database.Database) {
  db.exec(SCHEMA);
  const byKey = db.prepare<[string, string], { task_id: string }>(
    'SELECT task_id FROM durable_tasks WHERE thread_id = ? AND idempotency_key = ?',
  );
  const insert = db.prepare(
    `INSERT INTO durable_tasks (${COLS}) VALUES (@task_id, @thread_id, @task_type, @idempotency_key,
       @state, @attempt, @max_attempts, @next_run_at_ms, @owner, @record, @input, @errors)`,
  );
  const get = db.prepare<[string], StoredDurableRow>(`SELECT ${COLS} FROM durable_tasks WHERE task_id = ?`);
  const claim = db.prepare<[string, string, number, number], StoredDurableRow>(
    `UPDATE durable_tasks SET state = 'running', attempt = attempt + 1, owner = ?
     WHERE task_id = ? AND state = 'waiting' AND attempt = ? AND next_run_at_ms <= ?
     RETURNING ${COLS}`,
  );
  // The fence: this very attempt of this very claimant.
  const held = "task_id = @taskId AND state = 'running' AND attempt = @attempt AND owner = @owner";
  const fenced = db.prepare<[{ taskId: string; attempt: number; owner: string }], { one: 1 }>(
    `SELECT 1 AS one FROM durable_tasks WHERE ${held}`,
  );
  // One fenced statement: the error appended in SQL, so nothing is read and written back.
  const release = db.prepare<
    [{ taskId: string; attempt: number; owner: string; error: string; next: number | null }]
  >(
    `UPDATE durable_tasks SET state = CASE WHEN @next IS NULL THEN 'done' ELSE 'waiting' END,
       next_run_at_ms = coalesce(@next, next_run_at_ms), owner = NULL,
       errors = json_insert(errors, '$[#]', @error)
     WHERE ${held}`,
  );
  const finish = db.prepare<[string]>(
    "UPDATE durable_tasks SET state = 'done', owner = NULL WHERE task_id = ? AND state <> 'done'",
  );
  const pending = db.prepare<[string], StoredDurableRow>(
    `SELECT ${COLS} FROM durable_tasks WHERE task_type = ? AND state <> 'done' ORDER BY seq`,
  );
  const steps = db.prepare<[string], { name: string; value: string }>(
    'SELECT name, value FROM durable_steps WHERE task_id = ?',
  );
  const step = db.prepare<[string, string], { value: string }>(
    'SELECT value FROM durable_steps WHERE task_id = ? AND name = ?',
  );
  const putStep = db.prepare<[string, string, string]>(
    `INSERT INTO durable_steps (task_id, name, value) VALUES (?, ?, ?)
     ON CONFLICT (task_id, name) DO UPDATE SET value = excluded.value`,
  );
  const removeRow = db.prepare<[string]>('DELETE FROM durable_tasks WHERE task_id = ?');
  const removeSteps = db.prepare<[string]>('DELETE FROM durable_steps WHERE task_id = ?');

  const batch = db.transaction((ops: (() => void)[]) => {
    for (const op of ops) op();
  });
  const createTx = (row: DurableRow): DurableCreated => {
    if (row.idempotency_key !== undefined) {
      const taken = byKey.get(row.thread_id, row.idempotency_key);
      if (taken !== undefined) return { created: false, taskId: taken.task_id };
    }
    insert.run(encodeDurableRow(row));
    return { created: true };
  };
  const stepTx = (
    taskId: string,
    attempt: number,
    owner: string,
    name: string,
    value: Json,
    overwrite: boolean,
  ) => {
    if (fenced.get({ taskId, attempt, owner }) === undefined) return undefined;
    if (!overwrite) {
      const kept = step.get(taskId, name);
      if (kept !== undefined) return { value: JSON.parse(kept.value) as Json };
    }
    putStep.run(taskId, name, JSON.stringify(value));
    return { value };
  };
  const removeTx = (taskId: string) => {
    removeRow.run(taskId);
    removeSteps.run(taskId);
  };
  return { batch, createTx, release, stepTx, removeTx, get, claim, finish, pending, steps };
}

/**
 * Durable task rows in the store's SQLite file (`SqliteTaskStore#durable`); its tables are made on
 * first use. Writes made in one tick share one immediate transaction (group commit, in call
 * order); every method is durable when it resolves. The idempotency
 * key is a unique index per thread; the fence is a condition on (state, attempt, owner).
 *
 * @example
 * const durable = new SqliteTaskStore('./tasks.db').durable;
 * const row = await durable.claim('bg_0', 0, 'owner-a', Date.now());
 */
export class SqliteDurableStore implements DurableTaskStore {
  readonly #open: () => Database.Database;
  readonly #onCorrupt: ((bad: CorruptRecord) => void) | undefined;
  #s: ReturnType<typeof prepare> | undefined;

  /**
   * Made by `SqliteTaskStore#durable`; `open` returns the store's writable better-sqlite3 handle,
   * `onCorrupt` hears of each row that cannot be read (skipped, never thrown).
   */
  constructor(open: () => object, onCorrupt?: (bad: CorruptRecord) => void) {
    this.#open = open as () => Database.Database;
    this.#onCorrupt = onCorrupt;
  }

  #decode(rows: StoredDurableRow[]): DurableRow[] {
    return decodeDurableRows(rows, this.#onCorrupt);
  }

  /** Writes asked for in one tick, committed together in one immediate transaction (group commit). */
  #queue: Pending[] = [];

  #stmts(): ReturnType<typeof prepare> {
    const db = this.#open();
    this.#s ??= prepare(db);
    return this.#s;
  }

  /**
   * Runs `op` inside the next group transaction: every write of this tick shares one commit (one
   * sync), in call order, each seeing the ones before it. Resolves once that transaction committed.
   */
  #write<T>(op: (s: ReturnType<typeof prepare>) => T): Promise<T> {
    const s = this.#stmts();
    return new Promise<T>((resolve, reject) => {
      if (this.#queue.length === 0) queueMicrotask(() => this.#flush(s));
      this.#queue.push({
        run: () => op(s),
        resolve: resolve as (v: unknown) => void,
        reject,
        value: undefined,
      });
    });
  }

  #flush(s: ReturnType<typeof prepare>): void {
    const group = this.#queue;
    this.#queue = [];
    try {
      s.batch.immediate(
        group.map((p) => () => {
          p.value = p.run();
        }),
      );
    } catch {
      // The group rolled back: each write is tried alone, so one failing write fails only itself.
      for (const p of group) {
        try {
          s.batch.immediate([
            () => {
              p.value = p.run();
            },
          ]);
          p.resolve(p.value);
        } catch (e) {
          p.reject(e);
        }
      }
      return;
    }
    for (const p of group) p.resolve(p.value);
  }

  async create(row: DurableRow): Promise<DurableCreated> {
    return this.#write((s) => s.createTx(row));
  }

  async get(taskId: TaskId): Promise<DurableRow | undefined> {
    const r = this.#stmts().get.get(taskId);
    return r === undefined ? undefined : this.#decode([r])[0];
  }

  async claim(
    taskId: TaskId,
    afterAttempt: number,
    owner: string,
    nowMs: number,
  ): Promise<DurableRow | undefined> {
    const r = await this.#write((s) => s.claim.get(owner, taskId, afterAttempt, nowMs));
    return r === undefined ? undefined : this.#decode([r])[0];
  }

  async release(
    taskId: TaskId,
    attempt: number,
    owner: string,
    error: string,
    nextRunAtMs: number | undefined,
  ): Promise<boolean> {
    const next = nextRunAtMs ?? null;
    return this.#write((s) => s.release.run({ taskId, attempt, owner, error, next }).changes === 1);
  }

  async finish(taskId: TaskId): Promise<void> {
    await this.#write((s) => s.finish.run(taskId));
  }

  async pending(taskType: string): Promise<DurableRow[]> {
    return this.#decode(this.#stmts().pending.all(taskType));
  }

  async steps(taskId: TaskId): Promise<Record<string, Json>> {
    return decodeSteps(this.#stmts().steps.all(taskId));
  }

  async setStep(
    taskId: TaskId,
    attempt: number,
    owner: string,
    name: string,
    value: Json,
    overwrite: boolean,
  ): Promise<{ value: Json } | undefined> {
    return this.#write((s) => s.stepTx(taskId, attempt, owner, name, value, overwrite));
  }

  async remove(taskId: TaskId): Promise<void> {
    await this.#write((s) => s.removeTx(taskId));
  }
}
