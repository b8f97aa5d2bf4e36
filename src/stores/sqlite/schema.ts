import type Database from 'better-sqlite3';
import { taskIdNumber } from '../../wire/convert.js';

/**
 * `PRAGMA application_id` of a task file: the marker that a database is ours ('awkt'). Files
 * written before the marker existed are recognised by their `tasks` table instead.
 *
 * @example
 * db.pragma('application_id', { simple: true }) === APPLICATION_ID; // a task file
 */
export const APPLICATION_ID = 0x61776b74;

/** The columns of the `tasks` table, every version. */
const TASK_COLUMNS = ['task_id', 'owner_thread_id', 'status', 'record'] as const;

/**
 * Schema migrations, applied in order; `PRAGMA user_version` holds how many have run. Append only:
 * a file written by an older version is brought forward, never rewritten from scratch.
 */
const MIGRATIONS: readonly ((db: Database.Database) => void)[] = [
  (db) => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS tasks (
        task_id         TEXT PRIMARY KEY,
        owner_thread_id TEXT NOT NULL,
        status          TEXT NOT NULL,
        record          TEXT NOT NULL,
        writer          TEXT
      );
      CREATE INDEX IF NOT EXISTS tasks_owner_thread ON tasks (owner_thread_id);
      CREATE TABLE IF NOT EXISTS counters (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      );
    `);
    // A file may already hold records (copied in by hand, an older tool): start past them.
    let next = 0;
    for (const row of db.prepare('SELECT task_id FROM tasks').iterate() as Iterable<{ task_id: string }>) {
      const n = taskIdNumber(row.task_id);
      if (n !== undefined && n >= next) next = n + 1;
    }
    db.prepare("INSERT OR IGNORE INTO counters (name, value) VALUES ('next_id', ?)").run(next);
  },
  // The process that owns the file (holds its `-owner` lock) describes itself here for others.
  (db) => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS owner (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        instance_id TEXT NOT NULL,
        pid         INTEGER NOT NULL,
        host        TEXT NOT NULL,
        since_ms    INTEGER NOT NULL
      );
    `);
  },
];

/**
 * The schema version this code writes.
 *
 * @example
 * db.pragma('user_version', { simple: true }) === SCHEMA_VERSION; // up to date
 */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** What a file's schema says about whose it is. */
export type SchemaVerdict = 'ours' | 'empty' | 'foreign';

/**
 * Whether a database with this `application_id` and these tables is a task file: marked as ours,
 * or unmarked with a `tasks` table of our shape, or empty. Anything else belongs to someone else.
 *
 * @example
 * judgeSchema(new Database(':memory:')); // 'empty'
 */
export function judgeSchema(db: Database.Database): SchemaVerdict {
  const appId = db.pragma('application_id', { simple: true }) as number;
  if (appId === APPLICATION_ID) return 'ours';
  if (appId !== 0) return 'foreign';
  const tables = db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .all()
    .map((t) => t.name);
  if (tables.length === 0) return 'empty';
  if (!tables.includes('tasks')) return 'foreign';
  const columns = new Set(
    db
      .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('tasks')")
      .all()
      .map((c) => c.name),
  );
  return TASK_COLUMNS.every((c) => columns.has(c)) ? 'ours' : 'foreign';
}

/**
 * Thrown by {@link migrate} for a file it must not touch; the caller turns it into a user error.
 *
 * @example
 * new SchemaRefusal('newer', 999).message; // 'task store schema version 999 is newer than …'
 */
export class SchemaRefusal extends Error {
  readonly kind: 'newer' | 'foreign';
  readonly version: number;
  constructor(kind: 'newer' | 'foreign', version: number) {
    super(
      kind === 'newer'
        ? `task store schema version ${version} is newer than this awaken-tasks (${SCHEMA_VERSION})`
        : 'not an awaken-tasks database (it holds other tables and no awaken-tasks marker)',
    );
    this.kind = kind;
    this.version = version;
  }
}

/**
 * Brings the file to {@link SCHEMA_VERSION} inside one write transaction, so two processes opening
 * a new file at once run each migration exactly once. Refuses, before writing anything, a file
 * from a newer version or one that is not ours.
 *
 * @example
 * migrate(new Database('./tasks.db')); // user_version = SCHEMA_VERSION afterwards
 */
export function migrate(db: Database.Database): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) throw new SchemaRefusal('newer', current);
    if (judgeSchema(db) === 'foreign') throw new SchemaRefusal('foreign', current);
    for (let v = current; v < SCHEMA_VERSION; v++) MIGRATIONS[v]!(db);
    if (current !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
    if (db.pragma('application_id', { simple: true }) !== APPLICATION_ID)
      db.pragma(`application_id = ${APPLICATION_ID}`);
  }).immediate();
}
