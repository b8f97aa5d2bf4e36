import type Database from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import type {
  DeadLetter,
  DeliveredMessage,
  DurableMessageRequest,
  OutboxEntry,
} from '../../wire/messaging.js';
import {
  type DispatchVerdict,
  type MessageOutboxStore,
  checkIds,
  checkThreadId,
  DELIVERED_RETENTION,
  dispatchLocally,
  deadLetterOf,
  entryOfLetter,
  letterFromStored,
  letterJson,
} from '../outbox.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS message_outbox (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id TEXT NOT NULL,
    id        TEXT NOT NULL,
    route     TEXT NOT NULL,
    attempts  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (thread_id, id)
  );
  CREATE TABLE IF NOT EXISTS message_dead_letters (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id  TEXT NOT NULL,
    message_id TEXT NOT NULL,
    request    TEXT NOT NULL,
    error      TEXT NOT NULL,
    UNIQUE (thread_id, message_id)
  );
  CREATE TABLE IF NOT EXISTS message_delivered (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id          TEXT NOT NULL UNIQUE,
    dispatch_id         TEXT NOT NULL,
    recipient_thread_id TEXT NOT NULL,
    request             TEXT NOT NULL,
    taken               INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS message_sent (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id TEXT NOT NULL,
    id        TEXT NOT NULL,
    UNIQUE (thread_id, id)
  );
  CREATE INDEX IF NOT EXISTS message_delivered_thread ON message_delivered (recipient_thread_id, taken);
`;

type EntryRow = { id: string; route: string; attempts: number };
type LetterRow = { request: string; error: string };
type DeliveredRow = { request: string; dispatch_id: string };

/**
 * The outbox, dead letters and reference mailbox in a SQLite file (the `messages` member of
 * `SqliteTaskStore`). Its three tables are created on first use; every method is one
 * transaction, durable when it resolves.
 *
 * @example
 * const outbox = new SqliteTaskStore('./tasks.db').messages;
 * await outbox.enqueue('thread-1', { id: 'm1', route: { Durable: req }, attempts: 0 });
 */
export class SqliteMessageOutbox implements MessageOutboxStore {
  readonly #open: () => Database.Database;
  readonly #claims = new Set<string>();
  #s: ReturnType<typeof prepare> | undefined;

  /**
   * Made by `SqliteTaskStore#messages`; `open` returns the store's better-sqlite3 handle (typed
   * opaquely here so that the published types never require the driver's type package).
   */
  constructor(open: () => object) {
    this.#open = open as () => Database.Database;
  }

  async enqueue(threadId: string, entry: OutboxEntry): Promise<boolean> {
    const s = this.#stmts(threadId);
    return s.insert.run(threadId, entry.id, JSON.stringify(entry.route), entry.attempts).changes > 0;
  }

  async pending(threadId: string): Promise<OutboxEntry[]> {
    return this.#read(threadId)?.pending.all(threadId).map(toEntry) ?? [];
  }

  async remove(threadId: string, id: string): Promise<boolean> {
    return this.#stmts(threadId).removeSent.immediate(threadId, id);
  }

  async wasDelivered(threadId: string, id: string): Promise<boolean> {
    return this.#read(threadId)?.wasSent(threadId, id) ?? false;
  }

  async retry(threadId: string, id: string): Promise<boolean> {
    return this.#stmts(threadId).retry.immediate(threadId, id);
  }

  async deadLetter(threadId: string, id: string, error: string): Promise<boolean> {
    return this.#stmts(threadId).deadLetter.immediate(threadId, id, String(error));
  }

  async deadLetters(threadId: string): Promise<DeadLetter[]> {
    return (this.#read(threadId)?.letters.all(threadId) ?? []).map((r) =>
      letterFromStored(JSON.parse(r.request), r.error),
    );
  }

  async deadLetterCount(threadId?: string): Promise<number> {
    const s = this.#read(threadId ?? '');
    if (s === undefined) return 0;
    return threadId === undefined ? s.countAll.get()!.n : s.countThread.get(threadId)!.n;
  }

  async replay(threadId: string, messageIds: readonly string[]): Promise<number> {
    checkIds(messageIds);
    return this.#stmts(threadId).replay.immediate(threadId, messageIds);
  }

  async clear(threadId: string, messageIds: readonly string[]): Promise<number> {
    checkIds(messageIds);
    return this.#stmts(threadId).clear.immediate(threadId, messageIds);
  }

  dispatch(threadId: string, deliver: (entry: OutboxEntry) => Promise<DispatchVerdict>): Promise<number> {
    const peek = (t: string, id: string) => {
      const row = this.#read(t)?.one.get(t, id);
      return row === undefined ? undefined : toEntry(row);
    };
    return dispatchLocally(this, this.#claims, peek, threadId, deliver);
  }

  async deliver(request: DurableMessageRequest): Promise<string> {
    const s = this.#stmts(request.recipient_thread_id);
    return s.deliver.immediate(request);
  }

  async takeDelivered(threadId: string): Promise<DeliveredMessage[]> {
    return this.#read(threadId)?.take.immediate(threadId).map(toDelivered) ?? [];
  }

  async delivered(threadId: string): Promise<DeliveredMessage[]> {
    return this.#read(threadId)?.delivered.all(threadId).map(toDelivered) ?? [];
  }

  /**
   * The statements for a read: `undefined` while the tables do not exist, so reading a file that
   * never held a message (possibly opened read-only) writes nothing.
   */
  #read(threadId: string): ReturnType<typeof prepare> | undefined {
    const db = this.#open();
    checkThreadId(threadId);
    if (this.#s === undefined && !hasTable(db, 'message_delivered')) return undefined;
    return this.#stmts(threadId);
  }

  #stmts(threadId: string): ReturnType<typeof prepare> {
    const db = this.#open();
    checkThreadId(threadId);
    this.#s ??= prepare(db);
    return this.#s;
  }
}

