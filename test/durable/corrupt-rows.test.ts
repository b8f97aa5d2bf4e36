import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type CorruptRecord, createTaskSupervisor, defineTask, type TaskStore } from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import { dropTables, pgUrl, requirePostgres, uniqueTable } from '../stores/pgEnv.js';

requirePostgres('test/durable/corrupt-rows.test.ts');

const dir = mkdtempSync(join(tmpdir(), 'awaken-durable-corrupt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const job = defineTask<{ n: number }, Record<never, never>, { n: number }>({
  taskType: 'job',
  durable: { retry: { initialIntervalMs: 1, jitter: 0 } },
  run: async (_ctx, input) => ({ n: input.n }),
});

/** One column change per task that makes its stored durable row unreadable, and the reason's mark. */
const DAMAGE: ReadonlyArray<{ readonly set: (id: string) => string; readonly reason: RegExp }> = [
  { set: () => `record = '{"task_id": oops'`, reason: /^durable row: record: invalid JSON/ },
  {
    set: (id) => `record = '{"task_id":"${id}","task_type":"job","status":"running","created_at_ms":1}'`,
    reason: /^durable row: record: .*`description`/,
  },
  {
    set: () => `record = replace(record, '"bg_', '"zz_')`,
    reason: /^durable row: record: record holds task_id/,
  },
  { set: () => `state = 'paused'`, reason: /^durable row: unknown state "paused"/ },
  { set: () => `input = '{"n":'`, reason: /^durable row: input: invalid JSON/ },
];

/**
 * Spawns `DAMAGE.length + 2` durable tasks due in an hour, stops; `damage` then breaks one row per
 * `DAMAGE` entry and makes every row due; a new supervisor's `register` must take up the two good
 * tasks (they complete) and report each bad row once through the store's `onCorrupt`.
 */
async function plantAndRecover(
  open: (onCorrupt?: (bad: CorruptRecord) => void) => TaskStore & { close(): Promise<void> },
  damage: (ids: readonly string[]) => Promise<void>,
): Promise<void> {
  const first = open();
  const sup1 = createTaskSupervisor({ store: first });
  const ids: string[] = [];
  for (let n = 0; n < DAMAGE.length + 2; n++) {
    ids.push(await job.spawn(sup1, { threadId: 't', description: `j${n}`, startAfterMs: 3_600_000 }, { n }));
  }
  await sup1.stop();
  await first.close();
  await damage(ids);

  const seen: CorruptRecord[] = [];
  const second = open((bad) => seen.push(bad));
  const sup2 = createTaskSupervisor({ store: second });
  try {
    expect(await sup2.register(job)).toBe(2);
    const good = ids.slice(DAMAGE.length);
    for (const [i, id] of good.entries()) {
      const s = await sup2.wait(id);
      expect(s.status).toBe('completed');
      expect(s.result).toEqual({ n: DAMAGE.length + i });
    }
    expect(seen.map((b) => b.task_id).sort()).toEqual(ids.slice(0, DAMAGE.length).sort());
    for (const [i, d] of DAMAGE.entries()) {
      expect(seen.find((b) => b.task_id === ids[i])!.reason).toMatch(d.reason);
    }
  } finally {
    await sup2.stop();
    await second.close();
  }
}

describe('durable rows the store cannot read are skipped and reported; the others are taken up', () => {
  it('SQLite: malformed rows beside good ones (bad JSON, wrong shape, another id, unknown state, bad input)', async () => {
    const file = join(dir, 'corrupt.db');
    await plantAndRecover(
      (onCorrupt) => new SqliteTaskStore(file, onCorrupt === undefined ? {} : { onCorrupt }),
      async (ids) => {
        const db = new Database(file);
        for (const [i, d] of DAMAGE.entries()) {
          db.prepare(`UPDATE durable_tasks SET ${d.set(ids[i]!)} WHERE task_id = ?`).run(ids[i]);
        }
        db.prepare('UPDATE durable_tasks SET next_run_at_ms = 0').run();
        db.close();
      },
    );
  });

  it('SQLite: errors that are not a list of strings, and a non-integer attempt, are reported', async () => {
    const file = join(dir, 'corrupt-errors.db');
    const seen: CorruptRecord[] = [];
    const store = new SqliteTaskStore(file, { onCorrupt: (bad) => seen.push(bad) });
    const sup = createTaskSupervisor({ store });
    const a = await job.spawn(sup, { threadId: 't', description: 'a', startAfterMs: 3_600_000 }, { n: 1 });
    const b = await job.spawn(sup, { threadId: 't', description: 'b', startAfterMs: 3_600_000 }, { n: 2 });
    await sup.stop();
    await store.close();
    const db = new Database(file);
    db.prepare(`UPDATE durable_tasks SET errors = '{"0":"x"}' WHERE task_id = ?`).run(a);
    db.prepare(`UPDATE durable_tasks SET attempt = 1.5 WHERE task_id = ?`).run(b);
    db.close();
    const again = new SqliteTaskStore(file, { onCorrupt: (bad) => seen.push(bad) });
    expect(await again.durable.pending('job')).toEqual([]);
    expect(await again.durable.get(a)).toBeUndefined();
    expect(seen.map((s) => [s.task_id, s.reason])).toEqual([
      [a, 'durable row: errors: not an array of strings'],
      [b, 'durable row: bad attempt 1.5'],
      [a, 'durable row: errors: not an array of strings'],
    ]);
    await again.close();
  });
});

