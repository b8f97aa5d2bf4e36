import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTaskSupervisor, ORPHAN_ERROR } from '../../src/index.js';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import type { TaskEvent, TaskSummary } from '../../src/wire/types.js';
import { buildDist, startChild } from '../fixtures/childProcess.js';

type Outcome =
  | { status: 'completed'; result: unknown }
  | { status: 'failed'; error: string }
  | { status: 'cancelled' };
type Line =
  | { t: 'spawned'; id: string }
  | { t: 'intent'; id: string; outcome: Outcome }
  | { t: 'terminal'; event: TaskEvent }
  | { t: 'all-spawned' };

const ROUNDS = 20;
let dist = '';
const dir = mkdtempSync(join(tmpdir(), 'awaken-crash-'));

beforeAll(() => {
  dist = buildDist('crash');
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether a restored summary is exactly the outcome the child's body reported. */
function matches(s: TaskSummary, o: Outcome): boolean {
  if (s.status !== o.status) return false;
  if (o.status === 'completed') return JSON.stringify(s.result ?? null) === JSON.stringify(o.result);
  if (o.status === 'failed') return s.error === o.error;
  return s.error === undefined;
}

function outcomeOf(e: Exclude<TaskEvent, { kind: 'custom' }>): Outcome {
  if (e.kind === 'completed') return { status: 'completed', result: e.result };
  if (e.kind === 'failed') return { status: 'failed', error: e.error };
  return { status: 'cancelled' };
}

/** One round: run the child until `killAfter` terminal events were printed, SIGKILL it, restore. */
async function round(seed: number) {
  const file = join(dir, `crash-${seed}.db`);
  const killAfter = 1 + (seed % 24);
  let terminals = 0;
  let late: ReturnType<typeof setTimeout> | undefined;
  const child = startChild(
    'crash-child.mjs',
    { AWAKEN_DIST: dist, DB_FILE: file, SEED: String(seed) },
    (line) => {
      const t = (line as Line).t;
      if (t === 'terminal' && ++terminals === killAfter) child.proc.kill('SIGKILL');
      // A seed whose tasks end fewer than `killAfter` times would leave the child waiting on its
      // hanging bodies forever: its bodies wait under 40 ms, so 3 s after the last spawn the kill
      // lands anyway (on a quiet child: still a point the assertions must hold at).
      else if (t === 'all-spawned') late = setTimeout(() => child.proc.kill('SIGKILL'), 3_000);
    },
  );
  await child.closed;
  clearTimeout(late);
  const lines = child.lines as Line[];
  // Hanging bodies (a quarter) guarantee tasks in flight at the kill; often spawns are too.
  const midSpawn = lines.some((l) => l.t === 'all-spawned') ? 0 : 1;

  const spawned = new Set(lines.flatMap((l) => (l.t === 'spawned' ? [l.id] : [])));
  const intents = new Map(lines.flatMap((l) => (l.t === 'intent' ? [[l.id, l.outcome] as const] : [])));
  const reported = new Map(
    lines.flatMap((l) =>
      l.t === 'terminal' && l.event.kind !== 'custom' ? [[l.event.task_id, outcomeOf(l.event)] as const] : [],
    ),
  );

  const db = new Database(file, { readonly: true });
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  db.close();

  const store = new SqliteTaskStore(file);
  const supervisor = createTaskSupervisor({ store });
  const restored = await supervisor.loadThread('crash');
  const tasks = supervisor.list('crash');
  expect(restored).toBe(tasks.length);
  expect(store.lastLoadCorrupt).toEqual([]);

  let orphans = 0;
  let endedUnreported = 0;
  for (const s of tasks) {
    const told = reported.get(s.task_id);
    if (told !== undefined) {
      // I18: every terminal event the process reported survives with its exact result.
      expect(
        matches(s, told),
        `${s.task_id} reported ${JSON.stringify(told)}, restored ${JSON.stringify(s)}`,
      ).toBe(true);
    } else if (s.status === 'failed' && s.error === ORPHAN_ERROR) {
      orphans++; // I17: it was running when the process died.
    } else {
      // The one window no store can close: the record committed, then the kill landed before the
      // event was printed. Allowed only for a body that had announced exactly this outcome.
      const intent = intents.get(s.task_id);
      expect(
        intent && matches(s, intent),
        `${s.task_id} is ${JSON.stringify(s)}: neither reported nor orphaned`,
      ).toBe(true);
      endedUnreported++;
    }
  }
  const ids = new Set(tasks.map((s) => s.task_id));
  for (const id of [...spawned, ...reported.keys()]) expect(ids.has(id), `${id} lost`).toBe(true);
  await supervisor.stop();
  // The orphan verdicts were written back: the file alone now tells the same story.
  const persisted = new Map((await store.load('crash')).map((r) => [r.task_id, r.status]));
  expect(new Map(tasks.map((s) => [s.task_id, s.status]))).toEqual(persisted);
  await store.close();
  return { tasks: tasks.length, reported: reported.size, orphans, endedUnreported, midSpawn };
}

describe('crash recovery on SQLite (I17, I18, section 6 items 14, 17, 18)', () => {
  it(`${ROUNDS} rounds of SIGKILL at random points: reported results survive exactly, the rest are orphans`, async () => {
    const totals = { tasks: 0, reported: 0, orphans: 0, endedUnreported: 0, midSpawn: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      const seed = (Date.now() + r * 7919) >>> 0;
      const res = await round(seed).catch((e: unknown) => {
        throw new Error(`round ${r} (seed ${seed}): ${e instanceof Error ? e.message : String(e)}`, {
          cause: e,
        });
      });
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += res[k];
    }
    console.info('crash rounds:', totals);
    expect(totals.reported).toBeGreaterThan(0);
    expect(totals.orphans).toBeGreaterThan(0);
  }, 240_000);
});
