import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createInbox, createTaskSupervisor, StoreError, type TaskEvent } from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import type { PersistedTaskMeta } from '../../src/wire/types.js';
import { gate } from '../helpers/async.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';

requirePostgres('test/supervisor/replicasRetry.test.ts');

describe.skipIf(!pgUrl)('replicas: writes that fail are retried, not dropped (issue 22)', () => {
  const db = pgSuite();
  const { pool } = db;
  const stores: PostgresTaskStore[] = [];
  let proxy: TcpProxy | undefined;
  const table = () => db.table('retry');
  const open = (opts: ConstructorParameters<typeof PostgresTaskStore>[0]) => {
    const s = new PostgresTaskStore({ pollMs: 100, ...opts });
    stores.push(s);
    return s;
  };

  afterEach(async () => {
    proxy?.unblock();
    await Promise.all(stores.splice(0).map((s) => s.close().catch(() => undefined)));
    await proxy?.close();
    proxy = undefined;
  });

  it('rejects a bad queryTimeoutMs or lockGraceMs with a TypeError', () => {
    expect(() => new PostgresTaskStore({ connectionString: pgUrl!, queryTimeoutMs: 0 })).toThrow(
      /Expected `queryTimeoutMs` to be a positive integer, got 0/,
    );
    expect(() => new PostgresTaskStore({ connectionString: pgUrl!, lockGraceMs: -1 })).toThrow(TypeError);
    expect(() => new PostgresTaskStore({ connectionString: pgUrl!, lockGraceMs: 1.5 })).toThrow(
      /Expected `lockGraceMs` to be a non-negative integer, got 1.5/,
    );
  });

  it('a listener that stopped listening (its session alive) is noticed by the heartbeat, listened again, and caught up; notifications work after', async () => {
    const t = table();
    // Which client ran LISTEN: the store's dedicated connection.
    const listening: pg.Client[] = [];
    const realQuery = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      if (typeof args[0] === 'string' && args[0].startsWith('LISTEN') && !listening.includes(this))
        listening.push(this);
      return (realQuery as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof realQuery;
    try {
      // A heartbeat slower than the default 1 s query timeout (a loaded machine) would count as a
      // lost connection and add its events to the exact list below: not what this test is about.
      const a = open({ connectionString: pgUrl!, table: t, pollMs: 200, queryTimeoutMs: 10_000 });
      const b = open({ connectionString: pgUrl!, table: t, pollMs: 300, queryTimeoutMs: 10_000 });
      const sa = createTaskSupervisor({ store: a });
      const sb = createTaskSupervisor({ store: b });
      const events: string[] = [];
      sb.onReplicaEvent((e) => events.push(e.type));
      await sa.loadThread('T');
      await sb.loadThread('T');
      expect(listening).toHaveLength(2);
      // B's session stops listening (as after a pooler's reset); its connection stays up.
      await listening[1]!.query('UNLISTEN *');
      const channels = async () =>
        (await listening[1]!.query<{ c: string }>('SELECT pg_listening_channels() AS c')).rows.map(
          (r) => r.c,
        );
      expect(await channels()).toEqual([]);
      await until(() => events.includes('polling_ended'), 10_000, "B's heartbeat to listen again");
      expect(events).toEqual(['polling_started', 'polling_ended']);
      expect(await channels()).toEqual([`awaken-tasks:${t}`]);
      expect(sb.stats()).toMatchObject({ pollingFallbacks: 1, connectionLosses: 0 });
      // And it works: a cancel from A reaches B's body.
      let aborted = false;
      const id = await sb.spawn({ threadId: 'T', taskType: 'job', description: 'park' }, async (ctx) => {
        await ctx.cancelled();
        aborted = true;
        return null;
      });
      await sa.loadThread('T');
      sa.cancel(id);
      await until(() => aborted, 5_000, 'the cancel to reach B by notification');
      await sa.stop();
      await sb.stop();
    } finally {
      pg.Client.prototype.query = realQuery;
    }
  }, 90_000);

  it('a terminal write that fails once is retried, and the terminal event it takes still reaches the local inbox', async () => {
    const t = table();
    const store = open({ connectionString: pgUrl!, table: t });
    const realPut = store.put.bind(store);
    let failNext = true;
    store.put = async (records: readonly PersistedTaskMeta[]) => {
      if (failNext && records.some((r) => r.status !== 'running')) {
        failNext = false;
        throw new Error('injected: the connection died under the terminal write');
      }
      return realPut(records);
    };
    const inbox = createInbox();
    const s = createTaskSupervisor({ store, ownerInbox: inbox.sender });
    await s.loadThread('T');
    const id = await s.spawn({ threadId: 'T', taskType: 'job', description: 'd' }, (ctx) => {
      ctx.emit('progress', { i: 0 });
      return { ok: true };
    });
    const got: TaskEvent[] = [];
    await until(
      () => {
        got.push(...(inbox.receiver.drain() as TaskEvent[]));
        return got.some((e) => e.kind === 'completed');
      },
      10_000,
      'the terminal event to reach the inbox',
    );
    expect(failNext).toBe(false);
    expect(got).toEqual([
      { kind: 'custom', task_id: id, event_type: 'progress', payload: { i: 0 } },
      { kind: 'completed', task_id: id, result: { ok: true } },
    ]);
    await s.stop();
  });

  it('events and control requests that fail to write wait in order, are counted in stats(), reported by stop(), and written once the database is back', async () => {
    const t = table();
    const target = new URL(pgUrl!);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const via = new URL(pgUrl!);
    via.host = `127.0.0.1:${proxy.port}`;
    const a = open({ connectionString: via.toString(), table: t, queryTimeoutMs: 500 });
    const b = open({ connectionString: pgUrl!, table: t });
    const inbox = createInbox();
    const sa = createTaskSupervisor({
      store: a,
      ownerInbox: inbox.sender,
      stopTimeoutMs: 300,
      cancelGraceMs: 100,
    });
    const sb = createTaskSupervisor({ store: b });
    let aborted = false;
    const remote = await sb.spawn({ threadId: 'U', taskType: 'job', description: 'park' }, async (ctx) => {
      await ctx.cancelled();
      aborted = true;
      return null;
    });
    await sa.loadThread('U');
    await sa.loadThread('T');
    const more = gate();
    const id = await sa.spawn({ threadId: 'T', taskType: 'job', description: 'emit' }, async (ctx) => {
      for (let i = 0; i < 3; i++) ctx.emit('progress', { i });
      await more.promise;
      for (let i = 3; i < 6; i++) ctx.emit('progress', { i });
      return { emitted: 6 };
    });
    const got: TaskEvent[] = [];
    await until(
      () => {
        got.push(...(inbox.receiver.drain() as TaskEvent[]));
        return got.length === 3;
      },
      10_000,
      'the first three events',
    );

    proxy.block();
    more.open();
    expect(sa.cancel(remote)).toBe(true);
    await until(
      () => {
        const st = sa.stats();
        return st.eventsUnstored === 3 && st.controlUnstored === 1;
      },
      10_000,
      'three events and one cancel to wait',
    );
    const stopped = await sa.stop().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(stopped).toBeInstanceOf(StoreError);
    const err = stopped as StoreError;
    expect(err.taskIds).toEqual([id]);
    expect(err.events.map((e) => (e as { payload?: unknown }).payload)).toEqual([
      { i: 3 },
      { i: 4 },
      { i: 5 },
    ]);
    expect(err.controlRequests).toBe(1);
    expect(err.message).toContain('3 event(s) and 1 control request(s) unstored');
    expect(aborted).toBe(false);

    // The database is back: everything is written, in order, and delivered.
    proxy.unblock();
    await until(() => aborted, 15_000, 'the cancel to reach the remote body');
    await until(
      () => {
        got.push(...(inbox.receiver.drain() as TaskEvent[]));
        return [id, remote].every((task) => got.some((e) => e.kind === 'completed' && e.task_id === task));
      },
      15_000,
      'the rest of the events',
    );
    // Thread U's receiver is this inbox too: the remote task's end arrives here as well.
    expect(got.filter((e) => e.task_id === remote)).toEqual([
      { kind: 'completed', task_id: remote, result: null },
    ]);
    expect(
      got
        .filter((e) => e.task_id === id)
        .map((e) => (e.kind === 'custom' ? (e.payload as { i: number }).i : e.kind)),
    ).toEqual([0, 1, 2, 3, 4, 5, 'completed']);
    await sa.stop();
    expect(sa.stats()).toMatchObject({ eventsUnstored: 0, controlUnstored: 0, unstoredDropped: 0 });
    const row = await pool.query(`SELECT status FROM "${t}" WHERE task_id = $1`, [id]);
    expect(row.rows).toEqual([{ status: 'completed' }]);
    await sb.stop();
  }, 60_000);
});
