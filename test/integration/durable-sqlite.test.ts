import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOST_ATTEMPT_ERROR } from '../../src/index.js';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import type { PersistedTaskMeta } from '../../src/wire/types.js';
import { buildDist, startChild } from '../fixtures/childProcess.js';

type Line =
  | { t: 'started'; id: string; attempt: number }
  | { t: 'spawned'; id: string }
  | { t: 'registered'; taken: number }
  | { t: 'done' };

let dist = '';
const dir = mkdtempSync(join(tmpdir(), 'awaken-durable-'));
beforeAll(() => {
  dist = buildDist('durable');
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let round = 0;
function files() {
  round++;
  return { DB_FILE: join(dir, `tasks-${round}.db`), LEDGER_FILE: join(dir, `ledger-${round}.db`) };
}

/** Runs one life of the child; `killWhen` sees each line and may SIGKILL it. */
async function life(env: Record<string, string>, killWhen?: (line: Line, lines: Line[]) => boolean) {
  const child = startChild('durable-child.mjs', { AWAKEN_DIST: dist, ...env }, (line) => {
    if (killWhen?.(line as Line, child.lines as Line[])) child.proc.kill('SIGKILL');
  });
  await child.closed;
  return { lines: child.lines as Line[], signal: child.proc.signalCode };
}

function ledgerOf(file: string): { task_id: string; attempt: number }[] {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare('SELECT task_id, attempt FROM ledger ORDER BY task_id, attempt').all() as {
    task_id: string;
    attempt: number;
  }[];
  db.close();
  return rows;
}

async function records(file: string): Promise<PersistedTaskMeta[]> {
  const store = new SqliteTaskStore(file, { readonly: true });
  const out = await store.load('d');
  await store.close();
  return out;
}

describe('durable tasks survive SIGKILL on SQLite (issue 21)', () => {
  it('SIGKILL mid-body: after a restart the task is retried and completes; each attempt started once', async () => {
    const f = files();
    const tasks = 5;
    const first = await life({ ...f, MODE: 'mid-body', SPAWN: '1', TASKS: String(tasks) }, (line, lines) => {
      return line.t === 'started' && lines.filter((l) => l.t === 'started').length === tasks;
    });
    expect(first.signal).toBe('SIGKILL');
    const mid = await records(f.DB_FILE);
    // Not orphaned: still `running` in the file, waiting for a process to take it up.
    expect(mid.map((r) => r.status)).toEqual(Array(tasks).fill('running'));
    const second = await life({ ...f, MODE: 'mid-body' });
    expect(second.lines.find((l) => l.t === 'registered')).toEqual({ t: 'registered', taken: tasks });
    expect(second.lines.at(-1)).toEqual({ t: 'done' });
    const done = await records(f.DB_FILE);
    for (const r of done) {
      expect(r.status).toBe('completed');
      expect(r.attempt).toBe(2);
      expect((r.result as { attempt: number }).attempt).toBe(2);
      expect(r.attempt_errors).toEqual([`attempt 1: ${LOST_ATTEMPT_ERROR}`]);
    }
    const ids = done.map((r) => r.task_id).sort();
    expect(ledgerOf(f.LEDGER_FILE)).toEqual(
      ids.flatMap((id) => [
        { task_id: id, attempt: 1 },
        { task_id: id, attempt: 2 },
      ]),
    );
  }, 60_000);

  it('SIGKILL after the body returned, before its completion was written: one more attempt, one outcome', async () => {
    const f = files();
    const first = await life({ ...f, MODE: 'after-return', SPAWN: '1', KILL_ON_TERMINAL: '1' });
    expect(first.signal).toBe('SIGKILL');
    expect(first.lines.filter((l) => l.t === 'started')).toHaveLength(1);
    const [mid] = await records(f.DB_FILE);
    expect(mid!.status).toBe('running');
    const second = await life({ ...f, MODE: 'after-return' });
    expect(second.lines.at(-1)).toEqual({ t: 'done' });
    const [r] = await records(f.DB_FILE);
    expect(r!.status).toBe('completed');
    expect(r!.result).toEqual({ n: 0, attempt: 2 });
    expect(ledgerOf(f.LEDGER_FILE)).toEqual([
      { task_id: r!.task_id, attempt: 1 },
      { task_id: r!.task_id, attempt: 2 },
    ]);
    // A third life finds nothing to do: the outcome stays as written.
    const third = await life({ ...f, MODE: 'after-return' });
    expect(third.lines.find((l) => l.t === 'registered')).toEqual({ t: 'registered', taken: 0 });
    expect((await records(f.DB_FILE))[0]).toEqual(r);
  }, 60_000);

  it('a poison task that kills its process every time ends failed after maximumAttempts, with each error', async () => {
    const f = files();
    const lives = [await life({ ...f, MODE: 'poison', SPAWN: '1', MAX_ATTEMPTS: '3' })];
    for (let i = 0; i < 5; i++) {
      const l = await life({ ...f, MODE: 'poison', MAX_ATTEMPTS: '3' });
      lives.push(l);
      if (l.signal !== 'SIGKILL') break;
    }
    // Three lives killed by attempts 1–3, then one that records attempt 3 as lost and ends it.
    expect(lives.map((l) => l.signal)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL', null]);
    const [r] = await records(f.DB_FILE);
    expect(r!.status).toBe('failed');
    const errors = [1, 2, 3].map((n) => `attempt ${n}: ${LOST_ATTEMPT_ERROR}`);
    expect(r!.attempt_errors).toEqual(errors);
    expect(r!.error).toBe(errors[2]);
    expect(r!.attempt).toBe(3);
    expect(ledgerOf(f.LEDGER_FILE).map((l) => l.attempt)).toEqual([1, 2, 3]);
  }, 60_000);
});