function toEntry(r: EntryRow): OutboxEntry {
  return { id: r.id, route: JSON.parse(r.route) as OutboxEntry['route'], attempts: r.attempts };
}

function toDelivered(r: DeliveredRow): DeliveredMessage {
  return { ...(JSON.parse(r.request) as DurableMessageRequest), dispatch_id: r.dispatch_id };
}

/** Whether `table` exists in `db`. */
function hasTable(db: Database.Database, table: string): boolean {
  return (
    db
      .prepare<[string], { n: number }>(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?",
      )
      .get(table)?.n === 1
  );
}

/**
 * The statements of `message_sent`, which came after the other message tables: a file written
 * before it and opened read-only lacks it until its owner creates it, and reads it as empty until
 * then (`undefined` here, asked again on the next read).
 */
function sentStatements(db: Database.Database) {
  let made:
    | {
        get: Database.Statement<[string, string], { one: number }>;
        insert: Database.Statement<[string, string]>;
        prune: Database.Statement<[number]>;
      }
    | undefined;
  return () => {
    if (made === undefined && hasTable(db, 'message_sent')) {
      made = {
        get: db.prepare('SELECT 1 AS one FROM message_sent WHERE thread_id = ? AND id = ?'),
        insert: db.prepare('INSERT OR REPLACE INTO message_sent (thread_id, id) VALUES (?, ?)'),
        prune: db.prepare('DELETE FROM message_sent WHERE seq <= (SELECT max(seq) FROM message_sent) - ?'),
      };
    }
    return made;
  };
}

