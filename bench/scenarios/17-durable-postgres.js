// 17. Durable spawn → complete on PostgreSQL (DATABASE_URL) vs a minimal `SKIP LOCKED` job loop
// written here on the same pool, in waves of 200. The job loop: INSERT a job; 10 workers each take
// one with `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING`, run the body,
// mark it done (idle workers are woken in-process when a job is added). A durable task adds its
// row (input, idempotency index), the record's fenced put, one conditional claim, a steps read, the
// terminal put and the row's `done`. Both report add → start latency (add call → body start), mean
// and max, the way graphile-worker reports it.
import pg from 'pg';
import { defineTask } from '../../dist/src/index.js';
import { counter, fmt, interleave, now, row } from '../lib/measure.js';
import { countingSupervisor, OPTS } from '../lib/ours.js';

export const id = 17;
export const title = 'durable spawn → complete on PostgreSQL';
export const needsPostgres = true;

const WAVE = 200;
const WORKERS = 10;

const stats = () => ({ sum: 0, n: 0, max: 0 });
const lat = { ours: stats(), loop: stats() };
const note = (s, ms) => {
  s.sum += ms;
  s.n++;
  if (ms > s.max) s.max = ms;
};

async function durableWaves(pool, PostgresTaskStore, table, total) {
  const store = new PostgresTaskStore({ pool, table });
  const { supervisor, settled } = countingSupervisor(counter, { store });
  const job = defineTask({
    taskType: 'durable-bench',
    durable: { retry: { maximumAttempts: 3 } },
    run: async (_ctx, input) => {
      note(lat.ours, now() - input.at);
      return { ok: true };
    },
  });
  await supervisor.register(job);
  const t0 = now();
  for (let done = 0; done < total; done += WAVE) {
    const n = Math.min(WAVE, total - done);
    const spawns = new Array(n);
    for (let i = 0; i < n; i++)
      spawns[i] = job.spawn(supervisor, { threadId: OPTS.threadId, description: 'bench' }, { at: now() });
    await Promise.all(spawns);
    await settled.until(done + n);
  }
  const rate = (total / (now() - t0)) * 1000;
  await supervisor.stop();
  await store.close();
  return rate;
}

async function jobLoop(pool, table, total) {
  const t = `"${table}_jobs"`;
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${t} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       state text NOT NULL DEFAULT 'waiting', payload jsonb NOT NULL)`,
  );
  let completed = 0;
  let wake = [];
  let stop = false;
  const wakeAll = () => {
    const w = wake;
    wake = [];
    for (const r of w) r();
  };
  let allDone;
  const finished = new Promise((r) => {
    allDone = r;
  });
  const worker = async () => {
    while (!stop) {
      const res = await pool.query(
        `UPDATE ${t} SET state = 'running' WHERE id = (
           SELECT id FROM ${t} WHERE state = 'waiting' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id, payload`,
      );
      const job = res.rows[0];
      if (job === undefined) {
        if (stop) break;
        await new Promise((r) => wake.push(r));
        continue;
      }
      // A job found: there may be more, so parked workers look too (no lost wake-up).
      wakeAll();
      note(lat.loop, now() - job.payload.at);
      await pool.query(`UPDATE ${t} SET state = 'done' WHERE id = $1`, [job.id]);
      if (++completed === total) allDone();
    }
  };
  const workers = Array.from({ length: WORKERS }, worker);
  const t0 = now();
  for (let done = 0; done < total; done += WAVE) {
    const n = Math.min(WAVE, total - done);
    const adds = new Array(n);
    for (let i = 0; i < n; i++) {
      adds[i] = pool.query(`INSERT INTO ${t} (payload) VALUES ($1)`, [{ at: now() }]).then(wakeAll);
    }
    await Promise.all(adds);
    const target = done + n;
    while (completed < target) await new Promise((r) => setTimeout(r, 1));
  }
  await finished;
  const rate = (total / (now() - t0)) * 1000;
  stop = true;
  wakeAll();
  await Promise.all(workers);
  return rate;
}

export async function run({ trials, scale }) {
  const { PostgresTaskStore } = await import('../../dist/src/stores/postgres/index.js');
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
  const total = Math.round(2_000 * scale);
  const made = [];
  const table = () => {
    const t = `bench_dur_${process.pid}_${made.length}_${Date.now().toString(36)}`;
    made.push(t);
    return t;
  };
  try {
    const r = await interleave({
      trials,
      warmup: 1,
      baseline: () => jobLoop(pool, table(), total),
      ours: () => durableWaves(pool, PostgresTaskStore, table(), total),
    });
    const mean = (s) => s.sum / Math.max(1, s.n);
    return [
      row({
        scenario: `17 durable spawn→complete ${total / 1000}k on PostgreSQL vs a SKIP LOCKED job loop on the same pool (waves of ${WAVE})`,
        metric: 'throughput',
        unit: 'tasks/s',
        better: 'higher',
        baselineLabel: 'job loop',
        oursLabel: 'durable',
        ...r,
        note: `add→start latency: durable mean ${fmt(mean(lat.ours))} ms, max ${fmt(lat.ours.max)} ms; job loop mean ${fmt(mean(lat.loop))} ms, max ${fmt(lat.loop.max)} ms`,
      }),
    ];
  } finally {
    const suffixes = ['', '_leases', '_meta', '_epochs', '_events', '_control', '_receivers', '_runs'];
    for (const t of made) {
      const all = [...suffixes, '_durable', '_durable_steps', '_jobs'].map((s) => `"${t}${s}"`);
      await pool.query(`DROP TABLE IF EXISTS ${all.join(', ')}`);
      await pool.query(`DROP SEQUENCE IF EXISTS "${t}_lock_ids"`);
    }
    await pool.end();
  }
}
