import type { PoolClient } from 'pg';
import { rollback } from './checkout.js';

/** The quoted names of a store's tables, all derived from the one `table` option. */
export interface TableNames {
  readonly tasks: string;
  readonly leases: string;
  readonly meta: string;
  readonly ownerIndex: string;
  /** One row per live process start (owner epoch): its lease, its advisory-lock id. */
  readonly epochs: string;
  /** Task events kept until a receiver takes them, per thread in order. */
  readonly events: string;
  /** Cancel and message requests waiting for the replica that owns the task. */
  readonly control: string;
  /** Which replica (epoch) receives each thread's events. */
  readonly receivers: string;
  /** Runs that spawned root tasks, and whether they were cancelled (the late-spawn fence). */
  readonly runs: string;
  /** Durable tasks' rows: input, attempt, next run time, claimant (owner epoch), attempt errors. */
  readonly durable: string;
  /** Durable tasks' recorded steps and checkpoints, by task and name. */
  readonly durableSteps: string;
  /** The `LISTEN`/`NOTIFY` channel of this table. */
  readonly channel: string;
  /** The first key of this table's session advisory locks (the second is the epoch's `lock_id`). */
  readonly lockClass: number;
  /** The advisory-lock key text: one per table, so stores on different tables never wait on each other. */
  readonly lockKey: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/**
 * The names for `table` (default `awaken_tasks`). Only plain identifiers are accepted, because the
 * names are spliced into SQL (quoted, so case is kept) and cannot be bound as parameters.
 */
export function tableNames(table: string): TableNames {
  if (!IDENTIFIER.test(table)) {
    throw new TypeError(
      `Expected \`table\` to be a plain SQL identifier (letters, digits, _), got ${JSON.stringify(table)}`,
    );
  }
  const q = (s: string) => `"${s}"`;
  return {
    tasks: q(table),
    leases: q(`${table}_leases`),
    meta: q(`${table}_meta`),
    ownerIndex: q(`${table}_owner_seq`),
    lockKey: `awaken-tasks:${table}`,
    epochs: q(`${table}_epochs`),
    events: q(`${table}_events`),
    control: q(`${table}_control`),
    receivers: q(`${table}_receivers`),
    runs: q(`${table}_runs`),
    durable: q(`${table}_durable`),
    durableSteps: q(`${table}_durable_steps`),
    channel: `awaken-tasks:${table}`,
    lockClass: classKey(table),
  };
}

/** A stable positive 31-bit key for `table` (FNV-1a), the class of its advisory locks. */
function classKey(table: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < table.length; i++) h = Math.imul(h ^ table.charCodeAt(i), 0x01000193);
  return (h >>> 1) & 0x7fffffff;
}

