import type Database from 'better-sqlite3';
import { taskIdNumber } from '../../wire/convert.js';

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
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the file to {@link SCHEMA_VERSION} inside one write transaction, so two processes opening
 * a new file at once run each migration exactly once. Refuses a file from a newer version.
 */
export function migrate(db: Database.Database): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `task store schema version ${current} is newer than this awaken-tasks (${SCHEMA_VERSION})`,
      );
    }
    for (let v = current; v < SCHEMA_VERSION; v++) MIGRATIONS[v]!(db);
    if (current !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