describe.skipIf(!pgUrl)('PostgreSQL: durable rows the store cannot read', () => {
  it('malformed rows beside good ones are skipped and reported; the good tasks complete', async () => {
    const pool = new pg.Pool({ connectionString: pgUrl });
    const table = uniqueTable('dcorrupt');
    let ids: readonly string[] = [];
    try {
      await plantAndRecover(
        (onCorrupt) =>
          new PostgresTaskStore({
            connectionString: pgUrl!,
            table,
            pollMs: 100,
            ...(onCorrupt === undefined ? {} : { onCorrupt }),
          }),
        async (planted) => {
          ids = planted;
          for (const [i, d] of DAMAGE.entries()) {
            await pool.query(`UPDATE "${table}_durable" SET ${d.set(ids[i]!)} WHERE task_id = $1`, [ids[i]]);
          }
          await pool.query(`UPDATE "${table}_durable" SET next_run_at_ms = 0`);
        },
      );
      // jsonb errors that are not a list of strings, on every row (state made readable again).
      await pool.query(`UPDATE "${table}_durable" SET errors = '{"0":"x"}'::jsonb, state = 'waiting'`);
      const seen: CorruptRecord[] = [];
      const store = new PostgresTaskStore({
        connectionString: pgUrl!,
        table,
        onCorrupt: (b) => seen.push(b),
      });
      const rows = await store.durable.pending('job');
      expect(rows).toEqual([]);
      // Every row is unreadable now; those whose record and input were good (the two good tasks, and
      // the one whose damage was its state) say it is their errors.
      expect(seen).toHaveLength(DAMAGE.length + 2);
      const byErrors = seen.filter((s) => s.reason === 'durable row: errors: not an array of strings');
      expect(byErrors.map((s) => s.task_id).sort()).toEqual([ids[3], ...ids.slice(DAMAGE.length)].sort());
      await store.close();
    } finally {
      await dropTables(pool, table);
      await pool.end();
    }
  });

  it('an unreadable row inside a full takeover batch does not end register early', async () => {
    const pool = new pg.Pool({ connectionString: pgUrl });
    const table = uniqueTable('dcbatch');
    const open = (onCorrupt?: (bad: CorruptRecord) => void) =>
      new PostgresTaskStore({
        connectionString: pgUrl!,
        table,
        // No sweep during the test: register alone must take every readable task up.
        pollMs: 60_000,
        ...(onCorrupt === undefined ? {} : { onCorrupt }),
      });
    try {
      const first = open();
      const sup1 = createTaskSupervisor({ store: first });
      const ids: string[] = [];
      for (let n = 0; n < 55; n++) {
        ids.push(
          await job.spawn(sup1, { threadId: 't', description: `j${n}`, startAfterMs: 3_600_000 }, { n }),
        );
      }
      await sup1.stop();
      await first.close();
      await pool.query(`UPDATE "${table}_durable" SET input = '{' WHERE task_id = $1`, [ids[3]]);
      await pool.query(`UPDATE "${table}_durable" SET next_run_at_ms = 0`);
      const seen: CorruptRecord[] = [];
      const second = open((bad) => seen.push(bad));
      const sup2 = createTaskSupervisor({ store: second });
      expect(await sup2.register(job)).toBe(54);
      expect(seen.map((b) => b.task_id)).toEqual([ids[3]]);
      for (const id of ids.filter((_, i) => i !== 3)) expect((await sup2.wait(id)).status).toBe('completed');
      await sup2.stop();
      await second.close();
    } finally {
      await dropTables(pool, table);
      await pool.end();
    }
  });
});
