import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import type { CorruptRecord } from '../../src/stores/types.js';
import { storeConformance } from '../../src/testing/storeConformance.js';
import { rec } from '../helpers/records.js';
import { dropTables, pgUrl, requirePostgres, uniqueTable, until } from './pgEnv.js';

requirePostgres('test/stores/postgres.test.ts');

describe.skipIf(!pgUrl)('PostgresTaskStore', () => {
  let pool: pg.Pool;
  const tables: string[] = [];
  const table = (p: string) => {
    const t = uniqueTable(p);
    tables.push(t);
    return t;
  };
  const stores: PostgresTaskStore[] = [];
  const open = (opts: ConstructorParameters<typeof PostgresTaskStore>[0]) => {
    const s = new PostgresTaskStore({ pool, ...opts });
    stores.push(s);
    return s;
  };

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: pgUrl });
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    for (const t of tables) await dropTables(pool, t);
    await pool.end();
  });

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
    expect(v.rows).toEqual([{ value: '1' }]);
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

  it('liveElsewhere: running records of another instance with a live lease only', async () => {
    const t = table('lease');
    const a = open({ table: t, leaseMs: 300 });
    const b = open({ table: t, leaseMs: 300 });
    await a.put([rec('bg_0'), rec('bg_1', { status: 'completed' })]);
    await b.put([rec('bg_2')]);
    const all = await b.load('t');
    expect([...(await b.liveElsewhere(all))]).toEqual(['bg_0']);
    expect([...(await a.liveElsewhere(all))]).toEqual(['bg_2']);
    // a stops heartbeating without deleting its lease (as a SIGKILLed process would).
    await pool.query(
      `UPDATE "${t}_leases" SET expires_at = now() - interval '1 second' WHERE instance_id = $1`,
      [a.instanceId],
    );
    await a.close();
    expect([...(await b.liveElsewhere(all))]).toEqual([]);
  });

  it('a running record never takes over a row another live instance wrote; terminal ones do', async () => {
    const t = table('steal');
    const a = open({ table: t });
    const b = open({ table: t });
    await a.put([rec('bg_0'), rec('bg_1')]);
    await b.put([rec('bg_0', { description: 'echo' }), rec('bg_1', { status: 'failed', error: 'x' })]);
    const rows = await pool.query(`SELECT task_id, status, writer FROM "${t}" ORDER BY task_id`);
    expect(rows.rows).toEqual([
      { task_id: 'bg_0', status: 'running', writer: a.instanceId },
      { task_id: 'bg_1', status: 'failed', writer: b.instanceId },
    ]);
    expect([...(await b.liveElsewhere(await b.load()))]).toEqual(['bg_0']);
  });

  it('the heartbeat keeps a lease alive past its length; close releases it', async () => {
    const t = table('beat');
    const a = open({ table: t, leaseMs: 150 });
    const b = open({ table: t, leaseMs: 150 });
    await a.put([rec('bg_0')]);
    const expiry = async () =>
      Number(
        (
          await pool.query(
            `SELECT extract(epoch FROM expires_at) * 1000 AS ms FROM "${t}_leases" WHERE instance_id = $1`,
            [a.instanceId],
          )
        ).rows[0].ms,
      );
    const first = await expiry();
    await until(
      async () => (await expiry()) > first + 600,
      5000,
      'the heartbeat to renew the lease past four lengths',
    );
    expect([...(await b.liveElsewhere(await b.load()))]).toEqual(['bg_0']);
    await a.close();
    expect([...(await b.liveElsewhere(await b.load()))]).toEqual([]);
  });

  it('a stable instanceId recognizes its previous life as not live elsewhere', async () => {
    const t = table('stable');
    const before = open({ table: t, instanceId: 'worker-1' });
    await before.put([rec('bg_0')]);
    // Crash: no close, the lease is still valid for 15 s.
    const after = open({ table: t, instanceId: 'worker-1' });
    expect([...(await after.liveElsewhere(await after.load()))]).toEqual([]);
  });

  it("after close every method rejects with 'store is closed'", async () => {
    const s = new PostgresTaskStore({ connectionString: pgUrl!, table: table('closed') });
    await s.put([rec('bg_0')]);
    await s.close();
    await expect(s.put([rec('bg_1')])).rejects.toThrow('store is closed');
    await expect(s.load()).rejects.toThrow('store is closed');
    await expect(s.allocateIds(1)).rejects.toThrow('store is closed');
    await expect(s.liveElsewhere([rec('bg_0')])).rejects.toThrow('store is closed');
  });

  it('rejects a table name that is not a plain identifier', () => {
    expect(() => new PostgresTaskStore({ pool, table: 'x"; DROP TABLE y; --' })).toThrow(
      /plain SQL identifier/,
    );
  });
});
