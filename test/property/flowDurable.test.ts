import fc from 'fast-check';
import { SimulatedClock } from 'xstate';
import { describe, it } from 'vitest';
import {
  createTaskSupervisor,
  defineTask,
  type TaskContext,
  type TaskSummary,
  type TaskSupervisor,
} from '../../src/index.js';
import { tick } from '../helpers/async.js';
import { assertWithSeed, runsFor } from './seed.js';

const RUNS = runsFor(1_000);
const BACKOFF = 10;

type Cmd =
  | { k: 'plain'; priority: number }
  | { k: 'durable'; priority: number; startAfterMs: number }
  | { k: 'finish'; t: number; ok: boolean }
  | { k: 'cancel'; t: number }
  | { k: 'tick'; ms: number };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ k: fc.constant('plain' as const), priority: fc.nat(1) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('durable' as const),
      priority: fc.nat(1),
      startAfterMs: fc.constantFrom(0, 0, 5, 15),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ k: fc.constant('finish' as const), t: fc.nat(20), ok: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancel' as const), t: fc.nat(20) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('tick' as const), ms: fc.constantFrom(5, 10, 20) }) },
);

interface Task {
  id: string;
  durable: boolean;
  /** Set while a body (a plain body, or one durable attempt) runs: ends it. */
  end: ((ok: boolean) => void) | undefined;
  started: number;
}

/** The slots as the supervisor counts them (internal; read only to check they match the bodies). */
function gateOf(sup: TaskSupervisor): { running: number; queued: number } {
  return (sup as unknown as { flow: { gate: { running: number; queued: number } } }).flow.gate;
}

/** Lets the attempt loops and the store's promises run until nothing changes for a few turns. */
async function quiesce(sup: TaskSupervisor, tasks: readonly Task[]): Promise<void> {
  let last = '';
  for (let still = 0; still < 3; ) {
    await tick();
    const now = JSON.stringify(tasks.map((t) => [sup.get(t.id)?.phase, sup.get(t.id)?.status, t.started]));
    still = now === last ? still + 1 : 0;
    last = now;
  }
}

/**
 * Durable tasks (retries with backoff, delayed starts) and plain tasks under `global` and a
 * per-type limit, on a simulated clock. After every command, once quiet: the bodies running are
 * exactly the supervisor's slots taken (none leaked, none freed twice), within every limit, and a
 * task waiting in the queue for a slot is held back by a full limit (no lost wake-up). At the end
 * every task ends with exactly one terminal event.
 */
