// 8. Replicas on local PostgreSQL (DATABASE_URL): two stores in one process stand for replicas A
// and B (each its own pool, epoch, advisory lock and LISTEN connection; everything between them
// goes through the database).
//   a) cancel on B → A's body aborted, and b) an event emitted on A → B's owner inbox: p50 and p99
//      over 1,000 tries each (target p99 ≤ 50 ms); the baseline is the same on one in-memory supervisor.
//   c) spawn → complete throughput on PostgreSQL vs the memory store, waves of 1,000 (target ≥ 1/2).
import pg from 'pg';
import { createTaskSupervisor, MemoryTaskStore } from '../../dist/src/index.js';
import { counter, interleave, now, row } from '../lib/measure.js';
import { countingSupervisor, spawnWaves } from '../lib/ours.js';

export const id = 14;
export const title = 'replicas on PostgreSQL';
export const needsPostgres = true;

const url = () => process.env.DATABASE_URL;

function percentile(values, p) {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))];
}

async function withTables(fn) {
  const pool = new pg.Pool({ connectionString: url() });
  const made = [];
  const table = () => {
    const t = `bench_${process.pid}_${made.length}_${Date.now().toString(36)}`;
    made.push(t);
    return t;
  };
  try {
    return await fn(table);
  } finally {
    for (const t of made) {
      await pool.query(
        `DROP TABLE IF EXISTS ${['', '_leases', '_meta', '_epochs', '_events', '_control', '_receivers', '_runs'].map((s) => `"${t}${s}"`).join(', ')}`,
      );
      await pool.query(`DROP SEQUENCE IF EXISTS "${t}_lock_ids"`);
    }
    await pool.end();
  }
}

/** Sends each event to `onEvent` (a minimal InboxSender). */
const sink = (onEvent) => ({
  send(e) {
    onEvent(e);
    return true;
  },
  trySend(e) {
    return this.send(e);
  },
  isClosed: () => false,
  clone() {
    return this;
  },
  close() {},
});

async function latencies(PostgresTaskStore, table, tries) {
  const t = table();
  const storeA = new PostgresTaskStore({ connectionString: url(), table: t });
  const storeB = new PostgresTaskStore({ connectionString: url(), table: t });
  let onB = () => {};
  const a = createTaskSupervisor({ store: storeA });
  const b = createTaskSupervisor({ store: storeB, ownerInbox: sink((e) => onB(e)) });
  const opts = { threadId: 'bench', taskType: 'job', description: 'bench' };
  const aborted = new Map();
  const ids = [];
  for (let i = 0; i < tries; i++) {
    let hit;
    const p = new Promise((r) => {
      hit = r;
    });
    ids.push(
      await a.spawn(opts, async (ctx) => {
        ctx.signal.addEventListener('abort', () => hit(now()));
        await ctx.cancelled();
      }),
    );
    aborted.set(ids[i], p);
  }
  await b.loadThread('bench');
  const cancel = [];
  for (const id of ids) {
    const t0 = now();
    b.cancel(id);
    cancel.push((await aborted.get(id)) - t0);
  }
  // Events: one emitter task on A; B receives the thread (its loadThread claimed it).
  let emit;
  await a.spawn(opts, async (ctx) => {
    emit = (i) => ctx.emit('tick', { i });
    await ctx.cancelled();
  });
  await b.loadThread('bench');
  const event = [];
  for (let i = 0; i < tries; i++) {
    const got = new Promise((r) => {
      onB = (e) => {
        if (e.kind === 'custom' && e.payload.i === i) r(now());
      };
    });
    const t0 = now();
    emit(i);
    event.push((await got) - t0);
  }
  await a.stop().catch(() => {});
  await b.stop().catch(() => {});
  await storeA.close();
  await storeB.close();
  return { cancel, event };
}

async function localLatencies(tries) {
  let onInbox = () => {};
  const s = createTaskSupervisor({ ownerInbox: sink((e) => onInbox(e)) });
  const opts = { threadId: 'bench', taskType: 'job', description: 'bench' };
  const cancel = [];
  for (let i = 0; i < tries; i++) {
    let hit;
    const p = new Promise((r) => {
      hit = r;
    });
    const id = await s.spawn(opts, async (ctx) => {
      ctx.signal.addEventListener('abort', () => hit(now()));
      await ctx.cancelled();
    });
    const t0 = now();
    s.cancel(id);
    cancel.push((await p) - t0);
  }
  let emit;
  await s.spawn(opts, async (ctx) => {
    emit = (i) => ctx.emit('tick', { i });
    await ctx.cancelled();
  });
  const event = [];
  for (let i = 0; i < tries; i++) {
    const got = new Promise((r) => {
      onInbox = (e) => {
        if (e.kind === 'custom' && e.payload.i === i) r(now());
      };
    });
    const t0 = now();
    emit(i);
    event.push((await got) - t0);
  }
  await s.stop();
  return { cancel, event };
}

async function spawnRun(store, total) {
  // Opening (schema check, epoch, lock, LISTEN) is not part of the throughput.
  await store.load('bench-none');
  const { supervisor, settled } = countingSupervisor(counter, { store });
  const t0 = now();
  await spawnWaves(supervisor, settled, total, 1000);
  const rate = (total / (now() - t0)) * 1000;
  await supervisor.stop();
  await store.close?.();
  return rate;
}

export async function run({ trials, scale }) {
  const { PostgresTaskStore } = await import('../../dist/src/stores/postgres/index.js');
  return withTables(async (table) => {
    const tries = Math.max(50, Math.round(1000 * scale));
    const remote = await latencies(PostgresTaskStore, table, tries);
    const local = await localLatencies(tries);
    const rows = [];
    for (const [key, label] of [
      ['cancel', 'cancel on B → A body aborted'],
      ['event', 'emit on A → B owner inbox'],
    ]) {
      for (const p of [50, 99]) {
        const r = row({
          scenario: `14 ${label}, p${p} over ${tries} (ms)`,
          metric: 'latency',
          unit: 'ms',
          better: 'lower',
          baselineLabel: 'one process',
          oursLabel: 'across replicas',
          baseline: [percentile(local[key], p)],
          ours: [percentile(remote[key], p)],
        });
        if (p === 99) {
          r.target = 'p99 ≤ 50 ms';
          r.pass = r.ours.median <= 50;
        }
        rows.push(r);
      }
    }
    const total = Math.round(10_000 * scale);
    const r = await interleave({
      trials,
      warmup: 1,
      baseline: () => spawnRun(new MemoryTaskStore(), total),
      ours: () => spawnRun(new PostgresTaskStore({ connectionString: url(), table: table() }), total),
    });
    rows.push(
      row({
        scenario: `14 spawn→complete ${total / 1000}k on PostgreSQL vs memory store (waves of 1,000)`,
        metric: 'throughput',
        unit: 'tasks/s',
        better: 'higher',
        baselineLabel: 'memory',
        oursLabel: 'postgres',
        ...r,
        target: { op: '>=', value: 0.5, label: '1/2' },
      }),
    );
    return rows;
  });
}
