import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORPHAN_ERROR } from '../../src/index.js';
import type { TaskEvent, TaskSummary } from '../../src/wire/types.js';
import { clusterUnavailable, type OwnCluster, startOwnCluster } from '../helpers/pgCluster.js';
import { checkStreams, type Reply, replicaChildren } from '../helpers/replicaChild.js';
import { uniqueTable, until } from '../stores/pgEnv.js';

// These tests restart a PostgreSQL cluster: always one they start themselves, on their own port
// and data directory, never the shared one of DATABASE_URL.
const unavailable = clusterUnavailable();
if (unavailable !== undefined) {
  console.warn(`test/integration/postgres-restart.test.ts: skipped: ${unavailable}`);
  it.runIf(Boolean(process.env.CI))('CI can start its own PostgreSQL cluster', () => {
    throw new Error(`cannot start a cluster in CI: ${unavailable}`);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(unavailable !== undefined)('replicas across a database restart (issue 22)', () => {
  let cluster: OwnCluster;
  let pool: pg.Pool;
  const replicas = replicaChildren('pgblip-restart');

  beforeAll(async () => {
    cluster = await startOwnCluster('pgblip');
    pool = new pg.Pool({ connectionString: cluster.url });
    pool.on('error', () => undefined);
  }, 180_000);
  afterAll(async () => {
    await pool?.end();
    await cluster?.destroy();
  });

  const start = (table: string, env: Record<string, string> = {}) =>
    replicas.start(cluster.url, table, { LEASE_MS: '20000', POLL_MS: '200', ...env });

  it('a restart while 50 tasks run and emit: all complete with their results, every event reaches the other replica’s receiver in order and once, cancels sent during and after reach their bodies, spawns fail only while the database is down', async () => {
    const t = uniqueTable('restart');
    const [a, b] = await Promise.all([start(t), start(t)]);
    await b.call('load', { thread: 'T' });
    const emitters: string[] = [];
    for (let i = 0; i < 50; i++)
      emitters.push(await a.spawn({ thread: 'T', kind: 'emitter', n: 20, ms: 100 }));
    const parks: string[] = [];
    for (let i = 0; i < 6; i++) parks.push(await a.spawn({ thread: 'T', kind: 'park' }));
    // B holds A's tasks as remote entries (so it can cancel them) and stays the thread's receiver.
    await b.call('load', { thread: 'T' });
    const drained: TaskEvent[] = [];
    drained.push(...(await b.drain()));

    // Spawns on A every 100 ms throughout, each with the time it was issued.
    const spawns: { at: number; ms: number; ok: boolean; error?: string }[] = [];
    let spawning = true;
    // Each spawn is issued without waiting for the previous one, so the whole outage is covered.
    const issued: Promise<void>[] = [];
    const spawner = (async () => {
      while (spawning) {
        const at = Date.now();
        issued.push(
          a
            .call<Reply & { task?: string }>('spawn', { thread: 'S', kind: 'timer', ms: 10 }, 60_000)
            .then((r) => {
              spawns.push({
                at,
                ms: Date.now() - at,
                ok: r.task !== undefined,
                ...(r.error === undefined ? {} : { error: r.error }),
              });
            }),
        );
        await sleep(100);
      }
      await Promise.all(issued);
    })();

    const stoppedAt = Date.now();
    await cluster.stop();
    // Cancels sent while the database is down: recorded once it is back.
    for (const p of parks.slice(0, 3))
      expect((await b.call<{ result: boolean }>('cancel', { task: p })).result).toBe(true);
    await until(
      () => a.replicaEvents('connection_lost').length > 0,
      10_000,
      'A to report the lost connection',
    );
    // The outage: about 1.5 s of a stopped server.
    await sleep(Math.max(0, 1500 - (Date.now() - stoppedAt)));
    await cluster.start();
    const startedAt = Date.now();
    for (const p of parks.slice(3))
      expect((await b.call<{ result: boolean }>('cancel', { task: p })).result).toBe(true);

    for (const p of parks)
      await until(() => a.seen('aborted', p).length === 1, 20_000, `${p}'s body to be aborted`);
    await until(
      async () => {
        for (const id of emitters) if ((await a.get(id))?.status !== 'completed') return false;
        return true;
      },
      30_000,
      'every emitter to complete on A',
    );
    await until(
      async () => {
        drained.push(...(await b.drain()));
        const ended = new Set(drained.filter((e) => e.kind !== 'custom').map((e) => e.task_id));
        return [...emitters, ...parks].every((id) => ended.has(id));
      },
      30_000,
      'B to receive every terminal event',
    );
    spawning = false;
    await spawner;

    const want = new Map<string, number>([
      ...emitters.map((id) => [id, 20] as const),
      ...parks.map((id) => [id, 0] as const),
    ]);
    const terminals = checkStreams(drained, want);
    for (const id of emitters)
      expect(terminals.get(id)).toEqual({
        kind: 'completed',
        task_id: id,
        result: { emitted: 20, task: id },
      });
    for (const id of parks) expect(terminals.get(id)).toEqual({ kind: 'cancelled', task_id: id });
    const rows = await pool.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM "${t}" WHERE owner_thread_id = 'T' GROUP BY status ORDER BY status`,
    );
    expect(rows.rows).toEqual([
      { status: 'cancelled', n: 6 },
      { status: 'completed', n: 50 },
    ]);

    // Ownership survived: the same epoch, reconnected, nothing orphaned; the operator was told.
    for (const r of [a, b]) {
      expect(r.replicaEvents('reconnected').every((e) => e.epoch_kept === true)).toBe(true);
      expect(r.replicaEvents('reconnected').length).toBeGreaterThan(0);
      expect(r.warnings().some((w) => w.includes('database connection was lost'))).toBe(true);
      const { stats } = await r.call<{ stats: Record<string, number> }>('stats');
      expect(stats.connectionLosses).toBeGreaterThan(0);
      expect(stats.eventsUnstored).toBe(0);
      expect(stats.controlUnstored).toBe(0);
    }
    expect(
      (await pool.query(`SELECT count(*)::int AS n FROM "${t}" WHERE orphaned_at_ms IS NOT NULL`)).rows[0].n,
    ).toBe(0);
    // No spawn failed once the database was back (1 s for the pool to reconnect).
    const failed = spawns.filter((s) => !s.ok);
    // A spawn issued while the server is down either fails at once or, when its write waits behind
    // events being retried, completes once the server is back.
    console.log(
      `[restart] outage ${startedAt - stoppedAt} ms; ${failed.length} of ${spawns.length} spawns failed${failed.length > 0 ? `, the last issued ${Math.max(...failed.map((f) => f.at)) - startedAt} ms after the server was back` : ''}; slowest spawn ${Math.max(...spawns.map((x) => x.ms))} ms`,
    );
    for (const f of failed) expect(f.at).toBeLessThan(startedAt + 1000);
  }, 120_000);

  it('an outage longer than the lease: the owner’s tasks are orphaned, its late completion refused, and it goes on under a new epoch', async () => {
    const t = uniqueTable('outage');
    const leaseMs = 3000;
    const [a, b] = await Promise.all([start(t, { LEASE_MS: String(leaseMs), POLL_MS: '300' }), start(t)]);
    const park = await a.spawn({ thread: 'L', kind: 'park' });
    // Its body ends when released: during the outage, however slow the machine.
    const timer = await a.spawn({ thread: 'L', kind: 'gated', n: 0 });
    await b.call('load', { thread: 'L' });
    // A receives thread R's events (its run loaded it); nobody else claims R meanwhile.
    await a.call('load', { thread: 'R' });
    const oldEpoch = await a.epoch();
    await cluster.stop();
    const downAt = Date.now();
    // A's body completes while the database is down; its write waits (A's memory says completed
    // until the write is refused). A is then held (SIGSTOP) so that B, not A, decides first once
    // the database is back — past A's 3 s lease.
    await until(() => a.replicaEvents('connection_lost').length > 0, 10_000, 'A to see the outage');
    await a.call('release', { task: timer });
    await until(async () => (await a.get(timer))?.status === 'completed', 10_000, 'A’s body to complete');
    a.child.proc.kill('SIGSTOP');
    // The outage outlasts A's lease (its last renewal was before the server was down; the server
    // runs on this machine's clock): the scenario's length, not a wait for an outcome.
    await sleep(Math.max(0, downAt + leaseMs + 500 - Date.now()));
    await cluster.start();
    await until(
      async () => {
        const { tasks } = await b.call<{ tasks: TaskSummary[] }>('load', { thread: 'L' });
        return tasks.length === 2 && tasks.every((s) => s.error === ORPHAN_ERROR);
      },
      20_000,
      'B to orphan both tasks of the lapsed epoch',
    );
    a.child.proc.kill('SIGCONT');
    await until(
      async () => (await a.get(timer))?.status === 'failed' && (await a.get(park))?.status === 'failed',
      20_000,
      'A to converge to the database',
    );
    await until(async () => (await a.epoch()) !== oldEpoch, 20_000, 'A to take a new epoch');
    expect(await a.get(timer)).toEqual(await b.get(timer));
    expect((await a.get(timer))?.error).toBe(ORPHAN_ERROR);
    await until(() => a.replicaEvents('reconnected').length > 0, 20_000, 'A to reconnect');
    expect(a.replicaEvents('reconnected').map((e) => e.epoch_kept)).toContain(false);
    // A may converge through its new epoch's revocation before its late write, retried since the
    // outage, lands and is refused.
    await until(
      async () => (await a.call<{ refusals: number }>('stats')).refusals >= 1,
      20_000,
      'A’s late completion refused',
    );
    const stored = await pool.query(`SELECT task_id, status FROM "${t}" ORDER BY task_id`);
    expect(stored.rows.every((r) => r.status === 'failed')).toBe(true);
    // A keeps working under its new epoch.
    const fresh = await a.spawn({ thread: 'L', kind: 'timer', ms: 10 });
    await until(async () => (await a.get(fresh))?.status === 'completed', 10_000, 'a new task to complete');
    // Under its new epoch A claimed R again: events emitted into R on B reach A's inbox.
    await a.drain();
    const emitter = await b.spawn({ thread: 'R', kind: 'emitter', n: 3, ms: 10 });
    const got: TaskEvent[] = [];
    await until(
      async () => {
        got.push(...(await a.drain()));
        return got.some((e) => e.task_id === emitter && e.kind === 'completed');
      },
      10_000,
      'R’s events to reach A',
    );
    checkStreams(got, new Map([[emitter, 3]]));
  }, 120_000);
});