async function run(global: number, perType: number, cmds: readonly Cmd[]): Promise<void> {
  const clock = new SimulatedClock();
  const sup = createTaskSupervisor({
    clock,
    now: () => clock.now(),
    cancelGraceMs: 60_000,
    concurrency: { global, perType: { job: perType } },
  });
  const tasks: Task[] = [];
  const terminals = new Map<string, number>();
  sup.onEvent((e) => {
    if (e.kind !== 'custom') terminals.set(e.task_id, (terminals.get(e.task_id) ?? 0) + 1);
  });
  let bodies = 0;
  let jobBodies = 0;
  const fail = (why: string): never => {
    throw new Error(why);
  };
  const body = async (t: Task, signal: AbortSignal): Promise<boolean> => {
    bodies++;
    if (t.durable) jobBodies++;
    t.started++;
    try {
      return await new Promise<boolean>((resolve) => {
        t.end = resolve;
        signal.addEventListener('abort', () => resolve(false), { once: true });
      });
    } finally {
      t.end = undefined;
      bodies--;
      if (t.durable) jobBodies--;
    }
  };
  const job = defineTask<{ n: number }, Record<never, never>, string>({
    taskType: 'job',
    durable: { retry: { maximumAttempts: 3, initialIntervalMs: BACKOFF, jitter: 0 } },
    run: async (ctx, input) => {
      const t = tasks[input.n] ?? fail(`unknown durable task ${input.n}`);
      if (!(await body(t, ctx.signal))) throw new Error(`attempt ${ctx.attempt} failed`);
      return 'ok';
    },
  });
  const check = (): void => {
    const gate = gateOf(sup);
    if (gate.running !== bodies) fail(`${gate.running} slots taken, ${bodies} bodies running`);
    if (bodies > global) fail(`${bodies} bodies running, global limit ${global}`);
    if (jobBodies > perType) fail(`${jobBodies} durable bodies running, type limit ${perType}`);
    let queued = 0;
    for (const t of tasks) {
      const s = sup.get(t.id)!;
      if (s.status !== 'running' || s.phase !== 'queued' || s.next_attempt_at_ms !== undefined) continue;
      queued++;
      if (bodies < global && (!t.durable || jobBodies < perType))
        fail(`${t.id} waits for a slot that is free (lost wake-up)`);
    }
    if (gate.queued !== queued) fail(`the queue holds ${gate.queued}, ${queued} tasks wait for a slot`);
  };

  for (const c of cmds) {
    if (c.k === 'plain' || c.k === 'durable') {
      const t: Task = { id: '', durable: c.k === 'durable', end: undefined, started: 0 };
      const n = tasks.length;
      tasks.push(t);
      const spawned =
        c.k === 'plain'
          ? sup.spawn(
              { threadId: 't', taskType: 'plain', description: '', priority: c.priority },
              async (ctx: TaskContext) => ((await body(t, ctx.signal)) ? 'ok' : 'no'),
            )
          : job.spawn(
              sup,
              { threadId: 't', description: '', priority: c.priority, startAfterMs: c.startAfterMs },
              { n },
            );
      t.id = await spawned;
    } else if (c.k === 'tick') clock.increment(c.ms);
    else {
      const t = tasks.length === 0 ? undefined : tasks[c.t % tasks.length];
      if (t === undefined) continue;
      if (c.k === 'cancel') sup.cancel(t.id);
      else t.end?.(c.ok);
    }
    await quiesce(sup, tasks);
    check();
  }
  // Cancel what is left, let every backoff run out; each task ends exactly once.
  for (const t of tasks) sup.cancel(t.id);
  clock.increment(1_000);
  const finals: TaskSummary[] = [];
  for (const t of tasks) finals.push(await sup.wait(t.id));
  await quiesce(sup, tasks);
  for (const [i, s] of finals.entries()) {
    if (s.status === 'running') fail(`${s.task_id} still running`);
    if (terminals.get(s.task_id) !== 1)
      fail(`${s.task_id} had ${terminals.get(s.task_id) ?? 0} terminal events`);
    if (tasks[i]!.started === 0 && s.status !== 'cancelled')
      fail(`${s.task_id} never ran yet ended ${s.status}`);
  }
  if (gateOf(sup).running !== 0 || gateOf(sup).queued !== 0) fail('slots or queue entries left over');
  await sup.stop();
}

describe('model-based: durable tasks hold a slot only while an attempt runs', () => {
  it(`${RUNS} sequences of spawn / delayed spawn / attempt ends / cancel / clock: slots match the running bodies`, async () => {
    await assertWithSeed(
      'flow-durable',
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 2 }),
        fc.array(cmd, { maxLength: 24 }),
        (global, perType, cmds) => run(global, perType, cmds),
      ),
      RUNS,
    );
  }, 600_000);

  it('a fixed sequence: two tasks backing off do not block a third under a limit of 2', async () => {
    await run(2, 2, [
      { k: 'durable', priority: 0, startAfterMs: 0 },
      { k: 'durable', priority: 0, startAfterMs: 0 },
      { k: 'finish', t: 0, ok: false },
      { k: 'finish', t: 1, ok: false },
      { k: 'plain', priority: 0 },
      { k: 'finish', t: 2, ok: true },
      { k: 'tick', ms: BACKOFF },
      { k: 'finish', t: 0, ok: true },
      { k: 'finish', t: 1, ok: true },
    ]);
  });
});
