import { afterAll, describe, expect, it } from 'vitest';
import { type Replica, replicaChildren } from '../helpers/replicaChild.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';

requirePostgres('test/integration/postgres-flow-replicas.test.ts');

/** The most intervals open at once (an end at the same instant as a start closes first). */
function maxOverlap(intervals: readonly { start: number; end: number }[]): number {
  const points = intervals.flatMap((i) => [
    { at: i.start, d: 1 },
    { at: i.end, d: -1 },
  ]);
  points.sort((a, b) => a.at - b.at || a.d - b.d);
  let open = 0;
  let max = 0;
  for (const p of points) {
    open += p.d;
    max = Math.max(max, open);
  }
  return max;
}

describe.skipIf(!pgUrl)('flow control across PostgreSQL replicas (issue 23)', () => {
  const db = pgSuite();
  const { pool } = db;
  const tables: string[] = [];
  // Runs before pgSuite's cleanup (after-hooks run last registered first).
  afterAll(async () => {
    for (const t of tables) await pool.query(`DROP TABLE IF EXISTS "${t}_slots", "${t}_ledger"`);
  });
  const replicas = replicaChildren('flow-replicas');

  const newTable = async () => {
    const t = db.table('flow');
    tables.push(t);
    await pool.query(
      `CREATE TABLE "${t}_ledger" (task_id text PRIMARY KEY, pid int NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz)`,
    );
    return t;
  };
  const start = (table: string, env: Record<string, string> = {}) =>
    replicas.launch('flow-replica-child.mjs', {
      DATABASE_URL: pgUrl!,
      TABLE: table,
      LEDGER: `${table}_ledger`,
      LIMIT: '3',
      ...env,
    });

  it('a type limit of 3 holds across two replicas spawning 100 tasks while one is SIGKILLed; the survivor completes all its tasks', async () => {
    const t = await newTable();
    // B's bodies run longer, so B holds slots when it is killed. A's are long enough that A still
    // has work left once B's slots come back (a lock grace and a reap after the kill): at 40 ms a
    // late kill on a loaded machine could leave A with fewer than three tasks by then.
    const [a, b] = await Promise.all([start(t, { SLEEP_MS: '100' }), start(t, { SLEEP_MS: '300' })]);
    const [spawnedA, spawnedB] = await Promise.all([
      a.callOk<{ tasks: string[] }>('spawnMany', { thread: 'TA', n: 50 }),
      b.callOk<{ tasks: string[] }>('spawnMany', { thread: 'TB', n: 50 }),
    ]);
    expect(spawnedA.tasks).toHaveLength(50);
    expect(spawnedB.tasks).toHaveLength(50);
    // Kill B while it holds shared slots and a body of its own is running, as the database records
    // them (a slot is taken before its body writes its ledger row, so the slots alone do not say it).
    // The slots table is made by the first slot taken, which may come after the spawns returned.
    const slotsMade = async () =>
      (await pool.query('SELECT to_regclass($1) IS NOT NULL AS ok', [`"${t}_slots"`])).rows[0].ok === true;
    await until(
      async () =>
        (await slotsMade()) &&
        (
          await pool.query(
            `SELECT (SELECT count(*)::int FROM "${t}_slots" WHERE epoch = $1) >= 2
                AND EXISTS (SELECT 1 FROM "${t}_ledger" WHERE pid = $2 AND ended_at IS NULL) AS ok`,
            [b.readyEpoch, b.child.proc.pid],
          )
        ).rows[0].ok === true,
      20_000,
      'B to hold slots with a body running',
    );
    b.child.proc.kill('SIGKILL');
    await b.child.closed.catch(() => undefined);
    // Every statement of B ended before this instant (its process is gone).
    const killedAt = Number(
      (await pool.query(`SELECT extract(epoch FROM clock_timestamp()) * 1000 AS at`)).rows[0].at,
    );
    const { statuses } = await a.callOk<{ statuses: string[] }>('waitAll', {}, 60_000);
    expect(statuses).toEqual(Array(50).fill('completed'));

    const ledger = (
      await pool.query<{ task_id: string; pid: number; s: string; e: string | null }>(
        `SELECT task_id, pid, extract(epoch FROM started_at) * 1000 AS s, extract(epoch FROM ended_at) * 1000 AS e
         FROM "${t}_ledger"`,
      )
    ).rows;
    // A body of B still running when B died ran until then at most.
    const intervals = ledger.map((r) => ({ start: Number(r.s), end: r.e === null ? killedAt : Number(r.e) }));
    const cutOff = ledger.filter((r) => r.pid === b.child.proc.pid && r.e === null);
    expect(cutOff.length).toBeGreaterThanOrEqual(1);
    expect(ledger.filter((r) => r.pid === a.child.proc.pid)).toHaveLength(50);
    expect(maxOverlap(intervals)).toBe(3);
    // B's slots came back: after the kill A alone ran three bodies at once.
    const afterKill = intervals.filter((i, k) => ledger[k]!.pid === a.child.proc.pid && i.start > killedAt);
    expect(maxOverlap(afterKill)).toBe(3);
  }, 120_000);

  it('provideInput on another replica resumes a waiting task exactly once; phase and input_request are in the record', async () => {
    const t = await newTable();
    const [a, b] = await Promise.all([start(t), start(t)]);
    const { task } = await a.callOk<{ task: string }>('ask', { thread: 'TQ' });
    await a.callOk('wait', { task });
    // The record says the task waits, and what it asked.
    await until(
      async () => {
        const row = (await pool.query(`SELECT record FROM "${t}" WHERE task_id = $1`, [task])).rows[0];
        const rec = row === undefined ? undefined : JSON.parse(row.record);
        return rec?.phase === 'waiting' && rec?.input_request?.question === 'go on?';
      },
      20_000,
      'the waiting record',
    );
    await b.callOk('load', { thread: 'TQ' });
    const seen = await b.callOk<{ summary: Record<string, unknown> | null }>('get', { task });
    expect(seen.summary).toMatchObject({
      status: 'running',
      phase: 'waiting',
      input_request: { question: 'go on?' },
    });
    // Answered on B: routed to A, which owns the task; a second answer from B is refused.
    expect((await b.callOk<{ ok: boolean }>('provide', { task, response: 'yes' })).ok).toBe(true);
    expect((await b.callOk<{ ok: boolean }>('provide', { task, response: 'no' })).ok).toBe(false);
    await until(() => a.lines.some((l) => l.t === 'waited' && l.task === task), 20_000, 'the task to end');
    const waited = a.lines.find((l) => l.t === 'waited' && l.task === task)!.summary as Record<
      string,
      unknown
    >;
    expect(waited).toMatchObject({ status: 'completed', result: { answer: 'yes' } });
    expect(waited.phase).toBeUndefined();
    expect(waited.input_request).toBeUndefined();
    // Already answered: A refuses its own late answer too.
    expect((await a.callOk<{ ok: boolean }>('provide', { task, response: 'late' })).ok).toBe(false);
    const stored = JSON.parse(
      (await pool.query(`SELECT record FROM "${t}" WHERE task_id = $1`, [task])).rows[0].record,
    );
    expect(stored).toMatchObject({ status: 'completed', result: { answer: 'yes' } });
    expect(stored.input_request).toBeUndefined();
  }, 60_000);

  it('a durable task waiting for input survives its replica being SIGKILLed and restarted, and an answer on the other replica resumes it', async () => {
    const t = await newTable();
    const a = await start(t, { DURABLE: '1' });
    const b = await start(t, { DURABLE: '1' });
    const { task } = await a.callOk<{ task: string }>('askDurable', { thread: 'TD' });
    await until(() => a.lines.some((l) => l.t === 'asking' && l.task === task), 20_000, 'attempt 1 to ask');
    const record = async () => {
      const row = (await pool.query(`SELECT record, owner_epoch FROM "${t}" WHERE task_id = $1`, [task]))
        .rows[0];
      return { rec: JSON.parse(row.record), owner: row.owner_epoch as string };
    };
    await until(async () => (await record()).rec.phase === 'waiting', 20_000, 'the waiting record');
    a.child.proc.kill('SIGKILL');
    await a.child.closed.catch(() => undefined);
    const a2 = await start(t, { DURABLE: '1' });
    // A replica takes the task up again (the restarted one or B): its next attempt asks again.
    await until(
      () => [a2, b].some((r) => r.lines.some((l) => l.t === 'asking' && l.task === task)),
      30_000,
      'the next attempt to ask',
    );
    await until(
      async () => {
        const { rec, owner } = await record();
        return (
          rec.phase === 'waiting' && rec.input_request?.question === 'ship it?' && owner !== a.readyEpoch
        );
      },
      20_000,
      'the task waiting again',
    );
    const { owner } = await record();
    const runner = owner === b.readyEpoch ? b : a2;
    const other = runner === b ? a2 : b;
    expect([a2.readyEpoch, b.readyEpoch]).toContain(owner);
    await runner.callOk('wait', { task });
    await other.callOk('load', { thread: 'TD' });
    expect(
      (await other.callOk<{ summary: Record<string, unknown> | null }>('get', { task })).summary,
    ).toMatchObject({
      status: 'running',
      phase: 'waiting',
    });
    expect((await other.callOk<{ ok: boolean }>('provide', { task, response: 'ship' })).ok).toBe(true);
    await until(
      () => runner.lines.some((l) => l.t === 'waited' && l.task === task),
      20_000,
      'the task to end',
    );
    const waited = runner.lines.find((l) => l.t === 'waited' && l.task === task)!.summary as Record<
      string,
      unknown
    >;
    expect(waited).toMatchObject({ status: 'completed', result: { answer: 'ship', attempt: 2 } });
  }, 90_000);

  it('an answer routed for an earlier request is dropped by the owner: the task asked again, only an answer to the new request resumes it', async () => {
    const t = await newTable();
    const [a, b] = await Promise.all([start(t), start(t)]);
    const { task } = await a.callOk<{ task: string }>('askTwice', { thread: 'T2' });
    await a.callOk('wait', { task });
    await b.callOk('load', { thread: 'T2' });
    const waitingOn = async (r: Replica, q: number) =>
      until(
        async () => {
          const s = (await r.callOk<{ summary: Record<string, unknown> | null }>('get', { task })).summary;
          return s?.phase === 'waiting' && (s.input_request as { q?: number } | undefined)?.q === q;
        },
        20_000,
        `B to see the task waiting on q${q}`,
      );
    await waitingOn(b, 1);
    expect((await b.callOk<{ ok: boolean }>('provide', { task, response: 'one' })).ok).toBe(true);
    await waitingOn(b, 2);
    // A late answer to the first request (as a replica with a stale view would record it).
    await pool.query(`INSERT INTO "${t}_control" (epoch, task_id, kind, body) VALUES ($1, $2, 'input', $3)`, [
      a.readyEpoch,
      task,
      JSON.stringify({ response: 'stale', request: { q: 1 } }),
    ]);
    await pool.query('SELECT pg_notify($1, $2)', [
      `awaken-tasks:${t}`,
      JSON.stringify({ k: 'c', e: a.readyEpoch }),
    ]);
    await until(
      async () => (await pool.query(`SELECT count(*)::int AS n FROM "${t}_control"`)).rows[0].n === 0,
      20_000,
      'A to take the stale answer',
    );
    expect(
      (await a.callOk<{ summary: Record<string, unknown> | null }>('get', { task })).summary,
    ).toMatchObject({
      phase: 'waiting',
      input_request: { q: 2 },
    });
    expect((await b.callOk<{ ok: boolean }>('provide', { task, response: 'two' })).ok).toBe(true);
    await until(() => a.lines.some((l) => l.t === 'waited' && l.task === task), 20_000, 'the task to end');
    const waited = a.lines.find((l) => l.t === 'waited' && l.task === task)!.summary as Record<
      string,
      unknown
    >;
    expect(waited).toMatchObject({ status: 'completed', result: { first: 'one', second: 'two' } });
  }, 60_000);
});
