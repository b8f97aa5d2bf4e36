import { describe, expect, it } from 'vitest';
import { ORPHAN_ERROR } from '../../src/supervisor/restore.js';
import { PostgresTaskStore, type RejectedRecordError } from '../../src/stores/postgres/index.js';
import { tableNames } from '../../src/stores/postgres/schema.js';
import type { CorruptRecord } from '../../src/stores/types.js';
import { storeConformance } from '../../src/testing/storeConformance.js';
import { rec } from '../helpers/records.js';
import { pgSuite, pgUrl, requirePostgres, until } from './pgEnv.js';

requirePostgres('test/stores/postgres.test.ts');

describe.skipIf(!pgUrl)('PostgresTaskStore', () => {
  const db = pgSuite();
  const { pool, table } = db;
  const open = (opts: ConstructorParameters<typeof PostgresTaskStore>[0]) =>
    db.track(new PostgresTaskStore({ pool, ...opts }));

  it('passes storeConformance with its own pool (connectionString)', () => {
    const t = table('conf_own');
    return storeConformance(() => new PostgresTaskStore({ connectionString: pgUrl!, table: t }));
  });

  it("passes storeConformance on a user's pool, and never ends that pool", async () => {
    const t = table('conf_user');
    await storeConformance(() => new PostgresTaskStore({ pool, table: t }));
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('creates the schema once when several processes start at once (advisory lock)', async () => {
    const t = table('race');
    const many = Array.from(
      { length: 6 },
      () => new PostgresTaskStore({ connectionString: pgUrl!, table: t }),
    );
    await Promise.all(many.map((s, i) => s.put([rec(`bg_${i}`)])));
    expect((await many[0]!.load()).map((r) => r.task_id).sort()).toEqual([
      'bg_0',
      'bg_1',
      'bg_2',
      'bg_3',
      'bg_4',
      'bg_5',
    ]);
    await Promise.all(many.map((s) => s.close()));
    const v = await pool.query(`SELECT value FROM "${t}_meta" WHERE name = 'schema_version'`);
    expect(v.rows).toEqual([{ value: '6' }]);
  });

  it('loads a thread through the (owner_thread_id, seq) index', async () => {
    const t = table('idx');
    const s = open({ table: t });
    await s.put([
      rec('bg_0'),
      rec('bg_1', { owner_thread_id: 'u' }),
      rec('bg_2'),
      rec('bg_0', { status: 'completed' }),
    ]);
    expect((await s.load('t')).map((r) => [r.task_id, r.status])).toEqual([
      ['bg_0', 'completed'],
      ['bg_2', 'running'],
    ]);
    const c = await pool.connect();
    try {
      await c.query('SET enable_seqscan = off');
      const plan = await c.query(
        `EXPLAIN SELECT task_id, record FROM "${t}" WHERE owner_thread_id = 't' ORDER BY seq`,
      );
      expect(JSON.stringify(plan.rows)).toContain(`${t}_owner_seq`);
    } finally {
      c.release();
    }
  });

  it('I16: the id counter starts past bg_ ids of a table from before the counter existed', async () => {
    const t = table('legacy');
    await pool.query(
      `CREATE TABLE "${t}" (task_id text PRIMARY KEY, owner_thread_id text NOT NULL, status text NOT NULL, record text NOT NULL, writer text NOT NULL, seq bigint GENERATED ALWAYS AS IDENTITY)`,
    );
    await pool.query(
      `INSERT INTO "${t}" (task_id, owner_thread_id, status, record, writer) VALUES ('bg_77', 't', 'completed', $1, 'old')`,
      [JSON.stringify(rec('bg_77'))],
    );
    const s = open({ table: t });
    expect(await s.allocateIds(3)).toBe(78);
    expect(await s.allocateIds(1)).toBe(81);
  });

  it('bad input: corrupt rows are reported with id and reason; the good ones load', async () => {
    const t = table('corrupt');
    const seen: CorruptRecord[] = [];
    const s = open({ table: t, onCorrupt: (b) => seen.push(b) });
    await s.put([rec('bg_0'), rec('bg_1'), rec('bg_2')]);
    await pool.query(`UPDATE "${t}" SET record = '{not json' WHERE task_id = 'bg_1'`);
    await pool.query(
      `UPDATE "${t}" SET record = '{"task_id":"bg_2","task_type":"x","description":"d","created_at_ms":1}' WHERE task_id = 'bg_2'`,
    );
    expect((await s.load('t')).map((r) => r.task_id)).toEqual(['bg_0']);
    expect(seen.map((b) => b.task_id)).toEqual(['bg_1', 'bg_2']);
    expect(seen[0]!.reason).toMatch(/^invalid JSON/);
    expect(seen[1]!.reason).toMatch(/`status`/);
    expect(s.lastLoadCorrupt).toEqual(seen);
  });

  const epochRow = async (t: string, epoch: string) =>
    (await pool.query(`SELECT epoch FROM "${t}_epochs" WHERE epoch = $1`, [epoch])).rowCount;

  it("fenced put: the owner's status change lands; another process's is refused and reported as stored", async () => {
    const t = table('fence');
    const a = open({ table: t });
    const b = open({ table: t });
    expect(await a.put([rec('bg_0'), rec('bg_1')])).toEqual({ refused: [] });
    const late = await b.put([
      rec('bg_0', { description: 'echo' }),
      rec('bg_1', { status: 'failed', error: 'x', completed_at_ms: 9 }),
    ]);
    expect(late.refused.map((r) => [r.task_id, r.status])).toEqual([
      ['bg_0', 'running'],
      ['bg_1', 'running'],
    ]);
    expect(b.refusals).toBe(2);
    const done = rec('bg_1', { status: 'completed', result: { ok: 1 }, completed_at_ms: 10 });
    expect(await a.put([done])).toEqual({ refused: [] });
    // A terminal row never changes again, not even by its owner.
    expect((await a.put([rec('bg_1', { status: 'failed', error: 'late' })])).refused).toEqual([done]);
    const rows = await pool.query(`SELECT task_id, status, owner_epoch FROM "${t}" ORDER BY task_id`);
    expect(rows.rows).toEqual([
      { task_id: 'bg_0', status: 'running', owner_epoch: a.epoch },
      { task_id: 'bg_1', status: 'completed', owner_epoch: a.epoch },
    ]);
  });

  it('liveness by the database: an expired lease orphans at once, in one statement; a closed connection is a blip the owner survives; a lock gone past the grace orphans', async () => {
    const t = table('live');
    const a = open({ table: t, leaseMs: 60_000, pollMs: 50 });
    const b = open({ table: t, leaseMs: 60_000 });
    // bg_0 waits for input when its owner stalls.
    await a.put([
      rec('bg_0', { input_request: { question: 'deploy?' } }),
      rec('bg_1', { status: 'completed' }),
    ]);
    await b.put([rec('bg_2')]);
    // Both live: loading orphans nothing.
    let rows = await b.coordination.loadThread('t');
    expect(rows.map((r) => [r.meta.task_id, r.meta.status, r.mine])).toEqual([
      ['bg_0', 'running', false],
      ['bg_1', 'completed', false],
      ['bg_2', 'running', true],
    ]);
    // a's lease lapses by the database clock (a stalled process): b's load revokes and orphans.
    const old = a.epoch;
    await pool.query(`UPDATE "${t}_epochs" SET expires_at = now() - interval '1 second' WHERE epoch = $1`, [
      a.epoch,
    ]);
    rows = await b.coordination.loadThread('t');
    expect(rows.map((r) => [r.meta.task_id, r.meta.status, r.meta.error])).toEqual([
      ['bg_0', 'failed', ORPHAN_ERROR],
      ['bg_1', 'completed', undefined],
      ['bg_2', 'running', undefined],
    ]);
    // An orphaned record is a task that ended: what it was waiting for is not kept.
    expect(rows[0]?.meta).not.toHaveProperty('input_request');
    expect(rows[0]?.meta.stop_reason).toBe('orphaned');
    expect(await epochRow(t, old)).toBe(0);
    // The orphaned terminal event waits for the thread's receiver.
    expect((await b.coordination.claimAndTake('t', false)).map((x) => x.event)).toEqual([
      { kind: 'failed', task_id: 'bg_0', error: ORPHAN_ERROR },
    ]);
    // a's late completion is refused; its heartbeat finds its epoch gone and takes a new one.
    expect((await a.put([rec('bg_0', { status: 'completed' })])).refused[0]?.error).toBe(ORPHAN_ERROR);
    await until(() => a.epoch !== old, 5_000, 'a to take a new epoch');
    // Killing b's dedicated connection releases its advisory lock, but a missing lock alone is a
    // blip: b reconnects, takes its epoch's lock again, and nothing is orphaned.
    const bEpoch = b.epoch;
    const held = async () =>
      (
        await pool.query(
          `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND granted
             AND classid = $2::bigint::oid
             AND objid = (SELECT lock_id FROM "${t}_epochs" WHERE epoch = $1)::bigint::oid`,
          [bEpoch, tableNames(t).lockClass],
        )
      ).rowCount === 1;
    // b's heartbeat only runs every leaseMs / 3: make it use its connection now by loading.
    await b.coordination.loadThread('t');
    await pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2
         AND classid = $2::bigint::oid
         AND objid = (SELECT lock_id FROM "${t}_epochs" WHERE epoch = $1)::bigint::oid`,
      [bEpoch, tableNames(t).lockClass],
    );
    const c = open({ table: t, lockGraceMs: 60_000 });
    rows = await c.coordination.loadThread('t');
    expect(rows.find((r) => r.meta.task_id === 'bg_2')?.meta.status).toBe('running');
    await until(held, 10_000, 'b to take its lock again');
    expect(b.epoch).toBe(bEpoch);
    rows = await c.coordination.loadThread('t');
    expect(rows.find((r) => r.meta.task_id === 'bg_2')?.meta.status).toBe('running');
    // A process that is gone: its lock is missing and stays so. Seen once, it is dead after the
    // grace; here an epoch row whose lock nobody holds, first seen gone an hour ago.
    await pool.query(
      `INSERT INTO "${t}_epochs" (epoch, instance_id, lock_id, expires_at, lock_lost_at)
       VALUES ('gone', 'gone', 2000000000, now() + interval '1 hour', now() - interval '1 hour'),
              ('fresh', 'fresh', 2000000001, now() + interval '1 hour', NULL)`,
    );
    await pool.query(`UPDATE "${t}" SET owner_epoch = 'gone' WHERE task_id = 'bg_2'`);
    rows = await c.coordination.loadThread('t');
    expect(rows.find((r) => r.meta.task_id === 'bg_2')?.meta.error).toBe(ORPHAN_ERROR);
    // The other is marked (its grace starts now), not revoked.
    const fresh = await pool.query(
      `SELECT lock_lost_at IS NOT NULL AS marked FROM "${t}_epochs" WHERE epoch = 'fresh'`,
    );
    expect(fresh.rows).toEqual([{ marked: true }]);
  });

  it('a stable instanceId: a restart revokes the previous life at once and orphans its tasks', async () => {
    const t = table('stable');
    const before = open({ table: t, instanceId: 'worker-1' });
    await before.put([rec('bg_0')]);
    // A stall, not a crash: the old connection still holds its lock and the lease is valid for 15 s.
    const after = open({ table: t, instanceId: 'worker-1' });
    await after.load();
    expect(await epochRow(t, before.epoch)).toBe(0);
    expect((await after.load('t')).map((r) => [r.status, r.error])).toEqual([['failed', ORPHAN_ERROR]]);
  });

  it('names: a second running task of one name in a thread is rejected by the database', async () => {
    const t = table('names');
    const a = open({ table: t });
    const b = open({ table: t });
    await a.put([rec('bg_0', { name: 'dup' })]);
    const res = await b.put([
      rec('bg_1', { name: 'dup' }),
      rec('bg_2', { name: 'other' }),
      rec('bg_3', { name: 'dup', owner_thread_id: 'u' }),
    ]);
    expect(
      [...(res.rejected?.entries() ?? [])].map(([id, e]) => [id, (e as RejectedRecordError).code, e.message]),
    ).toEqual([['bg_1', 'duplicate_name', "a running task named 'dup' already exists"]]);
    expect((await a.load()).map((r) => r.task_id).sort()).toEqual(['bg_0', 'bg_2', 'bg_3']);
    // Once the first ends, the name is free again.
    await a.put([rec('bg_0', { name: 'dup', status: 'completed' })]);
    expect((await b.put([rec('bg_4', { name: 'dup' })])).rejected).toBeUndefined();
  });

  it('fenced put: one mixed batch inserts, updates, refuses and takes its terminal event; odd text round-trips exactly', async () => {
    const t = table('mixed');
    const a = open({ table: t, leaseMs: 60_000 });
    const b = open({ table: t, leaseMs: 60_000 });
    // Quotes, backslashes, line separators, non-ASCII and an escaped lone surrogate travel in JSON.
    const odd = 'say "hi" \\ back\\slash \u2028 é 😀 \ud800 {x,"y"} NULL';
    await a.put([rec('bg_0'), rec('bg_1', { description: odd })]);
    await b.put([rec('bg_5')]);
    await a.coordination.claimAndTake('t', false);
    a.coordination.setLocalInbox('bg_0', false);
    const res = await a.put([
      rec('bg_0', { status: 'completed', result: { odd }, completed_at_ms: 5 }),
      rec('bg_1', { description: `${odd} v2` }),
      rec('bg_2', { name: 'n' }),
      rec('bg_5', { status: 'failed', error: 'not mine' }),
      rec('bg_9', { status: 'cancelled', completed_at_ms: 7 }),
      rec('bg_3', { owner_thread_id: 'th "x" \\ {y}', name: 'a "q" \\ b,NULL' }),
    ]);
    expect(res.refused.map((r) => [r.task_id, r.status])).toEqual([['bg_5', 'running']]);
    expect(res.rejected?.size ?? 0).toBe(0);
    // The terminal event of a task with a local inbox, on a thread this epoch receives, is taken here.
    expect(a.coordination.takeTerminal('bg_0')?.event).toEqual({
      kind: 'completed',
      task_id: 'bg_0',
      result: { odd },
    });
    expect(a.coordination.takeTerminal('bg_9')).toBeUndefined();
    const byId = new Map((await b.load('t')).map((r) => [r.task_id, r]));
    expect(byId.get('bg_0')?.result).toEqual({ odd });
    expect(byId.get('bg_1')?.description).toBe(`${odd} v2`);
    expect([...byId.values()].map((r) => [r.task_id, r.status])).toEqual([
      ['bg_0', 'completed'],
      ['bg_1', 'running'],
      ['bg_5', 'running'],
      ['bg_2', 'running'],
      ['bg_9', 'cancelled'],
    ]);
    expect((await b.load('th "x" \\ {y}')).map((r) => [r.task_id, r.name])).toEqual([
      ['bg_3', 'a "q" \\ b,NULL'],
    ]);
    // The new running record is a's (its later change lands), the inserted terminal one no one's.
    expect((await a.put([rec('bg_2', { name: 'n', status: 'completed' })])).refused).toEqual([]);
    const owners = await pool.query(
      `SELECT task_id, owner_epoch FROM "${t}" WHERE task_id IN ('bg_2', 'bg_9') ORDER BY task_id`,
    );
    expect(owners.rows).toEqual([
      { task_id: 'bg_2', owner_epoch: a.epoch },
      { task_id: 'bg_9', owner_epoch: null },
    ]);
    // Nothing was stored for a receiver: the taken event is consumed, bg_9 had no terminal transition.
    expect((await pool.query(`SELECT count(*)::int AS n FROM "${t}_events"`)).rows[0].n).toBe(1);
  });

  it('fenced put: each terminal event stored for a receiver is the one its record stands for, whatever it holds', async () => {
    const t = table('evbody');
    const a = open({ table: t, leaseMs: 60_000 });
    const odd = 'say "hi" \\ \u2028 é 😀 \ud800 {x,"y"} NULL';
    const ids = ['bg_0', 'bg_1', 'bg_2', 'bg_3', 'bg_4', 'bg_5', 'bg_6'];
    await a.put(ids.map((id) => rec(id)));
    const ended = [
      rec('bg_0', {
        status: 'completed',
        result: { odd, n: 1.5, big: 12345678901234567000, deep: [null, {}] },
      }),
      rec('bg_1', { status: 'completed' }),
      rec('bg_2', { status: 'completed', result: null }),
      rec('bg_3', { status: 'failed', error: odd }),
      rec('bg_4', { status: 'failed' }),
      rec('bg_5', { status: 'cancelled', stop_reason: 'user' }),
      rec('bg_6', { status: 'completed', result: 'text "quoted"' }),
    ];
    // No inbox here: every terminal event is stored for the thread's receiver.
    expect((await a.put(ended)).refused).toEqual([]);
    const rows = await pool.query<{ task_id: string; body: string }>(
      `SELECT task_id, body FROM "${t}_events" ORDER BY seq`,
    );
    expect(rows.rows.map((r) => r.task_id)).toEqual(ids);
    expect(rows.rows.map((r) => JSON.parse(r.body))).toEqual([
      {
        kind: 'completed',
        task_id: 'bg_0',
        result: { odd, n: 1.5, big: 12345678901234567000, deep: [null, {}] },
      },
      { kind: 'completed', task_id: 'bg_1', result: null },
      { kind: 'completed', task_id: 'bg_2', result: null },
      { kind: 'failed', task_id: 'bg_3', error: odd },
      { kind: 'failed', task_id: 'bg_4', error: 'task failed' },
      { kind: 'cancelled', task_id: 'bg_5' },
      { kind: 'completed', task_id: 'bg_6', result: 'text "quoted"' },
    ]);
  });

  it("notifications of a store's own put wake it only when it left events for the thread's receiver", async () => {
    const t = table('selfnote');
    const a = open({ table: t, leaseMs: 60_000 });
    const b = open({ table: t, leaseMs: 60_000 });
    const seen = { a: [] as string[], b: [] as string[] };
    const handler = (into: string[]) => ({
      threadChanged: (thread: string) => into.push(thread),
      control: () => undefined,
      poll: () => undefined,
      revoked: () => undefined,
    });
    a.coordination.attach(handler(seen.a));
    b.coordination.attach(handler(seen.b));
    await b.load('none');
    await a.coordination.claimAndTake('t', false);
    // A running insert: b hears of it; a already holds it.
    await a.put([rec('bg_0')]);
    await until(() => seen.b.length === 1, 5_000, 'b to hear of the insert');
    // bg_0 has no inbox here: its terminal event is stored for the receiver (a), which must look.
    await a.put([rec('bg_0', { status: 'completed' })]);
    await until(() => seen.a.length === 1 && seen.b.length === 2, 5_000, 'both to hear of the completion');
    // Notifications reach a listener in commit order: the insert's came first and was skipped.
    expect(seen.a).toEqual(['t']);
    expect(seen.b).toEqual(['t', 't']);
  });

  it("after close every method rejects with 'store is closed'", async () => {
    const s = new PostgresTaskStore({ connectionString: pgUrl!, table: table('closed') });
    await s.put([rec('bg_0')]);
    await s.close();
    await expect(s.put([rec('bg_1')])).rejects.toThrow('store is closed');
    await expect(s.load()).rejects.toThrow('store is closed');
    await expect(s.allocateIds(1)).rejects.toThrow('store is closed');
  });

  it('rejects a table name that is not a plain identifier', () => {
    expect(() => new PostgresTaskStore({ pool, table: 'x"; DROP TABLE y; --' })).toThrow(
      /plain SQL identifier/,
    );
  });
});
