import type { Pool } from 'pg';
import type { Json, TaskId } from '../../wire/types.js';
import type { BackoffNumbers, DurableCreated, DurableRow, DurableTaskStore } from '../durable.js';
import {
  DURABLE_COLUMNS,
  decodeDurableRows,
  decodeSteps,
  encodeDurableRow,
  type StoredDurableRow,
} from '../durableRows.js';
import type { CorruptRecord } from '../types.js';
import { reapDead } from './orphan.js';
import type { TableNames } from './schema.js';

/** A row as `pg` reads it: `errors` is jsonb, which `pg` hands back parsed. */
type Row = Omit<StoredDurableRow, 'errors'> & { errors: unknown };

const COLS = DURABLE_COLUMNS.join(', ');
const T_COLS = DURABLE_COLUMNS.map((c) => `t.${c}`).join(', ');

/** `true` while owner epoch `expr` exists and its lease (database clock) has not passed. */
function live(n: TableNames, expr: string): string {
  return `EXISTS (SELECT 1 FROM ${n.epochs} e WHERE e.epoch = ${expr} AND e.expires_at > now())`;
}

/** The statements, built once per table. */
function statements(n: TableNames) {
  const d = n.durable;
  // The fence: this very attempt of this very claimant, whose owner epoch is still alive.
  const held = `task_id = $1 AND state = 'running' AND attempt = $2 AND owner = $3 AND ${live(n, 'owner_epoch')}`;
  return {
    insert: `INSERT INTO ${d} (${COLS}, owner_epoch)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13)
      ON CONFLICT (thread_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING task_id`,
    byKey: `SELECT task_id FROM ${d} WHERE thread_id = $1 AND idempotency_key = $2`,
    get: `SELECT ${COLS} FROM ${d} WHERE task_id = $1`,
    // The one conditional claim: the row is locked (others skip it, never wait), due, still at the
    // expected attempt, and this process's to claim (its epoch, or its claimant is gone).
    // A claim under a new epoch (the previous one dead, e.g. this process's own lapsed lease) also
    // moves the task's record to it, as the takeover does, so the record's writes land.
    claim: `WITH c AS (
        SELECT task_id FROM ${d} x
        WHERE x.task_id = $1 AND x.state = 'waiting' AND x.attempt = $2 AND x.next_run_at_ms <= $4
          AND (x.owner_epoch IS NULL OR x.owner_epoch = $5 OR NOT ${live(n, 'x.owner_epoch')})
          AND ${live(n, '$5')}
        FOR UPDATE SKIP LOCKED
      ), took AS (
        UPDATE ${d} t SET state = 'running', attempt = t.attempt + 1, owner = $3, owner_epoch = $5
        FROM c WHERE t.task_id = c.task_id
        RETURNING ${T_COLS}
      ), rec AS (
        UPDATE ${n.tasks} r SET owner_epoch = $5 FROM took
        WHERE r.task_id = took.task_id AND r.status = 'running' AND r.owner_epoch IS DISTINCT FROM $5
          AND (r.owner_epoch IS NULL OR NOT ${live(n, 'r.owner_epoch')})
      )
      SELECT * FROM took`,
    release: `UPDATE ${d} SET state = CASE WHEN $5::bigint IS NULL THEN 'done' ELSE 'waiting' END,
        next_run_at_ms = coalesce($5::bigint, next_run_at_ms), owner = NULL,
        errors = errors || jsonb_build_array($4::text)
      WHERE ${held}`,
    finish: `UPDATE ${d} SET state = 'done', owner = NULL WHERE task_id = $1 AND state <> 'done'`,
    pending: `SELECT ${COLS} FROM ${d} WHERE task_type = $1 AND state <> 'done' ORDER BY seq`,
    steps: `SELECT name, value FROM ${n.durableSteps} WHERE task_id = $1`,
    // A step keeps its first value, a checkpoint ($6) takes the new one; both fenced. The conflict
    // arm always updates (a step to its own value), so RETURNING gives the value stored even when a
    // racing write of the same attempt committed it after this statement's snapshot. No row: the
    // fence refused the write.
    setStep: `WITH f AS (SELECT 1 FROM ${d} WHERE ${held} FOR SHARE)
      INSERT INTO ${n.durableSteps} AS s (task_id, name, value) SELECT $1, $4, $5 FROM f
      ON CONFLICT (task_id, name) DO UPDATE
        SET value = CASE WHEN $6::boolean THEN excluded.value ELSE s.value END
      RETURNING value`,
    remove: `WITH s AS (DELETE FROM ${n.durableSteps} WHERE task_id = $1) DELETE FROM ${d} WHERE task_id = $1`,
    // The takeover of rows whose claimant is gone: ONE statement, rows locked with SKIP LOCKED (a
    // racing replica takes others), a running attempt recorded as lost with its backoff computed on
    // the database clock, and the task's record moved to this epoch so its writes land. A state it
    // does not know is kept, so the row comes back as stored and is reported unreadable.
    stranded: `SELECT ${COLS} FROM ${d} WHERE task_type = $1 AND state = 'waiting' AND owner_epoch = $2
      ORDER BY seq LIMIT $3`,
    adopt: `WITH lost AS (
        SELECT task_id FROM ${d} x
        WHERE x.task_type = $1 AND x.state <> 'done'
          AND (x.owner_epoch IS NULL OR (x.owner_epoch <> $2 AND NOT ${live(n, 'x.owner_epoch')}))
          AND ${live(n, '$2')}
        ORDER BY x.seq LIMIT $3
        FOR UPDATE SKIP LOCKED
      ), took AS (
        UPDATE ${d} t SET owner_epoch = $2, owner = NULL,
          state = CASE WHEN t.state = 'running' AND t.attempt >= t.max_attempts THEN 'done'
            WHEN t.state IN ('running', 'waiting') THEN 'waiting' ELSE t.state END,
          errors = CASE WHEN t.state = 'running'
            THEN t.errors || jsonb_build_array('attempt ' || t.attempt || ': ' || $4::text) ELSE t.errors END,
          next_run_at_ms = CASE WHEN t.state = 'running' THEN
              floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint
              + round(least($5::float8 * power($6::float8, greatest(0, t.attempt - 1)), $7::float8)
                * (1 - $8::float8 * random()))::bigint
            ELSE t.next_run_at_ms END
        FROM lost WHERE t.task_id = lost.task_id
        RETURNING ${T_COLS}, t.seq
      ), rec AS (
        UPDATE ${n.tasks} r SET owner_epoch = $2 FROM took
        WHERE r.task_id = took.task_id AND r.status = 'running'
      )
      SELECT * FROM took ORDER BY seq`,
  };
}