/** Migrations, applied in order; the `schema_version` row of the meta table counts how many ran. */
const MIGRATIONS: readonly ((n: TableNames) => string)[] = [
  (n) => `
    CREATE TABLE IF NOT EXISTS ${n.tasks} (
      task_id         text PRIMARY KEY,
      owner_thread_id text NOT NULL,
      status          text NOT NULL,
      record          text NOT NULL,
      writer          text NOT NULL,
      seq             bigint GENERATED ALWAYS AS IDENTITY
    );
    CREATE INDEX IF NOT EXISTS ${n.ownerIndex} ON ${n.tasks} (owner_thread_id, seq);
    CREATE TABLE IF NOT EXISTS ${n.leases} (
      instance_id text PRIMARY KEY,
      expires_at  timestamptz NOT NULL
    );
    INSERT INTO ${n.meta} (name, value)
      SELECT 'next_id', coalesce(max(substr(task_id, 4)::bigint) + 1, 0) FROM ${n.tasks}
      WHERE task_id ~ '^bg_[0-9]{1,15}$'
    ON CONFLICT (name) DO NOTHING;`,
  // Replicas: fenced ownership by epoch, running names unique per thread, durable events and
  // control requests, the cancelled-run fence.
  (n) => `
    ALTER TABLE ${n.tasks} ADD COLUMN IF NOT EXISTS owner_epoch text,
      ADD COLUMN IF NOT EXISTS name text,
      ADD COLUMN IF NOT EXISTS parent_task_id text,
      ADD COLUMN IF NOT EXISTS run_id text,
      ADD COLUMN IF NOT EXISTS orphaned_at_ms bigint;
    CREATE UNIQUE INDEX IF NOT EXISTS "${n.tasks.slice(1, -1)}_running_name" ON ${n.tasks} (owner_thread_id, name)
      WHERE status = 'running' AND name IS NOT NULL;
    CREATE INDEX IF NOT EXISTS "${n.tasks.slice(1, -1)}_parent" ON ${n.tasks} (parent_task_id) WHERE parent_task_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS "${n.tasks.slice(1, -1)}_running_epoch" ON ${n.tasks} (owner_epoch) WHERE status = 'running';
    CREATE TABLE IF NOT EXISTS ${n.epochs} (
      epoch       text PRIMARY KEY,
      instance_id text NOT NULL,
      lock_id     integer,
      expires_at  timestamptz NOT NULL
    );
    CREATE SEQUENCE IF NOT EXISTS "${n.tasks.slice(1, -1)}_lock_ids" AS integer MINVALUE 1 CYCLE;
    CREATE TABLE IF NOT EXISTS ${n.events} (
      seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      thread_id text NOT NULL,
      task_id   text NOT NULL,
      body      text NOT NULL,
      taken_by  text
    );
    CREATE INDEX IF NOT EXISTS "${n.tasks.slice(1, -1)}_events_thread" ON ${n.events} (thread_id, seq);
    CREATE TABLE IF NOT EXISTS ${n.control} (
      seq    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      epoch  text NOT NULL,
      task_id text NOT NULL,
      kind   text NOT NULL,
      body   text
    );
    CREATE INDEX IF NOT EXISTS "${n.tasks.slice(1, -1)}_control_epoch" ON ${n.control} (epoch, seq);
    CREATE TABLE IF NOT EXISTS ${n.receivers} (thread_id text PRIMARY KEY, epoch text NOT NULL, claim text NOT NULL);
    CREATE TABLE IF NOT EXISTS ${n.runs} (run_id text PRIMARY KEY, cancelled boolean NOT NULL DEFAULT false);`,
  // When another replica first saw an epoch's advisory lock gone: its owner's grace to reconnect.
  (n) => `ALTER TABLE ${n.epochs} ADD COLUMN IF NOT EXISTS lock_lost_at timestamptz;`,
  // Durable tasks: one row per task (the idempotency key unique per thread), its steps beside it.
  (n) => `
    CREATE TABLE IF NOT EXISTS ${n.durable} (
      seq             bigint GENERATED ALWAYS AS IDENTITY,
      task_id         text PRIMARY KEY,
      thread_id       text NOT NULL,
      task_type       text NOT NULL,
      idempotency_key text,
      state           text NOT NULL,
      attempt         integer NOT NULL,
      max_attempts    integer NOT NULL,
      next_run_at_ms  bigint NOT NULL,
      owner           text,
      owner_epoch     text,
      record          text NOT NULL,
      input           text NOT NULL,
      errors          jsonb NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS "${n.durable.slice(1, -1)}_key" ON ${n.durable} (thread_id, idempotency_key)
      WHERE idempotency_key IS NOT NULL;
    CREATE INDEX IF NOT EXISTS "${n.durable.slice(1, -1)}_pending" ON ${n.durable} (task_type, seq)
      WHERE state <> 'done';
    CREATE TABLE IF NOT EXISTS ${n.durableSteps} (
      task_id text NOT NULL,
      name    text NOT NULL,
      value   text NOT NULL,
      PRIMARY KEY (task_id, name)
    );`,
  // Custom events keyed once at append, and each epoch's highest stored order: a retried batch
  // whose first attempt committed unheard is recognised, not stored twice.
  (n) => `
    ALTER TABLE ${n.events} ADD COLUMN IF NOT EXISTS event_key text;
    CREATE UNIQUE INDEX IF NOT EXISTS "${n.tasks.slice(1, -1)}_events_key" ON ${n.events} (event_key);
    ALTER TABLE ${n.epochs} ADD COLUMN IF NOT EXISTS event_key bigint;`,
  // Each epoch's highest recorded control request: a retried request whose first attempt
  // committed unheard is recognised, not recorded twice.
  (n) => `ALTER TABLE ${n.epochs} ADD COLUMN IF NOT EXISTS control_key bigint;`,
];

/**
 * Creates or migrates the tables. Holds a transaction-scoped advisory lock on the table name, so two
 * processes starting at once do not race on `CREATE TABLE` (which is not safe concurrently even
 * with `IF NOT EXISTS`); the loser waits, then finds the schema current.
 */
export async function migrate(client: PoolClient, n: TableNames): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [n.lockKey]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${n.meta} (name text PRIMARY KEY, value bigint NOT NULL)`);
    const res = await client.query<{ value: string }>(
      `SELECT value FROM ${n.meta} WHERE name = 'schema_version'`,
    );
    const current = Number(res.rows[0]?.value ?? 0);
    if (current > MIGRATIONS.length) {
      throw new Error(
        `task store schema version ${current} is newer than this awaken-tasks (${MIGRATIONS.length})`,
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) await client.query(MIGRATIONS[v]!(n));
    await client.query(
      `INSERT INTO ${n.meta} (name, value) VALUES ('schema_version', $1)
       ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
      [MIGRATIONS.length],
    );
    await client.query('COMMIT');
  } catch (e) {
    await rollback(client);
    throw e;
  }
}
