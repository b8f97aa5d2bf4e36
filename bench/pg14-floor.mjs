// Probe (not a scenario): the floor under scenario 14's ratio. Per wave of 1,000 tasks, the
// PostgreSQL path must land one statement of `running` rows before the bodies start and one of
// terminal rows before the events are delivered. This probe times, in one run:
//   mem    the memory store's spawn → complete, waves of 1,000 (scenario 14's baseline);
//   pg     the same on PostgresTaskStore, as shipped;
//   floor  those two statements per wave and nothing else: a bare multi-row INSERT of the running
//          records, then a bare UPDATE to their terminal records (same table, same indexes, the
//          records the pg rounds stored), from one connection, with no process-side work at all.
// mem ÷ floor is the highest ratio this schema allows even if the process cost nothing and every
// fence, event and notification were free.
//   DATABASE_URL=… node --expose-gc bench/pg14-floor.mjs [tasks=10000] [rounds=5]
import pg from 'pg';
import { MemoryTaskStore } from '../dist/src/index.js';
import { PostgresTaskStore } from '../dist/src/stores/postgres/index.js';
import { counter, now, settleHeap } from './lib/measure.js';
import { serverCpuMs } from './lib/pgCpu.js';
import { countingSupervisor, spawnWaves } from './lib/ours.js';

const total = Number(process.argv[2] ?? 10000);
const rounds = Number(process.argv[3] ?? 5);
const WAVE = 1000;
const app = `pgfloor_${process.pid}`;
const url = new URL(process.env.DATABASE_URL);
url.searchParams.set('application_name', app);
const admin = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const tables = [];

const serverTicks = () => serverCpuMs(admin, app);

/** Records as scenario 14 stores them: running, then terminal, taken from a pg round's table. */
let sample;

async function round(kind) {
  const table = `floor_${process.pid}_${tables.length}`;
  tables.push(table);
  const store =
    kind === 'mem' ? new MemoryTaskStore() : new PostgresTaskStore({ connectionString: url.href, table });
  await store.load('bench-none');
  if (kind === 'floor') return floorRound(store, table);
  const { supervisor, settled } = countingSupervisor(counter, { store });
  await settleHeap();
  const s0 = kind === 'pg' ? await serverTicks() : 0;
  const t0 = now();
  await spawnWaves(supervisor, settled, total, WAVE);
  const wall = now() - t0;
  const s1 = kind === 'pg' ? await serverTicks() : 0;
  if (kind === 'pg' && sample === undefined) {
    const r = await admin.query(`SELECT record FROM "${table}" ORDER BY seq LIMIT 1`);
    const done = JSON.parse(r.rows[0].record);
    const { result: _r, completed_at_ms: _c, ...running } = done;
    sample = { running: { ...running, status: 'running' }, done };
  }
  await supervisor.stop();
  await store.close?.();
  return { wall, server: s1 - s0 };
}

async function floorRound(store, table) {
  const client = new pg.Client({ connectionString: url.href });
  await client.connect();
  const ids = Array.from({ length: total }, (_, i) => `bg_${i}`);
  const rec = (id, r) => JSON.stringify({ ...r, task_id: id });
  await settleHeap();
  const s0 = await serverTicks();
  const t0 = now();
  for (let w = 0; w < total; w += WAVE) {
    const wave = ids.slice(w, w + WAVE);
    await client.query(
      `INSERT INTO "${table}" (task_id, owner_thread_id, status, record, writer, owner_epoch)
       SELECT id, 'bench-thread', 'running', r, 'w', 'e' FROM unnest($1::text[], $2::text[]) AS d(id, r)`,
      [wave, wave.map((id) => rec(id, sample.running))],
    );
    await client.query(
      `UPDATE "${table}" t SET status = 'completed', record = d.r, writer = 'w'
       FROM unnest($1::text[], $2::text[]) AS d(id, r) WHERE t.task_id = d.id AND t.status = 'running'`,
      [wave, wave.map((id) => rec(id, sample.done))],
    );
  }
  const wall = now() - t0;
  const s1 = await serverTicks();
  await client.end();
  await store.close?.();
  return { wall, server: s1 - s0 };
}

const kinds = ['mem', 'pg', 'floor'];
const out = { mem: [], pg: [], floor: [] };
for (const k of kinds) await round(k);
for (let i = 0; i < rounds; i++) for (const k of kinds) out[k].push(await round(k));
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const wall = {};
for (const k of kinds) {
  const r = out[k];
  wall[k] = med(r.map((x) => x.wall));
  console.log(
    `${k.padEnd(5)} wall ${wall[k].toFixed(0)} ms, server cpu ${med(r.map((x) => x.server)).toFixed(0)} ms per ${total} tasks   [${r.map((x) => `${x.wall.toFixed(0)}/${x.server}`).join(' ')}]`,
  );
}
console.log(
  `mem ÷ pg ${(wall.mem / wall.pg).toFixed(2)} (scenario 14's ratio); mem ÷ floor ${(wall.mem / wall.floor).toFixed(2)} (the most this schema allows)`,
);
for (const t of tables) {
  await admin.query(
    `DROP TABLE IF EXISTS ${['', '_leases', '_meta', '_epochs', '_events', '_control', '_receivers', '_runs', '_durable', '_durable_steps'].map((s) => `"${t}${s}"`).join(', ')}`,
  );
  await admin.query(`DROP SEQUENCE IF EXISTS "${t}_lock_ids"`);
}
await admin.end();