/**
 * Durable task rows in PostgreSQL (`PostgresTaskStore#durable`), beside the task table and made by
 * its migrations. The idempotency key is a unique index per thread, so a second spawn on any
 * replica finds the first task. Each attempt is claimed by one conditional statement (`FOR UPDATE
 * SKIP LOCKED`) and fenced by (owner epoch, attempt): a write lands only while the row is
 * `running` that attempt for that claimant and the claimant's owner epoch is alive by the
 * database's clock, so a stalled replica's late body writes nothing. `adopt` takes over the rows
 * of a dead or lease-expired replica.
 *
 * @example
 * const durable = new PostgresTaskStore({ connectionString: process.env.DATABASE_URL }).durable;
 * const row = await durable.get('bg_0');
 */
export class PgDurableStore implements DurableTaskStore {
  readonly #pool: Pool;
  readonly #names: TableNames;
  readonly #ready: () => Promise<void>;
  readonly #epoch: () => string;
  readonly #lockGraceMs: number;
  readonly #sql: ReturnType<typeof statements>;
  readonly #onCorrupt: ((bad: CorruptRecord) => void) | undefined;
  readonly sweepMs: number;

  /** Made by `PostgresTaskStore#durable`. */
  constructor(opts: {
    readonly pool: Pool;
    readonly names: TableNames;
    readonly ready: () => Promise<void>;
    readonly epoch: () => string;
    readonly lockGraceMs: number;
    readonly sweepMs: number;
    /** Hears of each row that cannot be read (skipped, never thrown). */
    readonly onCorrupt?: ((bad: CorruptRecord) => void) | undefined;
  }) {
    this.#onCorrupt = opts.onCorrupt;
    this.#pool = opts.pool;
    this.#names = opts.names;
    this.#ready = opts.ready;
    this.#epoch = opts.epoch;
    this.#lockGraceMs = opts.lockGraceMs;
    this.sweepMs = opts.sweepMs;
    this.#sql = statements(opts.names);
  }