function prepare(db: Database.Database) {
  // A read-only handle creates nothing (its reads come here only once `message_delivered` exists).
  if (!db.readonly) db.exec(SCHEMA);
  const insert = db.prepare<[string, string, string, number]>(
    'INSERT INTO message_outbox (thread_id, id, route, attempts) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const one = db.prepare<[string, string], EntryRow>(
    'SELECT id, route, attempts FROM message_outbox WHERE thread_id = ? AND id = ?',
  );
  const remove = db.prepare<[string, string]>('DELETE FROM message_outbox WHERE thread_id = ? AND id = ?');
  const letter = db.prepare<[string, string, string, string]>(
    `INSERT INTO message_dead_letters (thread_id, message_id, request, error) VALUES (?, ?, ?, ?)
     ON CONFLICT (thread_id, message_id) DO UPDATE SET request = excluded.request, error = excluded.error`,
  );
  const letterRows = db.prepare<[string], LetterRow & { message_id: string }>(
    'SELECT message_id, request, error FROM message_dead_letters WHERE thread_id = ? ORDER BY seq',
  );
  const dropLetter = db.prepare<[string, string]>(
    'DELETE FROM message_dead_letters WHERE thread_id = ? AND message_id = ?',
  );
  const findDelivered = db.prepare<[string], { dispatch_id: string }>(
    'SELECT dispatch_id FROM message_delivered WHERE message_id = ?',
  );
  const addDelivered = db.prepare<[string, string, string, string]>(
    `INSERT INTO message_delivered (message_id, dispatch_id, recipient_thread_id, request) VALUES (?, ?, ?, ?)
     ON CONFLICT (message_id) DO NOTHING`,
  );
  const untaken = db.prepare<[string], DeliveredRow & { seq: number }>(
    'SELECT seq, request, dispatch_id FROM message_delivered WHERE recipient_thread_id = ? AND taken = 0 ORDER BY seq',
  );
  const markTaken = db.prepare<[number]>('UPDATE message_delivered SET taken = 1 WHERE seq = ?');
  const sent = sentStatements(db);
  return {
    insert,
    one,
    remove,
    wasSent: (threadId: string, id: string): boolean => sent()?.get.get(threadId, id) !== undefined,
    removeSent: db.transaction((threadId: string, id: string): boolean => {
      if (remove.run(threadId, id).changes === 0) return false;
      // A writable handle made the table with the others (SCHEMA above).
      const s = sent()!;
      s.insert.run(threadId, id);
      s.prune.run(DELIVERED_RETENTION);
      return true;
    }),
    pending: db.prepare<[string], EntryRow>(
      'SELECT id, route, attempts FROM message_outbox WHERE thread_id = ? ORDER BY seq',
    ),
    retry: db.transaction((threadId: string, id: string): boolean => {
      const row = one.get(threadId, id);
      if (row === undefined) return false;
      remove.run(threadId, id);
      insert.run(threadId, id, row.route, row.attempts + 1);
      return true;
    }),
    deadLetter: db.transaction((threadId: string, id: string, error: string): boolean => {
      const row = one.get(threadId, id);
      if (row === undefined) return false;
      remove.run(threadId, id);
      const dead = deadLetterOf(toEntry(row), error);
      letter.run(threadId, dead.request.message_id, letterJson(dead), error);
      return true;
    }),
    letters: letterRows,
    countAll: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM message_dead_letters'),
    countThread: db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM message_dead_letters WHERE thread_id = ?',
    ),
    replay: db.transaction((threadId: string, ids: readonly string[]): number => {
      const wanted = new Set(ids);
      let moved = 0;
      for (const r of letterRows.all(threadId)) {
        if (!wanted.has(r.message_id)) continue;
        dropLetter.run(threadId, r.message_id);
        const entry = entryOfLetter(letterFromStored(JSON.parse(r.request), r.error));
        insert.run(threadId, r.message_id, JSON.stringify(entry.route), 0);
        moved++;
      }
      return moved;
    }),
    clear: db.transaction((threadId: string, ids: readonly string[]): number => {
      let n = 0;
      for (const id of new Set(ids)) n += dropLetter.run(threadId, id).changes;
      return n;
    }),
    deliver: db.transaction((request: DurableMessageRequest): string => {
      const dispatchId = uuidv7();
      addDelivered.run(request.message_id, dispatchId, request.recipient_thread_id, JSON.stringify(request));
      return findDelivered.get(request.message_id)!.dispatch_id;
    }),
    take: db.transaction((threadId: string): DeliveredRow[] => {
      const rows = untaken.all(threadId);
      for (const r of rows) markTaken.run(r.seq);
      return rows;
    }),
    delivered: db.prepare<[string], DeliveredRow>(
      'SELECT request, dispatch_id FROM message_delivered WHERE recipient_thread_id = ? ORDER BY seq',
    ),
  };
}
