// Probe (not a scenario): spawn→complete on PostgreSQL vs memory, with the CPU time each side
// spends (this process, and the PostgreSQL backends serving it, read from /proc), per 10k tasks.
// Wall time on a loaded machine is noisy; CPU time is what the ratio is made of there.
//   DATABASE_URL=… node --expose-gc bench/pg14-probe.mjs [tasks=10000] [rounds=3]
// PROBE_ONLY=pg (or mem) runs one side only (for a CPU profile of it).
import pg from 'pg';
import { MemoryTaskStore } from '../dist/src/index.js';
import { PostgresTaskStore } from '../dist/src/stores/postgres/index.js';
import { counter, now, settleHeap } from './lib/measure.js';
import { serverCpuMs } from './lib/pgCpu.js';
import { countingSupervisor, spawnWaves } from './lib/ours.js';

const total = Number(process.argv[2] ?? 10000);
const rounds = Number(process.argv[3] ?? 3);
const app = `pgprobe_${process.pid}`;
const url = new URL(process.env.DATABASE_URL);
url.searchParams.set('application_name', app);
const admin = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const tables = [];

const serverTicks = () => serverCpuMs(admin, app);

async function round(kind) {
  const table = `probe_${process.pid}_${tables.length}`;
  const store =
    kind !== 'mem' ? new PostgresTaskStore({ connectionString: url.href, table }) : new MemoryTaskStore();
  if (kind !== 'mem') tables.push(table);
  await store.load('bench-none');
  const { supervisor, settled } = countingSupervisor(counter, { store });
  await settleHeap();
  const s0 = kind !== 'mem' ? await serverTicks() : 0;
  const c0 = process.cpuUsage();
  const t0 = now();
  await spawnWaves(supervisor, settled, total, 1000);
  const wall = now() - t0;
  const c = process.cpuUsage(c0);
  const s1 = kind !== 'mem' ? await serverTicks() : 0;
  await supervisor.stop();
  await store.close?.();
  return { wall, node: (c.user + c.system) / 1000, server: s1 - s0 };
}

const kinds = (process.env.PROBE_ONLY ?? 'mem,pg').split(',');
const out = { mem: [], pg: [] };
for (const k of kinds) await round(k);
for (let i = 0; i < rounds; i++) for (const k of kinds) out[k].push(await round(k));
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const k of kinds) {
  const r = out[k];
  console.log(
    `${k.padEnd(3)} wall ${med(r.map((x) => x.wall)).toFixed(0)} ms, node cpu ${med(r.map((x) => x.node)).toFixed(0)} ms, server cpu ${med(r.map((x) => x.server)).toFixed(0)} ms   [${r.map((x) => `${x.wall.toFixed(0)}/${x.node.toFixed(0)}/${x.server}`).join(' ')}]`,
  );
}
for (const t of tables) {
  await admin.query(
    `DROP TABLE IF EXISTS ${['', '_leases', '_meta', '_epochs', '_events', '_control', '_receivers', '_runs', '_durable', '_durable_steps'].map((s) => `"${t}${s}"`).join(', ')}`,
  );
  await admin.query(`DROP SEQUENCE IF EXISTS "${t}_lock_ids"`);
}
await admin.end();