  async create(row: DurableRow): Promise<DurableCreated> {
    await this.#ready();
    const values = encodeDurableRow(row);
    const res = await this.#pool.query(this.#sql.insert, [
      ...DURABLE_COLUMNS.map((c) => values[c]),
      this.#epoch(),
    ]);
    if (res.rowCount === 1) return { created: true };
    // A conflict on the key: the other insert has committed, so a new statement sees its row.
    const hit = await this.#pool.query<{ task_id: string }>(this.#sql.byKey, [
      row.thread_id,
      row.idempotency_key,
    ]);
    return { created: false, taskId: hit.rows[0]!.task_id };
  }

  async get(taskId: TaskId): Promise<DurableRow | undefined> {
    await this.#ready();
    const res = await this.#pool.query<Row>(this.#sql.get, [taskId]);
    return this.#decode(res.rows)[0];
  }

  /**
   * Validated rows; an unreadable one is left out and reported (`jsonb` errors back to text), or
   * only left out (`report` false: the sweep reads rows it already reported when it took them).
   */
  #decode(rows: readonly Row[], report = true): DurableRow[] {
    const stored = rows.map((r) => ({ ...r, errors: JSON.stringify(r.errors) }));
    return decodeDurableRows(stored, report ? this.#onCorrupt : () => undefined);
  }

  async claim(
    taskId: TaskId,
    afterAttempt: number,
    owner: string,
    nowMs: number,
  ): Promise<DurableRow | undefined> {
    await this.#ready();
    const res = await this.#pool.query<Row>(this.#sql.claim, [
      taskId,
      afterAttempt,
      owner,
      Math.floor(nowMs),
      this.#epoch(),
    ]);
    return this.#decode(res.rows)[0];
  }

  async release(
    taskId: TaskId,
    attempt: number,
    owner: string,
    error: string,
    nextRunAtMs: number | undefined,
  ): Promise<boolean> {
    await this.#ready();
    const res = await this.#pool.query(this.#sql.release, [
      taskId,
      attempt,
      owner,
      error,
      nextRunAtMs === undefined ? null : Math.floor(nextRunAtMs),
    ]);
    return res.rowCount === 1;
  }

  async finish(taskId: TaskId): Promise<void> {
    await this.#ready();
    await this.#pool.query(this.#sql.finish, [taskId]);
  }

  async pending(taskType: string): Promise<DurableRow[]> {
    await this.#ready();
    return this.#decode((await this.#pool.query<Row>(this.#sql.pending, [taskType])).rows);
  }

  async steps(taskId: TaskId): Promise<Record<string, Json>> {
    await this.#ready();
    const res = await this.#pool.query<{ name: string; value: string }>(this.#sql.steps, [taskId]);
    return decodeSteps(res.rows);
  }

  async setStep(
    taskId: TaskId,
    attempt: number,
    owner: string,
    name: string,
    value: Json,
    overwrite: boolean,
  ): Promise<{ value: Json } | undefined> {
    await this.#ready();
    const res = await this.#pool.query<{ value: string }>(this.#sql.setStep, [
      taskId,
      attempt,
      owner,
      name,
      JSON.stringify(value),
      overwrite,
    ]);
    const stored = res.rows[0];
    if (stored === undefined) return undefined;
    // Written: the value given; a step recorded before: the first value, as stored.
    return { value: overwrite ? value : (JSON.parse(stored.value) as Json) };
  }

  async remove(taskId: TaskId): Promise<void> {
    await this.#ready();
    await this.#pool.query(this.#sql.remove, [taskId]);
  }

  async stranded(taskType: string, limit: number): Promise<DurableRow[]> {
    await this.#ready();
    const res = await this.#pool.query<Row>(this.#sql.stranded, [taskType, this.#epoch(), limit]);
    return this.#decode(res.rows, false);
  }

  async adopt(
    taskType: string,
    backoff: BackoffNumbers,
    lostError: string,
    limit: number,
  ): Promise<DurableRow[]> {
    await this.#ready();
    // Owners PostgreSQL judges dead (lease expired, or lock gone past its grace) are revoked first,
    // and their plain tasks orphaned with them.
    await reapDead(this.#pool, this.#names, this.#lockGraceMs);
    const res = await this.#pool.query<Row>(this.#sql.adopt, [
      taskType,
      this.#epoch(),
      limit,
      lostError,
      backoff.initialIntervalMs,
      backoff.backoffCoefficient,
      backoff.maximumIntervalMs,
      backoff.jitter,
    ]);
    return this.#decode(res.rows);
  }
}
