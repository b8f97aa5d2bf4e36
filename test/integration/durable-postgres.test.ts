import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOST_ATTEMPT_ERROR } from '../../src/index.js';
import { buildDist, type Child, startChild, untilChild } from '../fixtures/childProcess.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';

requirePostgres('test/integration/durable-postgres.test.ts');

type Line = { t: string; [k: string]: unknown };
type Ledger = { task_id: string; attempt: number; pid: number };
type Stored = { task_id: string; status: string; record: Record<string, unknown> };

const LOST = `attempt 1: ${LOST_ATTEMPT_ERROR}`;

describe.skipIf(!pgUrl)('durable tasks across PostgreSQL replicas (issue 21)', () => {
  const db = pgSuite({ max: 4 });
  const { pool } = db;
  const tables: string[] = [];
  let dist = '';
  let children: Child[] = [];

  beforeAll(() => {
    dist = buildDist('durable-pg');
  }, 120_000);
  afterEach(async () => {
    for (const c of children) {
      c.proc.kill('SIGCONT');
      c.proc.kill('SIGKILL');
    }
    await Promise.all(children.map((c) => c.closed.catch(() => undefined)));
    children = [];
  });
  // Runs before pgSuite's cleanup (after-hooks run last registered first).
  afterAll(async () => {
    for (const t of tables) await pool.query(`DROP TABLE IF EXISTS "${t}_ledger"`);
  });

  const newTable = () => {
    const t = db.table('dpg');
    tables.push(t);
    return t;
  };
  const start = async (table: string, env: Record<string, string>): Promise<Child> => {
    const child = startChild('durable-pg-child.mjs', {
      AWAKEN_DIST: dist,
      DATABASE_URL: pgUrl!,
      TABLE: table,
      ...env,
    });
    children.push(child);
    await untilChild(
      child,
      () => child.lines.some((l) => (l as Line).t === 'ready'),
      20_000,
      'replica ready',
    );
    return child;
  };
  const lines = (c: Child, t: string) => (c.lines as Line[]).filter((l) => l.t === t);
  const ledger = async (table: string) =>
    (
      await pool.query<Ledger>(
        `SELECT task_id, attempt, pid FROM "${table}_ledger" ORDER BY task_id, attempt`,
      )
    ).rows;
  const stored = async (table: string, thread = 'd'): Promise<Stored[]> =>
    (
      await pool.query<{ task_id: string; status: string; record: string }>(
        `SELECT task_id, status, record FROM "${table}" WHERE owner_thread_id = $1 ORDER BY seq`,
        [thread],
      )
    ).rows.map((r) => ({ ...r, record: JSON.parse(r.record) as Record<string, unknown> }));
  const allCompleted = (table: string, n: number) => async () => {
    const rows = await stored(table);
    return rows.length === n && rows.every((r) => r.status === 'completed');
  };

  it('SIGKILL mid-body: a live replica claims the dead one’s tasks, retries and completes them; each attempt started once', async () => {
    const table = newTable();
    const b = await start(table, { MODE: 'hang1' });
    const a = await start(table, { MODE: 'hang1', SPAWN: '1', TASKS: '5' });
    await untilChild(a, () => lines(a, 'started').length === 5, 20_000, 'five attempts started on A');
    a.proc.kill('SIGKILL');
    await a.closed;
    await until(allCompleted(table, 5), 20_000, 'every task completed by B');
    const rows = await stored(table);
    for (const r of rows) {
      expect(r.record).toMatchObject({ attempt: 2, attempt_errors: [LOST] });
      expect(r.record.result).toMatchObject({ attempt: 2, pid: b.proc.pid });
    }
    expect(await ledger(table)).toEqual(
      rows
        .flatMap((r) => [
          { task_id: r.task_id, attempt: 1, pid: a.proc.pid },
          { task_id: r.task_id, attempt: 2, pid: b.proc.pid },
        ])
        .sort((x, y) => (x.task_id < y.task_id ? -1 : x.task_id > y.task_id ? 1 : x.attempt - y.attempt)),
    );
    // The durable row is marked done after the terminal record lands (a second statement), so the
    // stored `completed` above can be seen a moment before it: wait for it rather than race it.
    const open = async () =>
      (await pool.query(`SELECT count(*)::int AS n FROM "${table}_durable" WHERE state <> 'done'`)).rows[0].n;
    await until(async () => (await open()) === 0, 20_000, 'every durable row done');
    expect(await open()).toBe(0);
  }, 60_000);

  it('a restarted process (same instanceId) re-enqueues its previous life’s durable tasks at register', async () => {
    const table = newTable();
    const a = await start(table, { MODE: 'hang1', SPAWN: '1', TASKS: '3', INSTANCE: 'proc-a' });
    await untilChild(a, () => lines(a, 'started').length === 3, 20_000, 'three attempts started');
    a.proc.kill('SIGKILL');
    await a.closed;
    expect((await stored(table)).map((r) => r.status)).toEqual(['running', 'running', 'running']);
    const again = await start(table, { MODE: 'hang1', INSTANCE: 'proc-a' });
    expect(lines(again, 'registered')).toEqual([{ t: 'registered', taken: 3 }]);
    await until(allCompleted(table, 3), 20_000, 'every task completed after the restart');
    expect((await ledger(table)).map((l) => [l.attempt, l.pid])).toEqual(
      [1, 2, 3].flatMap(() => [
        [1, a.proc.pid],
        [2, again.proc.pid],
      ]),
    );
  }, 60_000);

  it('SIGKILL after the body returned, before its completion was written: one more attempt, one outcome', async () => {
    const table = newTable();
    const a = await start(table, { MODE: 'after-return', SPAWN: '1', KILL_ON_TERMINAL: '1', INSTANCE: 'p' });
    await a.closed;
    expect(a.proc.signalCode).toBe('SIGKILL');
    expect((await stored(table)).map((r) => r.status)).toEqual(['running']);
    const again = await start(table, { MODE: 'after-return', INSTANCE: 'p' });
    await until(allCompleted(table, 1), 20_000, 'completed by the next life');
    const [r] = await stored(table);
    expect(r!.record.result).toMatchObject({ attempt: 2, pid: again.proc.pid });
    expect((await ledger(table)).map((l) => [l.attempt, l.pid])).toEqual([
      [1, a.proc.pid],
      [2, again.proc.pid],
    ]);
  }, 60_000);

  it('a poison task that kills its process every time ends failed after maximumAttempts, with each error', async () => {
    const table = newTable();
    const env = { MODE: 'poison', MAX_ATTEMPTS: '3', INSTANCE: 'poison' };
    const lives: Child[] = [];
    const life = (extra: Record<string, string> = {}) => {
      const c = startChild('durable-pg-child.mjs', {
        AWAKEN_DIST: dist,
        DATABASE_URL: pgUrl!,
        TABLE: table,
        ...env,
        ...extra,
      });
      children.push(c);
      lives.push(c);
      return c;
    };
    await life({ SPAWN: '1' }).closed;
    for (let i = 0; i < 2; i++) await life().closed;
    // Three lives killed by attempts 1–3, then one that records attempt 3 as lost and ends it.
    expect(lives.map((l) => l.proc.signalCode)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL']);
    const last = life();
    await until(async () => (await stored(table))[0]?.status === 'failed', 20_000, 'failed');
    expect(last.proc.signalCode).toBe(null);
    expect((last.lines as Line[]).filter((l) => l.t === 'started')).toEqual([]);
    const [r] = await stored(table);
    const errors = [1, 2, 3].map((n) => `attempt ${n}: ${LOST_ATTEMPT_ERROR}`);
    expect(r!.record).toMatchObject({ attempt: 3, attempt_errors: errors, error: errors[2] });
    expect((await ledger(table)).map((l) => l.attempt)).toEqual([1, 2, 3]);
  }, 60_000);

  it('three replicas race to claim a dead replica’s 200 tasks: every task completes, no attempt twice, no result overwritten', async () => {
    const table = newTable();
    const racers = await Promise.all([1, 2, 3].map(() => start(table, { MODE: 'work' })));
    const dead = await start(table, { MODE: 'hang', SPAWN: '1', TASKS: '200' });
    await untilChild(dead, () => lines(dead, 'started').length === 200, 40_000, '200 attempts started');
    dead.proc.kill('SIGKILL');
    await dead.closed;
    await until(allCompleted(table, 200), 40_000, 'all 200 completed');
    const led = await ledger(table);
    // UNIQUE (task_id, attempt) held: exactly attempts 1 (the dead replica) and 2 (one racer).
    expect(led).toHaveLength(400);
    const second = new Map(led.filter((l) => l.attempt === 2).map((l) => [l.task_id, l.pid]));
    const racerPids = new Set(racers.map((r) => r.proc.pid));
    for (const r of await stored(table)) {
      expect(r.record.attempt).toBe(2);
      // The result is the one of the attempt the ledger recorded: nobody overwrote it.
      expect((r.record.result as { pid: number }).pid).toBe(second.get(r.task_id));
      expect(racerPids.has(second.get(r.task_id)!)).toBe(true);
    }
    const started = racers.map((r) => lines(r, 'started').length);
    expect(started.reduce((x, y) => x + y, 0)).toBe(200);
    console.log(`200 tasks of a dead replica claimed by three racers: ${started.join(' / ')}`);
  }, 60_000);

  it('50 concurrent spawns with one idempotency key across two replicas make one task', async () => {
    const table = newTable();
    const [a, b] = await Promise.all([start(table, { MODE: 'work' }), start(table, { MODE: 'work' })]);
    a.send({ cmd: 'keyspawn', n: 25, key: 'order-9' });
    b.send({ cmd: 'keyspawn', n: 25, key: 'order-9' });
    await until(() => lines(a, 'keyspawned').length + lines(b, 'keyspawned').length === 2, 20_000);
    const got = [...lines(a, 'keyspawned'), ...lines(b, 'keyspawned')].flatMap(
      (l) => l.got as { taskId?: string; created?: boolean; error?: string }[],
    );
    expect(got.filter((g) => g.error !== undefined)).toEqual([]);
    expect(new Set(got.map((g) => g.taskId)).size).toBe(1);
    expect(got.filter((g) => g.created)).toHaveLength(1);
    await until(async () => (await stored(table, 'k')).every((r) => r.status === 'completed'), 20_000);
    expect(await stored(table, 'k')).toHaveLength(1);
    expect(await ledger(table)).toHaveLength(1);
  }, 60_000);

  it('a replica SIGSTOPped past its lease and resumed: its late checkpoint and result are refused; store, both replicas and the owner inbox agree', async () => {
    const table = newTable();
    // Only A's lease can end its life while it is stopped (its lock stays held): a short one.
    const a = await start(table, { MODE: 'stall', SPAWN: '1', TASKS: '1', INBOX: '1', LEASE_MS: '3000' });
    await untilChild(a, () => lines(a, 'started').length === 1, 20_000, 'attempt 1 started');
    const b = await start(table, { MODE: 'stall', INBOX: '1' });
    a.proc.kill('SIGSTOP');
    await until(allCompleted(table, 1), 20_000, 'B completed attempt 2');
    a.proc.kill('SIGCONT');
    await untilChild(a, () => lines(a, 'refused').length === 1, 20_000, 'A’s late write refused');
    expect(lines(a, 'refused')[0]!.error).toBe('AttemptFencedError');
    const [r] = await stored(table);
    expect(r!.record.result).toMatchObject({ attempt: 2, pid: b.proc.pid });
    const tick = await pool.query<{ value: string }>(
      `SELECT value FROM "${table}_durable_steps" WHERE name = 'checkpoint:tick'`,
    );
    expect(JSON.parse(tick.rows[0]!.value)).toEqual({ pid: b.proc.pid, i: -1 });
    // A's body returned after the refusal: its terminal record is refused by the store's fence,
    // and A's memory converges to the stored outcome (B's result), as replicas agree.
    let status: Line | undefined;
    await until(
      async () => {
        a.send({ cmd: 'status', task: r!.task_id });
        await untilChild(a, () => lines(a, 'status').length > 0, 5_000, 'A status');
        const all = a.lines as Line[];
        status = all.splice(
          all.findIndex((l) => l.t === 'status'),
          1,
        )[0];
        const result = status!.result as { pid?: number } | null;
        return status!.status === 'completed' && result?.pid === b.proc.pid;
      },
      20_000,
      'A’s memory converged to the stored outcome',
    );
    expect(status).toMatchObject({ status: 'completed', result: { attempt: 2, pid: b.proc.pid } });
    // A's terminal write is refused (refusals ≥ 1), unless A's revocation handler read the stored
    // outcome and converged before its body returned (then it writes nothing): either way the
    // stored result stays B's, checked below.
    console.log(`A's store refusals: ${String(status!.refusals)}`);
    const [after] = await stored(table);
    expect(after!.status).toBe('completed');
    expect(after!.record.result).toMatchObject({ attempt: 2, pid: b.proc.pid });
    expect((await ledger(table)).map((l) => [l.attempt, l.pid])).toEqual([
      [1, a.proc.pid],
      [2, b.proc.pid],
    ]);
    // The owner inbox (whichever replica receives thread `d`): exactly one terminal event for the
    // task, the stored outcome; B's memory agrees too.
    const inboxOf = async (c: Child) => {
      const before = lines(c, 'inbox').length;
      c.send({ cmd: 'inbox' });
      await untilChild(c, () => lines(c, 'inbox').length > before, 5_000, 'inbox read');
      const events = lines(c, 'inbox').at(-1)!.events as {
        kind: string;
        task_id: string;
        result?: unknown;
      }[];
      return events.filter((e) => e.task_id === r!.task_id && e.kind !== 'progress' && e.kind !== 'update');
    };
    let terminal: { kind: string; task_id: string; result?: unknown }[] = [];
    await until(
      async () => {
        terminal = [...(await inboxOf(a)), ...(await inboxOf(b))].filter((e) =>
          ['completed', 'failed', 'cancelled'].includes(e.kind),
        );
        return terminal.length > 0;
      },
      20_000,
      'the terminal event delivered to the owner inbox',
    );
    expect(terminal).toEqual([
      { kind: 'completed', task_id: r!.task_id, result: { n: 0, attempt: 2, pid: b.proc.pid } },
    ]);
    b.send({ cmd: 'status', task: r!.task_id });
    await untilChild(b, () => lines(b, 'status').length > 0, 5_000, 'B status');
    expect(lines(b, 'status')[0]).toMatchObject({
      status: 'completed',
      result: { attempt: 2, pid: b.proc.pid },
    });
    // Read again after both replicas settled: still exactly that one terminal event.
    const [inA, inB] = [await inboxOf(a), await inboxOf(b)];
    expect([...inA, ...inB].filter((e) => ['completed', 'failed', 'cancelled'].includes(e.kind))).toEqual(
      terminal,
    );
    console.log(`terminal event delivered to ${inA.length > 0 ? 'A (the stalled spawner)' : 'B'}`);
  }, 60_000);
});
