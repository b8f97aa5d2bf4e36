import type { PoolClient } from 'pg';

/** The quoted names of a store's tables, all derived from the one `table` option. */
export interface TableNames {
  readonly tasks: string;
  readonly leases: string;
  readonly meta: string;
  readonly ownerIndex: string;
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
  };
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
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
