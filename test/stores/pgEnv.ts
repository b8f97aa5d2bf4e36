import pg from 'pg';
import { afterAll, it } from 'vitest';
import { PostgresTaskStore, type PostgresTaskStoreOptions } from '../../src/stores/postgres/index.js';
import { until as untilCondition } from '../helpers/async.js';

/**
 * The PostgreSQL server the tests use. In CI (`CI` set) it must be configured — `.ci/run` starts
 * one and exports DATABASE_URL — and a missing one fails the suite; locally the PostgreSQL tests
 * are skipped with the reason printed.
 */
export const pgUrl: string | undefined = process.env.DATABASE_URL || undefined;

/** Adds the test that fails in CI without a server, and prints why the others skip locally. */
export function requirePostgres(file: string): void {
  if (pgUrl === undefined && !process.env.CI) {
    console.warn(
      `${file}: PostgreSQL tests skipped: DATABASE_URL is not set. ` +
        'Run `source .ci/postgres.sh && start_postgres` (Debian postgresql package) to run them.',
    );
  }
  it.runIf(Boolean(process.env.CI))('CI has a PostgreSQL server (DATABASE_URL)', () => {
    if (pgUrl === undefined) throw new Error('DATABASE_URL is not set in CI: .ci/run must start PostgreSQL');
  });
}

/** A table name no other test file (or run) uses, so files can run in parallel. */
export function uniqueTable(prefix: string): string {
  return `t_${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
}

/** Drops a store's tables (its messaging tables too) and its lock-id sequence. */
export async function dropTables(pool: pg.Pool, table: string): Promise<void> {
  const tables = [
    '',
    '_leases',
    '_meta',
    '_epochs',
    '_events',
    '_control',
    '_receivers',
    '_runs',
    '_durable',
    '_durable_steps',
    '_slots',
  ];
  await pool.query(`DROP TABLE IF EXISTS ${tables.map((s) => `"${table}${s}"`).join(', ')}`);
  await pool.query(
    `DROP TABLE IF EXISTS "${table}_outbox", "${table}_dead_letters", "${table}_delivered", "${table}_sent"`,
  );
  await pool.query(`DROP SEQUENCE IF EXISTS "${table}_lock_ids"`);
}

/** Polls `cond` every 20 ms (database round trips) until it holds; rejects after `timeoutMs`. */
export const until = (
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> => untilCondition(cond, timeoutMs, what, 20);

/** A test file's (or describe block's) connection to the shared server; see {@link pgSuite}. */
export interface PgSuite {
  /** A pool of its own on `DATABASE_URL`, ended after all. */
  readonly pool: pg.Pool;
  /** A new {@link uniqueTable} of `prefix`, dropped (with {@link dropTables}) after all. */
  table(prefix: string): string;
  /**
   * A store on `table` at `DATABASE_URL` polling every 100 ms (`options` override), closed after
   * all, before the tables are dropped.
   */
  store(table: string, options?: Omit<PostgresTaskStoreOptions, 'table'>): PostgresTaskStore;
  /** Closes `store` after all with the others (for a store made another way). */
  track<S extends PostgresTaskStore>(store: S): S;
}

/**
 * Call inside a `describe.skipIf(!pgUrl)` block: its pool, and the tables and stores its tests
 * make, cleaned up after all (stores closed, then tables dropped, then the pool ended). The pool
 * connects only when first used, so a skipped block never does. An `afterAll` the block registers
 * after this call runs before that cleanup (after-hooks run last registered first).
 */
export function pgSuite(poolOptions: Omit<pg.PoolConfig, 'connectionString'> = {}): PgSuite {
  const pool = new pg.Pool({ connectionString: pgUrl, ...poolOptions });
  const tables: string[] = [];
  const stores: PostgresTaskStore[] = [];
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    for (const t of tables) await dropTables(pool, t);
    await pool.end();
  });
  const track = <S extends PostgresTaskStore>(store: S): S => {
    stores.push(store);
    return store;
  };
  return {
    pool,
    table: (prefix) => {
      const t = uniqueTable(prefix);
      tables.push(t);
      return t;
    },
    store: (table, options = {}) =>
      track(new PostgresTaskStore({ connectionString: pgUrl!, table, pollMs: 100, ...options })),
    track,
  };
}

/** The stored status of task `id` in `table` (`undefined`: no row). */
export async function storedStatus(pool: pg.Pool, table: string, id: string): Promise<string | undefined> {
  return (await pool.query<{ status: string }>(`SELECT status FROM "${table}" WHERE task_id = $1`, [id]))
    .rows[0]?.status;
}

/** The state of task `id`'s durable row in `table` (`undefined`: no row). */
export async function durableState(pool: pg.Pool, table: string, id: string): Promise<string | undefined> {
  return (
    await pool.query<{ state: string }>(`SELECT state FROM "${table}_durable" WHERE task_id = $1`, [id])
  ).rows[0]?.state;
}
