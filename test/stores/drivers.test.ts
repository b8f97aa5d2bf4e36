import { describe, expect, it } from 'vitest';
import { DriverError as PgDriverError } from '../../src/stores/postgres/index.js';
import { DriverError, loadDriver } from '../../src/stores/driverError.js';
import { loadBetterSqlite3, loadPg } from '../../src/stores/drivers.js';
import { DriverError as SqliteDriverError } from '../../src/stores/sqlite/index.js';

const notFound = (id: string): Error =>
  Object.assign(new Error(`Cannot find module '${id}'\nRequire stack:\n- /app/x.js`), {
    code: 'MODULE_NOT_FOUND',
  });

describe('optional database drivers', () => {
  it('a missing driver is a DriverError naming the package and the install command', () => {
    const load = (id: string): unknown => {
      throw notFound(id);
    };
    let caught: unknown;
    try {
      loadDriver('better-sqlite3', 'awaken-tasks/sqlite', load);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(DriverError);
    const e = caught as DriverError;
    expect(e.name).toBe('DriverError');
    expect(e.code).toBe('driver_missing');
    expect(e.driver).toBe('better-sqlite3');
    expect(e.message).toBe(
      'awaken-tasks/sqlite needs the package `better-sqlite3`, which is not installed: run `npm install better-sqlite3`',
    );
    expect((e.cause as Error).message).toMatch(/Cannot find module/);
  });

  it('a driver that is installed but fails to load (e.g. a native addon for another Node) says how to rebuild', () => {
    const load = (): unknown => {
      throw new Error('The module was compiled against a different Node.js version\nmore');
    };
    expect(() => loadDriver('better-sqlite3', 'awaken-tasks/sqlite', load)).toThrow(
      expect.objectContaining({
        code: 'driver_failed',
        message:
          'awaken-tasks/sqlite could not load `better-sqlite3` (The module was compiled against a different Node.js version): reinstall it for this Node version with `npm rebuild better-sqlite3`',
      }),
    );
  });

  it('a missing dependency of the driver (not the driver itself) is not reported as the driver missing', () => {
    const load = (): unknown => {
      throw notFound('pg-pool');
    };
    expect(() => loadDriver('pg', 'awaken-tasks/postgres', load)).toThrow(
      expect.objectContaining({ code: 'driver_failed', driver: 'pg' }),
    );
  });

  it('installed drivers load, once, and the store entry points export the same error class', () => {
    expect(typeof loadBetterSqlite3()).toBe('function');
    expect(loadBetterSqlite3()).toBe(loadBetterSqlite3());
    expect(typeof loadPg().Pool).toBe('function');
    expect(SqliteDriverError).toBe(DriverError);
    expect(PgDriverError).toBe(DriverError);
  });
});
