import { describe, expect, it } from 'vitest';
import { ORPHAN_ERROR } from '../../src/index.js';
import type { TaskEvent, TaskSummary } from '../../src/wire/types.js';
import { type Reply, replicaChildren } from '../helpers/replicaChild.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';

requirePostgres('test/integration/postgres-replicas.test.ts');

describe.skipIf(!pgUrl)('replicas on one PostgreSQL database (issue 12)', () => {
  const db = pgSuite();
  const { pool } = db;
  const replicas = replicaChildren('replicas');

  const newTable = () => db.table('rep');
  // Death by kill is seen at once (advisory lock); only the stall test needs a short lease (the
  // default is long, so a busy CI machine cannot make a live replica look stalled). A killed
  // replica's lock is gone at once; it is judged dead once gone LOCK_GRACE_MS.
  const start = (table: string, env: Record<string, string> = {}) =>
    replicas.start(pgUrl!, table, { LOCK_GRACE_MS: '1000', ...env });
  const row = async (table: string, task: string) =>
    (await pool.query(`SELECT status, record, orphaned_at_ms FROM "${table}" WHERE task_id = $1`, [task]))
      .rows[0] as { status: string; record: string } | undefined;

  it('a loadThread loop on B racing A’s completions at full speed: zero completed results overwritten', async () => {
    const t = newTable();
    const [a, b] = await Promise.all([start(t), start(t)]);
    const loop = b.call<{ loads: number }>('loadloop', { thread: 'T', ms: 4000, min: 11 }, 45_000);
    const burst = await a.call<{ tasks: string[]; error?: string }>(
      'burst',
      { thread: 'T', n: 3000 },
      30_000,
    );
    expect(burst.error).toBeUndefined();
    const { loads } = await loop;
    console.log(`[race] B loaded ${loads} times`);
    expect(loads).toBeGreaterThan(10);
    const rows = await pool.query(`SELECT status, count(*)::int AS n FROM "${t}" GROUP BY status`);
    expect(rows.rows).toEqual([{ status: 'completed', n: burst.tasks.length }]);
    // B converges to the database: every task it holds is completed, none orphaned.
    await until(
      async () => {
        const { tasks } = await b.call<{ tasks: TaskSummary[] }>('load', { thread: 'T' });
        return tasks.length === burst.tasks.length && tasks.every((s) => s.status === 'completed');
      },
      20_000,
      'B to hold every task completed',
    );
  }, 90_000);

  it('A stopped (SIGSTOP) past its lease, then resumed: the task ends once, A’s late completion is refused, A, B and the database agree', async () => {
    const t = newTable();
    const [a, b] = await Promise.all([start(t, { LEASE_MS: '3000', POLL_MS: '500' }), start(t)]);
    // The body ends once released, and the release is sent while A is stopped: it cannot end
    // before the stop however slow this machine is (a timer could), and on resuming its completion
    // is written at once, before A learns of the lapse (that takes its heartbeat's round trips).
    const task = await a.spawn({ thread: 'T', kind: 'gated', n: 0 });
    a.child.proc.kill('SIGSTOP');
    const released = a.call('release', { task }, 60_000);
    // Awaited once A runs again; if the test fails before, its timeout must not surface later.
    released.catch(() => undefined);
    await b.call('load', { thread: 'T' });
    expect((await b.get(task))?.status).toBe('running');
    await b.call('wait', { task });
    // Past A's lease by the database clock, B's load orphans the task.
    await until(
      async () =>
        (await b.call<{ tasks: TaskSummary[] }>('load', { thread: 'T' })).tasks[0]?.status === 'failed',
      15_000,
      'B to orphan the stalled task',
    );
    a.child.proc.kill('SIGCONT');
    await released;
    // A's memory says `completed` from its body's return until its write is refused, then converges.
    await until(
      async () => (await a.get(task))?.status === 'failed',
      15_000,
      'A to converge to the database',
    );
    // A may converge first through its heartbeat finding the epoch revoked; its late completion's
    // write is refused when it lands.
    await until(
      async () => (await a.call<{ refusals: number }>('stats')).refusals > 0,
      15_000,
      'A’s late completion refused',
    );
    const stats = await a.call<{ refusals: number }>('stats');
    expect(stats).toMatchObject({ refusals: 1 });
    const fromA = await a.get(task);
    const fromB = await b.get(task);
    expect(fromA).toMatchObject({ status: 'failed', error: ORPHAN_ERROR });
    expect(fromB).toEqual(fromA);
    const stored = await row(t, task);
    expect(stored?.status).toBe('failed');
    expect(b.seen('waited', task)).toEqual([{ t: 'waited', task, summary: fromB }]);
    // Exactly one terminal event, the orphaning, reached the thread's receiver.
    expect(await b.drain()).toEqual([{ kind: 'failed', task_id: task, error: ORPHAN_ERROR }]);
    expect(await a.drain()).toEqual([]);
  }, 60_000);

  it('A stopped (SIGSTOP) for 3 s, well inside its lease (and past the lock grace): nothing is orphaned, A keeps its epoch, its completion lands once', async () => {
    const t = newTable();
    // The default 30 s lease here; 100 ms heartbeats (30 missed) and a 1 s lock grace.
    const [a, b] = await Promise.all([start(t), start(t)]);
    const before = await a.call<{ epoch: string }>('stats');
    const task = await a.spawn({ thread: 'T', kind: 'gated', n: 0 });
    a.child.proc.kill('SIGSTOP');
    const stoppedAt = Date.now();
    const released = a.call('release', { task }, 60_000);
    released.catch(() => undefined);
    await b.call('load', { thread: 'T' });
    await b.call('wait', { task });
    // Throughout the stall B's loads see the task running on A: nobody orphans it.
    while (Date.now() - stoppedAt < 3_000) {
      const { tasks } = await b.call<{ tasks: TaskSummary[] }>('load', { thread: 'T' });
      expect(tasks.find((s) => s.task_id === task)?.status).toBe('running');
      await new Promise((r) => setTimeout(r, 100));
    }
    a.child.proc.kill('SIGCONT');
    await released;
    await until(
      async () => (await b.get(task))?.status === 'completed',
      15_000,
      'B to see the task completed',
    );
    const fromA = await a.get(task);
    expect(fromA).toMatchObject({ status: 'completed', result: { released: task } });
    expect(await b.get(task)).toEqual(fromA);
    expect((await row(t, task))?.status).toBe('completed');
    const after = await a.call<{ refusals: number; epoch: string }>('stats');
    expect(after).toMatchObject({ refusals: 0, epoch: before.epoch });
    // Exactly one terminal event, the completion, reached the thread's receiver.
    await until(() => b.seen('waited', task).length === 1, 15_000, 'B’s wait to resolve');
    expect(b.seen('waited', task)[0]).toMatchObject({ summary: { status: 'completed' } });
    // B resolves its wait when a refresh reads the completed row, and takes the thread's stored
    // events in a later statement of that refresh: the event can reach its inbox a moment after.
    const events: TaskEvent[] = [];
    await until(
      async () => {
        events.push(...(await b.drain()), ...(await a.drain()));
        return events.some((e) => e.task_id === task && e.kind !== 'custom');
      },
      15_000,
      'the terminal event in the thread’s receiver',
    );
    // Read again once it arrived: still that one event, on neither replica a second one.
    events.push(...(await b.drain()), ...(await a.drain()));
    expect(events).toEqual([{ kind: 'completed', task_id: task, result: { released: task } }]);
  }, 60_000);

  it('cancel on B aborts A’s body; cancelTree on B cascades over a tree spanning A and C; send_message from B reaches A’s sub-agent once', async () => {
    const t = newTable();
    const [a, b, c] = await Promise.all([start(t), start(t), start(t)]);
    const one = await a.spawn({ thread: 'T', kind: 'park' });
    const root = await a.spawn({ thread: 'T', kind: 'park' });
    const a2 = await a.spawn({ thread: 'T', kind: 'park', parent: root });
    const c1 = await c.spawn({ thread: 'T', kind: 'park', parent: root });
    const c2 = await c.spawn({ thread: 'T', kind: 'park', parent: c1 });
    const agent = await a.spawn({ thread: 'T', kind: 'agent', name: 'helper' });
    await b.call('load', { thread: 'T' });
    expect((await b.call<{ result: boolean }>('cancel', { task: one })).result).toBe(true);
    await b.call('wait', { task: one });
    await until(() => a.seen('aborted', one).length === 1, 10_000, "A's body to be aborted");
    await until(() => b.seen('waited', one).length === 1, 10_000, "B's wait to resolve");
    expect((b.seen('waited', one)[0]!.summary as TaskSummary).status).toBe('cancelled');

    expect((await b.call<{ result: number }>('cancelTree', { task: root })).result).toBe(4);
    for (const [r, id] of [
      [a, root],
      [a, a2],
      [c, c1],
      [c, c2],
    ] as const)
      await until(() => r.seen('aborted', id).length === 1, 10_000, `${id} to be aborted`);

    for (const content of ['one', 'two']) {
      const res = await b.call<{ outcome: { ok: boolean } }>('tool-send', {
        thread: 'T',
        name: 'helper',
        content,
      });
      expect(res.outcome.ok).toBe(true);
    }
    await until(() => a.seen('agent-msg', agent).length === 2, 10_000, 'both messages to arrive');
    expect(a.seen('agent-msg', agent).map((l) => l.content)).toEqual(['one', 'two']);
    // A body sees its abort before its owner writes the cancelled record, and B learns of that
    // record by notification and a refresh of its rows: B holds the tree ended only then.
    for (const id of [root, a2, c1, c2])
      await until(async () => (await b.get(id))?.status === 'cancelled', 10_000, `B to see ${id} cancelled`);
    // cancelAll from B counts the live remote task (the sub-agent) and stops it.
    expect((await b.call<{ result: number }>('cancelAll', { thread: 'T' })).result).toBe(1);
    await until(() => a.seen('aborted', agent).length === 1, 10_000, 'the sub-agent to be aborted');
  }, 60_000);

  it('cancelDescendantsForRun on B reaches the run on A, and the late-spawn fence holds on every replica', async () => {
    const t = newTable();
    const [a, b, c] = await Promise.all([start(t), start(t), start(t)]);
    const root = await a.spawn({ thread: 'T', kind: 'park', run: 'run-1' });
    const child = await c.spawn({ thread: 'T', kind: 'park', parent: root });
    await b.call('load', { thread: 'T' });
    expect((await b.call<{ result: number }>('cancelRun', { run: 'run-1' })).result).toBe(2);
    await until(() => a.seen('aborted', root).length === 1, 10_000, 'the run root on A to be aborted');
    await until(() => c.seen('aborted', child).length === 1, 10_000, 'its child on C to be aborted');
    for (const r of [a, c]) {
      const late = await r.call<Reply & { task?: string }>('spawn', {
        thread: 'T',
        kind: 'park',
        run: 'run-1',
      });
      expect(late).toMatchObject({ error: 'parent_cancelled' });
    }
    expect(await a.spawn({ thread: 'T', kind: 'park', run: 'run-2' })).toMatch(/^bg_/);
  }, 60_000);

  it('A’s task emits 10 events then completes: run 2 on B gets all 11 in order, run 3 on C none again; kill -9 after 5 emits: B gets 5 then the orphaned terminal', async () => {
    const t = newTable();
    const [a, b, c] = await Promise.all([start(t, { NO_INBOX: '1' }), start(t), start(t)]);
    const task = await a.spawn({ thread: 'T', kind: 'emit', n: 10, done: true });
    await until(async () => (await row(t, task))?.status === 'completed', 10_000, 'the task to complete');
    await b.call('load', { thread: 'T' });
    const got = await b.drain();
    expect(got).toEqual([
      ...Array.from({ length: 10 }, (_, i) => ({
        kind: 'custom',
        task_id: task,
        event_type: 'progress',
        payload: { i },
      })),
      { kind: 'completed', task_id: task, result: { emitted: 10 } },
    ]);
    await c.call('load', { thread: 'T' });
    expect(await c.drain()).toEqual([]);
    expect((await c.get(task))?.status).toBe('completed');

    const five = await a.spawn({ thread: 'U', kind: 'emit', n: 5 });
    await until(
      async () => (await pool.query(`SELECT 1 FROM "${t}_events" WHERE task_id = $1`, [five])).rowCount === 5,
      10_000,
      'five events stored',
    );
    a.child.proc.kill('SIGKILL');
    await a.child.closed;
    await until(
      async () =>
        (await b.call<{ tasks: TaskSummary[] }>('load', { thread: 'U' })).tasks[0]?.error === ORPHAN_ERROR,
      10_000,
      'B to orphan the killed replica’s task',
    );
    expect(await b.drain()).toEqual([
      ...Array.from({ length: 5 }, (_, i) => ({
        kind: 'custom',
        task_id: five,
        event_type: 'progress',
        payload: { i },
      })),
      { kind: 'failed', task_id: five, error: ORPHAN_ERROR },
    ]);
  }, 60_000);

  it('durable inboxes: events left unread in run 1’s inbox on A reach run 2 on B, and are handed to no other run', async () => {
    const t = newTable();
    const durable = { DURABLE: '1' };
    const [a, b, c] = await Promise.all([start(t, durable), start(t, durable), start(t, durable)]);
    await a.call('load', { thread: 'T' });
    const task = await a.spawn({ thread: 'T', kind: 'emit', n: 2, done: true });
    const stored = async () =>
      (await pool.query(`SELECT count(*)::int AS n FROM "${t}_events" WHERE task_id = $1`, [task])).rows[0].n;
    // Delivered into A's inbox, unread: still stored.
    await until(
      async () => (await row(t, task))?.status === 'completed' && (await stored()) === 3,
      10_000,
      'three stored events',
    );
    // A's claim, which took the events into A's inbox; B's load replaces it.
    const [{ claim: aClaim }] = (
      await pool.query<{ claim: string }>(`SELECT claim FROM "${t}_receivers" WHERE thread_id = 'T'`)
    ).rows as [{ claim: string }];
    await b.call('load', { thread: 'T' });
    expect(await b.drain()).toEqual([
      { kind: 'custom', task_id: task, event_type: 'progress', payload: { i: 0 } },
      { kind: 'custom', task_id: task, event_type: 'progress', payload: { i: 1 } },
      { kind: 'completed', task_id: task, result: { emitted: 2 } },
    ]);
    // Reading acknowledged them: consumed.
    await until(async () => (await stored()) === 0, 10_000, 'the events to be consumed');
    // A learns of B's claim by notification: from then on its inbox drops its unread copies.
    await until(
      async () => !(await a.call<{ current: boolean }>('claimed', { thread: 'T', claim: aClaim })).current,
      10_000,
      "A to hear of B's claim",
    );
    expect(await a.drain()).toEqual([]);
    await c.call('load', { thread: 'T' });
    expect(await c.drain()).toEqual([]);
  }, 60_000);

  it('the same name spawned concurrently on A and B: one wins, the other gets duplicate_name', async () => {
    const t = newTable();
    const [a, b] = await Promise.all([start(t), start(t)]);
    for (let i = 0; i < 10; i++) {
      const name = `dup-${i}`;
      const results = await Promise.all([
        a.call<Reply & { task?: string }>('spawn', { thread: 'T', kind: 'park', name }),
        b.call<Reply & { task?: string }>('spawn', { thread: 'T', kind: 'park', name }),
      ]);
      expect(results.filter((r) => r.task !== undefined)).toHaveLength(1);
      expect(results.filter((r) => r.error === 'duplicate_name')).toHaveLength(1);
    }
    const named = await pool.query(`SELECT count(*)::int AS n FROM "${t}" WHERE status = 'running'`);
    expect(named.rows[0].n).toBe(10);
  }, 60_000);

  it('a restarted process with the same instanceId orphans its previous life’s tasks at once, on every replica', async () => {
    const t = newTable();
    // The old life's lease is long: only the restart can end it (its lock is held while stopped).
    const old = await start(t, { INSTANCE_ID: 'pod-a', LEASE_MS: '60000' });
    const [b, c] = await Promise.all([start(t), start(t)]);
    const task = await old.spawn({ thread: 'T', kind: 'park' });
    await b.call('load', { thread: 'T' });
    await c.call('load', { thread: 'T' });
    old.child.proc.kill('SIGSTOP');
    await start(t, { INSTANCE_ID: 'pod-a', LEASE_MS: '60000' });
    // Without reloading, both replicas learn it (notification, or the poll as fallback).
    for (const r of [b, c])
      await until(
        async () => (await r.get(task))?.error === ORPHAN_ERROR,
        5_000,
        'the replica to see the orphaning',
      );
    expect((await row(t, task))?.status).toBe('failed');
  }, 60_000);
});
