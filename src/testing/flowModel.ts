/**
 * The flow suite: model-based tests of queues, concurrency limits, waiting for input and budgets.
 * A command sequence runs against a real supervisor (memory store); after every command the
 * invariants the model implies are checked.
 */
import type * as FC from 'fast-check';
import { fc } from './peer.js';
import { createTaskSupervisor } from '../supervisor/createTaskSupervisor.js';
import type { SupervisorOptions, TaskContext } from '../supervisor/types.js';
import { TaskResult } from '../wire/taskResult.js';
import type { Json, TaskSummary } from '../wire/types.js';

/**
 * A command of the flow suite: spawn (thread, type `a` or `b`, priority, parent, token budget),
 * or, on the task at index `t` (modulo the tasks spawned), settle, cancel, cancelTree, ask for
 * input, answer, or report usage.
 *
 * @example
 * const cmd: FlowCmd = { k: 'provide', t: 0, v: 42 };
 */
export type FlowCmd =
  | {
      k: 'spawn';
      thread: number;
      type: 'a' | 'b';
      priority: number;
      parent: number | null;
      budget: number | null;
    }
  | { k: 'settle'; t: number }
  | { k: 'cancel'; t: number }
  | { k: 'cancelTree'; t: number }
  | { k: 'request'; t: number }
  | { k: 'provide'; t: number; v: number }
  | { k: 'usage'; t: number; tokens: number };

/**
 * The limits of a flow scenario (`concurrency: { global, perThread, perType: { b } }`).
 *
 * @example
 * const limits: FlowLimits = { global: 2, perThread: 1, perTypeB: 1 };
 */
export interface FlowLimits {
  global: number;
  perThread: number;
  /** The limit of type `b` (type `a` has none). */
  perTypeB: number;
}

const cmd: FC.Arbitrary<FlowCmd> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('spawn' as const),
      thread: fc.nat(2),
      type: fc.constantFrom('a' as const, 'b' as const),
      priority: fc.nat(1),
      parent: fc.option(fc.nat(20), { freq: 3 }),
      budget: fc.option(fc.integer({ min: 1, max: 12 }), { freq: 2 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('settle' as const), t: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancel' as const), t: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancelTree' as const), t: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('request' as const), t: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('provide' as const), t: fc.nat(20), v: fc.nat(99) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('usage' as const),
      t: fc.nat(20),
      tokens: fc.integer({ min: 0, max: 6 }),
    }),
  },
);

/**
 * Limits and a command sequence (at most 18 commands) for {@link runFlowModel}.
 *
 * @example
 * await fc.assert(fc.asyncProperty(flowScenario, ({ limits, cmds }) => runFlowModel(limits, cmds)));
 */
export const flowScenario: FC.Arbitrary<{ limits: FlowLimits; cmds: FlowCmd[] }> = fc.record({
  limits: fc.record({
    global: fc.integer({ min: 1, max: 3 }),
    perThread: fc.integer({ min: 1, max: 3 }),
    perTypeB: fc.integer({ min: 1, max: 2 }),
  }),
  cmds: fc.array(cmd, { maxLength: 18 }),
});

type Instruction = 'settle' | 'request' | { tokens: number };

