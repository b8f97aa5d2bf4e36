#!/usr/bin/env node
// awaken-tasks benchmark: each scenario beside the plain-JavaScript baseline (async function +
// AbortController + Map of summaries) in the same process, trials interleaved baseline/ours.
//
//   node bench/run.js [--only=1,3] [--trials=3] [--scale=1] [--save] [--no-sqlite] [--shared]
//
// Each scenario runs in a fresh process of its own (baseline and ours together in it), so what
// the JIT learned from one scenario (the shapes and call targets its code saw) does not shape the
// code the next one measures: run after scenario 1 in one process, scenario 4 read 0.48 where it
// reads 0.63 alone. --shared runs every scenario in this one process instead.
//
// --scale shrinks every scenario's size (for quick looks); --save also writes
// bench/results/<date>.json. Always writes bench/results/latest.json. Exit code 0 even when a
// target is missed: this is a report.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

if (typeof globalThis.gc !== 'function') {
  // Heap figures need a forced full GC: re-run this script with --expose-gc.
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(r.status ?? 1);
}

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const trials = Number(args.trials ?? 3);
const scale = Number(args.scale ?? 1);
const only = args.only ? new Set(args.only.split(',').map(Number)) : undefined;

if (!existsSync(join(here, '../dist/src/index.js'))) {
  console.error('bench: dist/ is missing — run `npm run build` (or `npm run bench`, which builds first)');
  process.exit(1);
}

const files = [
  '01-spawn-complete.js',
  '02-heap-parked.js',
  '03-cancel-tree.js',
  '04-emit-inbox.js',
  '05-scaling.js',
  '06-store-put.js',
  '07-sqlite-spawn.js',
  '08-outbox-dispatch.js',
  '09-otel-tracing.js',
  '10-prune-memory.js',
  '11-inbox-memory.js',
  '12-inspector-rss.js',
  '13-name-lookup.js',
  '14-postgres-replicas.js',
  '15-durable-sqlite.js',
  '16-actor-floor.js',
  '17-durable-postgres.js',
  '20-concurrency-limit.js',
];

const { fmt, settleProcess } = await import('./lib/measure.js');
const started = Date.now();
const load0 = loadavg();
const rows = [];
const skipped = [];
const child = args.child === 'true';
const isolate = !child && args.shared !== 'true';
if (!child)
  console.log(
    `awaken-tasks bench — node ${process.version}, ${cpus().length} CPUs, load ${load0.map((x) => x.toFixed(2)).join(' ')}, trials ${trials}, scale ${scale}, ${isolate ? 'a process per scenario' : 'one process'}`,
  );
const ROWS = '@@rows ';

/** Runs scenario `id` in a fresh process; its report lines are printed, its rows returned. */
function runIsolated(id) {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      ...process.execArgv.filter((a) => a !== '--expose-gc'),
      fileURLToPath(import.meta.url),
      `--only=${id}`,
      `--trials=${trials}`,
      `--scale=${scale}`,
      '--child',
      ...(args['no-sqlite'] ? ['--no-sqlite'] : []),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 * 1024 * 1024 },
  );
  const out = (r.stdout ?? '').split('\n');
  const last = out.find((l) => l.startsWith(ROWS));
  for (const l of out) if (l !== '' && !l.startsWith(ROWS)) console.log(l);
  if (r.status !== 0 || last === undefined)
    throw new Error(`scenario process exited ${r.status ?? r.signal}`);
  return JSON.parse(last.slice(ROWS.length));
}

for (const file of files) {
  const mod = await import(pathToFileURL(join(here, 'scenarios', file)).href);
  if (only && !only.has(mod.id)) continue;
  if (mod.needsSqlite) {
    const why = args['no-sqlite']
      ? '--no-sqlite'
      : existsSync(join(here, '../dist/src/stores/sqlite/index.js'))
        ? undefined
        : 'dist/src/stores/sqlite missing';
    if (why) {
      skipped.push({ scenario: mod.id, why });
      console.log(`  ${mod.id} ${mod.title}: skipped (${why})`);
      continue;
    }
  }
  if (mod.needsPostgres && !process.env.DATABASE_URL) {
    skipped.push({ scenario: mod.id, why: 'DATABASE_URL is not set' });
    console.log(`  ${mod.id} ${mod.title}: skipped (DATABASE_URL is not set)`);
    continue;
  }
  if (isolate) {
    try {
      rows.push(...runIsolated(mod.id));
    } catch (e) {
      console.log(`  ERROR ${mod.id} ${mod.title}: ${e?.message ?? e}`);
      rows.push({ scenario: `${mod.id} ${mod.title}`, error: String(e?.message ?? e), pass: false });
    }
    continue;
  }
  await settleProcess();
  const t0 = Date.now();
  try {
    const got = await mod.run({ trials, scale });
    rows.push(...got);
    for (const r of got) {
      const flag = r.pass === null ? 'info' : r.pass ? 'pass' : 'MISS';
      console.log(`  ${flag.padEnd(4)} ${r.scenario}: ratio ${r.ratio.toFixed(2)} ${r.target ?? ''}`);
    }
    console.log(`  (${mod.id} ${mod.title}: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    console.log(`  ERROR ${mod.id} ${mod.title}: ${e?.stack ?? e}`);
    rows.push({ scenario: `${mod.id} ${mod.title}`, error: String(e?.message ?? e), pass: false });
  }
}

if (child) {
  console.log(`${ROWS}${JSON.stringify(rows)}`);
  process.exit(0);
}

// The table: medians of the interleaved trials, with the trial range in brackets.
const range = (t) => `${fmt(Math.min(...t))}–${fmt(Math.max(...t))}`;
const table = rows.map((r) =>
  r.error
    ? { scenario: r.scenario, baseline: 'ERROR', ours: r.error, ratio: '', target: '', result: 'MISS' }
    : {
        scenario: r.scenario,
        unit: r.unit,
        baseline: `${fmt(r.baseline.median)} [${range(r.baseline.trials)}]${r.baselineLabel === 'baseline' ? '' : ` (${r.baselineLabel})`}`,
        ours: `${fmt(r.ours.median)} [${range(r.ours.trials)}]${r.oursLabel === 'ours' ? '' : ` (${r.oursLabel})`}`,
        ratio: r.ratio.toFixed(2),
        target: r.target ?? '—',
        result: r.pass === null ? 'info' : r.pass ? 'pass' : 'MISS',
      },
);
console.log('\nmedian [min–max over trials]; ratio = ours ÷ baseline (second column ÷ first)');
console.table(table);
for (const r of rows) if (r.note) console.log(`  note, ${r.scenario}: ${r.note}`);
const misses = rows.filter((r) => r.pass === false);
console.log(
  misses.length === 0
    ? '\nAll targets met.'
    : `\nMISS: ${misses.length} target(s) missed:\n${misses.map((r) => `  MISS ${r.scenario}${r.error ? ` (${r.error})` : ` ratio ${r.ratio.toFixed(2)}, target ${r.target}`}`).join('\n')}`,
);
const seconds = (Date.now() - started) / 1000;
console.log(
  `bench took ${seconds.toFixed(0)} s; load average now ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);

const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  loadavgStart: load0,
  loadavgEnd: loadavg(),
  trials,
  scale,
  seconds,
  skipped,
  rows,
};
const dir = join(here, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
if (args.save)
  writeFileSync(join(dir, `${result.date.slice(0, 10)}.json`), `${JSON.stringify(result, null, 2)}\n`);
