// Probe (not a scenario): the server's plan of every statement scenario 14c's PostgreSQL run makes,
// from auto_explain (ANALYZE, BUFFERS, WAL) sent back to this client as NOTICEs.
//   DATABASE_URL=… node bench/pg14-explain.mjs [tasks=2000] > plans.txt
import pg from 'pg';
import { PostgresTaskStore } from '../dist/src/stores/postgres/index.js';
import { counter } from './lib/measure.js';
import { countingSupervisor, spawnWaves } from './lib/ours.js';

const total = Number(process.argv[2] ?? 2000);
const table = `explain_${process.pid}`;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
let on = false;
const notices = [];
pool.on('connect', (client) => {
  client.on('notice', (m) => {
    if (on) notices.push(m.message);
  });
  client
    .query(
      `LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;
       SET auto_explain.log_buffers = on; SET auto_explain.log_wal = on; SET auto_explain.log_nested_statements = on;
       SET auto_explain.log_level = notice; SET auto_explain.log_timing = ${process.env.TIMING === '0' ? 'off' : 'on'}`,
    )
    .catch((e) => console.error(e));
});
const store = new PostgresTaskStore({ pool, table });
await store.load('bench-none');
const { supervisor, settled } = countingSupervisor(counter, { store });
await spawnWaves(supervisor, settled, 1000, 1000);
on = true;
await spawnWaves(supervisor, settled, total, 1000);
on = false;
await supervisor.stop();
await store.close();
for (const m of notices) console.log(`${m}\n----`);
const admin = new pg.Pool({ connectionString: process.env.DATABASE_URL });
await admin.query(
  `DROP TABLE IF EXISTS ${['', '_leases', '_meta', '_epochs', '_events', '_control', '_receivers', '_runs', '_durable', '_durable_steps'].map((s) => `"${table}${s}"`).join(', ')}`,
);
await admin.query(`DROP SEQUENCE IF EXISTS "${table}_lock_ids"`);
await admin.end();
await pool.end();