/** One task as the driver sees it: its id, spawn shape, and the body's controls. */
interface Task {
  id: string;
  n: number;
  thread: string;
  type: 'a' | 'b';
  priority: number;
  parent: Task | undefined;
  budget: number | null;
  started: boolean;
  /** In `requestInput`, not answered yet. */
  asking: boolean;
  /** Answered, not resumed yet (no slot). */
  answered: boolean;
  given: Json[];
  responses: Json[];
  treeTokens: number;
  next: ((i: Instruction) => void) | undefined;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const fail = (msg: string): never => {
  throw new Error(msg);
};

/**
 * A bug to plant: `configure` changes the supervisor's options (the checks keep the scenario's limits).
 *
 * @example
 * const offByOne: FlowPlant = { configure: (o) => ({ ...o, concurrency: { global: 3 } }) };
 */
export interface FlowPlant {
  /** Rewrites the supervisor's options before the run (the checks still use the scenario's own). */
  configure?: (options: SupervisorOptions) => SupervisorOptions;
}

/**
 * Runs one scenario against a real supervisor (memory store) and throws on the first broken
 * invariant: never more bodies running than a limit allows; no task waits for a slot that is
 * free (a lost wake-up); FIFO within a priority among tasks of one thread and type; a waiting
 * task resumes exactly once, with exactly the answers `provideInput` accepted (and it accepts
 * exactly when the task waits unanswered); a budget cancels its task (`stop_reason: 'budget'`)
 * exactly when exceeded; after `stop()` every task ended, once, with one terminal event, and a
 * task whose body never started ended `cancelled`.
 *
 * @example
 * await runFlowModel({ global: 1, perThread: 1, perTypeB: 1 }, [{ k: 'spawn', thread: 0, type: 'a', priority: 0, parent: null, budget: null }]);
 */
export async function runFlowModel(
  limits: FlowLimits,
  cmds: readonly FlowCmd[],
  plant: FlowPlant = {},
): Promise<void> {
  const options: SupervisorOptions = {
    cancelGraceMs: 60_000,
    concurrency: { global: limits.global, perThread: limits.perThread, perType: { b: limits.perTypeB } },
  };
  const sup = createTaskSupervisor(plant.configure ? plant.configure(options) : options);
  const tasks: Task[] = [];
  const byId = new Map<string, Task>();
  const terminals = new Map<string, number>();
  sup.onEvent((e) => {
    if (e.kind !== 'custom') terminals.set(e.task_id, (terminals.get(e.task_id) ?? 0) + 1);
  });
  const get = (t: Task): TaskSummary => sup.get(t.id) ?? fail(`${t.id} unknown`);
  const active = (t: Task): boolean => get(t).status === 'running' && get(t).phase === undefined;
  const pick = (i: number): Task | undefined => (tasks.length === 0 ? undefined : tasks[i % tasks.length]);

  /** When a body starts: no queued task of the same thread and type was ahead of it (FIFO within a priority). */
  const checkStart = (t: Task): void => {
    for (const q of tasks) {
      if (q === t || get(q).phase !== 'queued' || q.thread !== t.thread || q.type !== t.type) continue;
      if (q.priority > t.priority || (q.priority === t.priority && q.n < t.n))
        fail(`${t.id} (priority ${t.priority}) started before queued ${q.id} (priority ${q.priority})`);
    }
  };

  const body = (t: Task) => async (ctx: TaskContext) => {
    t.started = true;
    checkStart(t);
    for (;;) {
      const i = await Promise.race([
        new Promise<Instruction>((r) => {
          t.next = r;
        }),
        ctx.cancelled().then(() => 'cancel' as const),
      ]);
      t.next = undefined;
      if (i === 'cancel') return TaskResult.cancelled();
      if (i === 'settle') return 'done';
      if (i === 'request') {
        try {
          t.responses.push(await ctx.requestInput({ from: t.id }));
        } catch {
          return TaskResult.cancelled();
        }
      } else ctx.reportUsage({ tokens: i.tokens });
    }
  };

  const checkInvariants = (): void => {
    let all = 0;
    const perThread = new Map<string, number>();
    let typeB = 0;
    for (const t of tasks) {
      if (!active(t)) continue;
      all++;
      perThread.set(t.thread, (perThread.get(t.thread) ?? 0) + 1);
      if (t.type === 'b') typeB++;
    }
    if (all > limits.global) fail(`${all} running, global limit ${limits.global}`);
    for (const [thread, n] of perThread)
      if (n > limits.perThread) fail(`${n} running in ${thread}, limit ${limits.perThread}`);
    if (typeB > limits.perTypeB) fail(`${typeB} of type b running, limit ${limits.perTypeB}`);
    // Nobody who could run waits: a queued (or answered) task is held back by a full limit.
    for (const t of tasks) {
      const s = get(t);
      const waitsForSlot = s.phase === 'queued' || (s.phase === 'waiting' && t.answered);
      if (s.status !== 'running' || !waitsForSlot) continue;
      const blocked =
        all >= limits.global ||
        (perThread.get(t.thread) ?? 0) >= limits.perThread ||
        (t.type === 'b' && typeB >= limits.perTypeB);
      if (!blocked) fail(`${t.id} waits for a slot that is free (lost wake-up)`);
    }
    for (const t of tasks) {
      const s = get(t);
      if (s.stop_reason === 'budget' && !(t.budget !== null && t.treeTokens > t.budget))
        fail(`${t.id} cancelled for its budget within it`);
    }
  };

  for (const c of cmds) {
    if (c.k === 'spawn') {
      const parent = c.parent === null ? undefined : pick(c.parent);
      const t: Task = {
        id: '',
        n: tasks.length,
        thread: `t${c.thread}`,
        type: c.type,
        priority: c.priority,
        parent,
        budget: c.budget,
        started: false,
        asking: false,
        answered: false,
        given: [],
        responses: [],
        treeTokens: 0,
        next: undefined,
      };
      try {
        t.id = await sup.spawn(
          {
            threadId: t.thread,
            taskType: t.type,
            description: '',
            priority: t.priority,
            ...(parent === undefined ? {} : { parentContext: { task_id: parent.id } }),
            ...(c.budget === null ? {} : { budget: { tokens: c.budget } }),
          },
          body(t),
        );
      } catch (e) {
        // Only a finished (or cancelling) parent refuses a child.
        if ((e as { code?: string }).code !== 'parent_cancelled') throw e;
        continue;
      }
      tasks.push(t);
      byId.set(t.id, t);
    } else {
      const t = pick(c.t);
      if (t === undefined) continue;
      const live = get(t).status === 'running';
      if (c.k === 'cancel') sup.cancel(t.id);
      else if (c.k === 'cancelTree') sup.cancelTree(t.id);
      else if (c.k === 'provide') {
        const expected = live && t.asking && !t.answered;
        const got = sup.provideInput(t.id, c.v);
        if (got !== expected) fail(`provideInput(${t.id}) returned ${got}, the model says ${expected}`);
        if (got) {
          t.answered = true;
          t.given.push(c.v);
        }
      } else if (active(t) && t.next !== undefined) {
        if (c.k === 'settle') t.next('settle');
        else if (c.k === 'request') {
          t.asking = true;
          t.answered = false;
          t.next('request');
        } else {
          const over: Task[] = [];
          for (let a: Task | undefined = t; a !== undefined; a = a.parent) {
            a.treeTokens += c.tokens;
            if (a.budget !== null && a.treeTokens > a.budget && get(a).status === 'running') over.push(a);
          }
          t.next({ tokens: c.tokens });
          await tick();
          await tick();
          for (const a of over)
            if (get(a).stop_reason !== 'budget') fail(`${a.id} over its budget and not cancelled for it`);
        }
      }
    }
    await tick();
    await tick();
    for (const t of tasks) {
      if (t.asking && t.responses.length === t.given.length && get(t).phase !== 'waiting') t.asking = false;
      if (t.answered && t.responses.length === t.given.length) t.answered = false;
    }
    checkInvariants();
  }
  await sup.stop();
  for (const t of tasks) {
    const s = get(t);
    if (s.status === 'running') fail(`${t.id} still running after stop()`);
    if (!t.started && s.status !== 'cancelled') fail(`${t.id} never started yet ended ${s.status}`);
    if (terminals.get(t.id) !== 1) fail(`${t.id} had ${terminals.get(t.id) ?? 0} terminal events`);
    // An answer accepted while no slot was free is lost only if the task is cancelled before it resumes.
    const unresumed = s.status === 'cancelled' && t.responses.length === t.given.length - 1;
    const expected = unresumed ? t.given.slice(0, -1) : t.given;
    if (JSON.stringify(t.responses) !== JSON.stringify(expected))
      fail(`${t.id} resumed with ${JSON.stringify(t.responses)}, was given ${JSON.stringify(t.given)}`);
  }
}
