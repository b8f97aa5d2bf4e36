import {
  accessSync,
  closeSync,
  constants,
  openSync,
  readFileSync,
  readSync,
  type Stats,
  statSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { loadBetterSqlite3 } from '../drivers.js';
import { SqliteStoreError } from './errors.js';
import { APPLICATION_ID, SCHEMA_VERSION, judgeSchema } from './schema.js';

const MAGIC = 'SQLite format 3\0';
const HEADER_BYTES = 100;

/**
 * Whether `path` names SQLite's in-memory or temporary database rather than a file.
 *
 * @example
 * isMemoryPath(':memory:'); // true
 */
export function isMemoryPath(path: string): boolean {
  return path === '' || path === ':memory:';
}

/**
 * Checks a task file before anything opens it for writing, reading it through plain file reads
 * and an in-memory copy so that nothing is created or changed: not the file, not a `-wal` or
 * `-shm` beside it. Refuses a file from a newer schema, a database that is not ours, and (when
 * `write` is set) a file or folder this process may not write. A missing file passes when the
 * folder is writable (it will be created).
 *
 * @example
 * inspectFile('./tasks.db', true); // throws SqliteStoreError('newer_schema' | 'foreign_database' | 'read_only_file')
 */
export function inspectFile(path: string, write: boolean): void {
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch {
    if (write && !writable(dirname(path))) {
      throw new SqliteStoreError(
        'read_only_file',
        path,
        `cannot create ${path}: its folder is not writable by this process`,
      );
    }
    return;
  }
  if (!stat.isFile()) throw foreign(path, 'it is not a file');
  if (stat.size > 0) checkContents(path);
  if (write && !(writable(path) && writable(dirname(path)))) {
    throw new SqliteStoreError(
      'read_only_file',
      path,
      `cannot open ${path} for writing: the file or its folder is read-only for this process; ` +
        'open it with { readonly: true } to read it',
    );
  }
}

function checkContents(path: string): void {
  const header = Buffer.alloc(HEADER_BYTES);
  const fd = openSync(path, 'r');
  let got: number;
  try {
    got = readSync(fd, header, 0, HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  if (got < HEADER_BYTES || header.toString('latin1', 0, 16) !== MAGIC) {
    throw foreign(path, 'the file is not a database');
  }
  const version = header.readInt32BE(60);
  if (version > SCHEMA_VERSION) {
    throw new SqliteStoreError(
      'newer_schema',
      path,
      `cannot open ${path}: task store schema version ${version} is newer than this awaken-tasks (${SCHEMA_VERSION}); upgrade awaken-tasks`,
    );
  }
  const appId = header.readInt32BE(68);
  if (appId === APPLICATION_ID) return;
  if (appId !== 0) throw foreign(path, `its application_id is ${appId}`);
  // Unmarked: an older task file or someone else's. Read the schema from a private copy (marked
  // rollback-journal so SQLite does not look for a WAL); only happens until the file is marked.
  const copy = readFileSync(path);
  copy[18] = 1;
  copy[19] = 1;
  let db: Database.Database | undefined;
  let verdict: string;
  try {
    db = new (loadBetterSqlite3())(copy);
    verdict = judgeSchema(db);
  } catch (e) {
    throw foreign(path, `it cannot be read as SQLite (${e instanceof Error ? e.message : String(e)})`, e);
  } finally {
    db?.close();
  }
  if (verdict === 'foreign') throw foreign(path, 'it holds other tables and no awaken-tasks marker');
}

function foreign(path: string, why: string, cause?: unknown): SqliteStoreError {
  return new SqliteStoreError(
    'foreign_database',
    path,
    `cannot open ${path}: not an awaken-tasks database (${why}); it was left untouched`,
    cause === undefined ? undefined : { cause },
  );
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
