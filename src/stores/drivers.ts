/**
 * The two drivers, loaded on first use through {@link loadDriver}. Internal: the store entry
 * points export {@link DriverError} only, so their declarations never import the drivers' types.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import { loadDriver } from './driverError.js';

/**
 * The `better-sqlite3` module, loaded on first use.
 *
 * @example
 * const Database = loadBetterSqlite3();
 * const db = new Database(':memory:');
 */
export function loadBetterSqlite3(entry = 'awaken-tasks/sqlite'): typeof BetterSqlite3 {
  return loadDriver<typeof BetterSqlite3>('better-sqlite3', entry);
}

/**
 * The `pg` module, loaded on first use.
 *
 * @example
 * const pool = new (loadPg().Pool)({ connectionString: process.env.DATABASE_URL });
 */
export function loadPg(entry = 'awaken-tasks/postgres'): typeof pg {
  return loadDriver<typeof pg>('pg', entry);
}
