import { realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type Database from 'better-sqlite3';
import { loadBetterSqlite3 } from '../drivers.js';
import { type SqliteFileOwner, SqliteStoreError } from './errors.js';

type OwnerRow = { instance_id: string; pid: number; host: string; since_ms: number };

/**
 * The lock that makes one process the owner of a task file: an exclusive SQLite lock held, for
 * as long as the store is open, on an empty sidecar file `<file>-owner`. The operating system
 * drops it when the process exits in any way (SIGKILL included), so a dead owner never blocks
 * the next one; a stopped (SIGSTOP) or busy owner still holds it. The sidecar is never deleted:
 * removing a lock file while another process waits on it would let two processes own the file.
 *
 * @example
 * const lock = OwnerLock.acquire('./tasks.db'); // or SqliteStoreError('owned_elsewhere')
 * lock.release();
 */
export class OwnerLock {
  readonly #db: Database.Database;

  private constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Takes the lock of `path` at once, or throws `owned_elsewhere` naming the live owner. */
  static acquire(path: string): OwnerLock {
    const db = new (loadBetterSqlite3())(`${canonical(path)}-owner`, { timeout: 0 });
    try {
      db.exec('BEGIN EXCLUSIVE');
    } catch (e) {
      db.close();
      if ((e as { code?: unknown }).code !== 'SQLITE_BUSY') throw e;
      const owner = readOwner(path);
      const who =
        owner === undefined
          ? 'another live process'
          : `process ${owner.pid} on ${owner.host} (instance ${owner.instanceId}, since ${new Date(owner.sinceMs).toISOString()})`;
      throw new SqliteStoreError(
        'owned_elsewhere',
        path,
        `cannot open ${path}: it is owned by ${who}; one process writes a task file at a time ` +
          '(open it with { readonly: true } to read it while the owner runs)',
        owner === undefined ? { cause: e } : { cause: e, owner },
      );
    }
    return new OwnerLock(db);
  }

  /** Records this process as the owner in the task file, for the error others get. */
  static claim(db: Database.Database, instanceId: string, now: number): void {
    db.prepare(
      'INSERT OR REPLACE INTO owner (id, instance_id, pid, host, since_ms) VALUES (1, ?, ?, ?, ?)',
    ).run(instanceId, process.pid, hostname(), now);
  }

  /** Gives the file up. Idempotent. */
  release(): void {
    if (!this.#db.open) return;
    try {
      this.#db.exec('ROLLBACK');
    } finally {
      this.#db.close();
    }
  }
}

/**
 * The file's real path, so that two names for one file (a relative path, a symlink) share one
 * lock. The file itself may not exist yet; its folder does.
 */
function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return join(realpathSync(dirname(path)), basename(path));
  }
}

/** The owner row of a file another process holds, or `undefined` when it cannot be read. */
function readOwner(path: string): SqliteFileOwner | undefined {
  let db: Database.Database | undefined;
  try {
    db = new (loadBetterSqlite3())(path, { readonly: true, fileMustExist: true, timeout: 1000 });
    const row = db
      .prepare<[], OwnerRow>('SELECT instance_id, pid, host, since_ms FROM owner WHERE id = 1')
      .get();
    return row && { instanceId: row.instance_id, pid: row.pid, host: row.host, sinceMs: row.since_ms };
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}
