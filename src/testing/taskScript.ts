/**
 * Task scripts: random, replayable task behaviours for property tests, and the body that plays one.
 */
import type * as FC from 'fast-check';
import { fc } from './peer.js';
import { SpawnError } from '../supervisor/errors.js';
import type { TaskContext, TaskSupervisor } from '../supervisor/types.js';
import { TaskResult } from '../wire/taskResult.js';
import type { Json, TaskId, TaskStatus } from '../wire/types.js';
import { GateAbortedError, type Gates } from './gates.js';

/** One step of a {@link TaskScript}. */
export type ScriptStep =
  /** `ctx.emit(eventType, payload)`. */
  | { readonly kind: 'emit'; readonly eventType: string; readonly payload: Json }
  /** Wait until the test releases the gate `<taskId>/<gate>` (a "delay" with no timer). */
  | { readonly kind: 'wait'; readonly gate: string }
  /** Spawn a child task (ambient parent: this task) that plays `script`. */
  | { readonly kind: 'spawn'; readonly script: TaskScript };

/** How a script ends when it runs to the end. */
export type ScriptOutcome =
  | { readonly kind: 'success'; readonly value: Json }
  | { readonly kind: 'failure'; readonly error: string }
  | { readonly kind: 'throw'; readonly message: string }
  | { readonly kind: 'cancelled' };

/**
 * A task behaviour: steps, then an outcome. A `cooperative` script honours cancellation (its
 * waits end on `ctx.signal` and it returns `TaskResult.cancelled()`); a non-cooperative one
 * ignores it and runs to its outcome.
 */
export interface TaskScript {
  readonly steps: readonly ScriptStep[];
  readonly outcome: ScriptOutcome;
  readonly cooperative: boolean;
}

/** Options of {@link arbTaskScript}. */
export interface TaskScriptOptions {
  /** Most steps per script (default 4). */
  maxSteps?: number;
  /** How deep nested spawns go (default 1: a script may spawn children that spawn nothing). */
  maxDepth?: number;
  /** Event types to emit (default `progress`, `log`, `data_ready`). */
  eventTypes?: readonly string[];
  /** Payloads (default `fc.jsonValue({ maxDepth: 2 })`). */
  payload?: FC.Arbitrary<Json>;
  /** Outcome kinds to draw from (default all four). */
  outcomes?: readonly ScriptOutcome['kind'][];
}

/**
 * A fast-check arbitrary of {@link TaskScript}s: emits with JSON payloads, gate waits, nested
 * spawns, an outcome (success value, failure, throw, returned cancellation), cooperative or not.
 * Shrinks towards fewer steps and simpler outcomes.
 *
 * @example
 * fc.assert(fc.asyncProperty(arbTaskScript(), async (script) => {
 *   const id = await supervisor.spawn(opts, scriptBody(script, { gates }));
 *   gates.releaseAll();
 *   expect((await supervisor.wait(id)).status).toBe(expectedOutcome(script).status);
 * }));
 */
export function arbTaskScript(options: TaskScriptOptions = {}): FC.Arbitrary<TaskScript> {
  const maxSteps = options.maxSteps ?? 4;
  const types = options.eventTypes ?? ['progress', 'log', 'data_ready'];
  const payload = options.payload ?? (fc.jsonValue({ maxDepth: 2 }) as FC.Arbitrary<Json>);
  const kinds = options.outcomes ?? ['success', 'failure', 'throw', 'cancelled'];
  const outcome: FC.Arbitrary<ScriptOutcome> = fc.oneof(
    ...kinds.map((kind): FC.Arbitrary<ScriptOutcome> => {
      if (kind === 'success') return payload.map((value) => ({ kind, value }));
      if (kind === 'failure') return fc.string({ maxLength: 12 }).map((error) => ({ kind, error }));
      if (kind === 'throw')
        return fc.string({ minLength: 1, maxLength: 12 }).map((message) => ({ kind, message }));
      return fc.constant({ kind });
    }),
  );
  const emit: FC.Arbitrary<ScriptStep> = fc
    .record({ eventType: fc.constantFrom(...types), payload })
    .map((r) => ({ kind: 'emit' as const, ...r }));
  const wait: FC.Arbitrary<ScriptStep> = fc
    .integer({ min: 0, max: 3 })
    .map((n) => ({ kind: 'wait' as const, gate: `g${n}` }));
  const level = (depth: number): FC.Arbitrary<TaskScript> => {
    const step =
      depth <= 0
        ? fc.oneof(emit, wait)
        : fc.oneof(
            { weight: 3, arbitrary: emit },
            { weight: 3, arbitrary: wait },
            { weight: 1, arbitrary: level(depth - 1).map((script) => ({ kind: 'spawn' as const, script })) },
          );
    return fc
      .record({ steps: fc.array(step, { maxLength: maxSteps }), outcome, cooperative: fc.boolean() })
      .map((s) => ({ ...s, steps: uniqueGates(s.steps) }));
  };
  return level(options.maxDepth ?? 1);
}

/** Renames repeated gates so each wait of a script has its own gate (`g0`, `g0_1`, …). */
function uniqueGates(steps: ScriptStep[]): ScriptStep[] {
  const seen = new Map<string, number>();
  return steps.map((s) => {
    if (s.kind !== 'wait') return s;
    const n = seen.get(s.gate) ?? 0;
    seen.set(s.gate, n + 1);
    return n === 0 ? s : { kind: 'wait', gate: `${s.gate}_${n}` };
  });
}

/** Options of {@link runTaskScript} and {@link scriptBody}. */
export interface ScriptRunOptions {
  /** The gates the script's waits use, as `<taskId>/<gate>`. */
  gates: Gates;
  /** Needed for `spawn` steps: children are spawned here (thread `threadId`, default `'thread-1'`). */
  supervisor?: TaskSupervisor;
  threadId?: string;
  /** Called with each child's id once it is spawned. */
  onSpawn?: (childId: TaskId, script: TaskScript, parentId: TaskId) => void;
}

/**
 * Plays `script` as the body of a task: runs its steps with `ctx`, then returns (or throws) its
 * outcome. A spawn step refused with `parent_cancelled` is skipped. A cooperative script that sees cancellation (at a wait, or between steps) returns
 * `TaskResult.cancelled()`.
 *
 * @example
 * await supervisor.spawn(opts, (ctx) => runTaskScript(script, ctx, { gates }));
 */
export async function runTaskScript(
  script: TaskScript,
  ctx: TaskContext,
  options: ScriptRunOptions,
): Promise<unknown> {
  const coop = script.cooperative;
  for (const step of script.steps) {
    if (coop && ctx.isCancelled()) return TaskResult.cancelled();
    if (step.kind === 'emit') ctx.emit(step.eventType, step.payload);
    else if (step.kind === 'wait') {
      try {
        await options.gates.wait(`${ctx.taskId}/${step.gate}`, coop ? ctx.signal : undefined);
      } catch (e) {
        if (e instanceof GateAbortedError) return TaskResult.cancelled();
        throw e;
      }
    } else {
      const sup = options.supervisor;
      if (sup === undefined) throw new TypeError('runTaskScript: a spawn step needs `options.supervisor`');
      let child: TaskId;
      try {
        child = await sup.spawn(
          { threadId: options.threadId ?? 'thread-1', taskType: 'script', description: 'scripted child' },
          scriptBody(step.script, options),
        );
      } catch (e) {
        // A refused spawn (this task is being cancelled: `parent_cancelled`) is skipped.
        if (e instanceof SpawnError && e.code === 'parent_cancelled') continue;
        throw e;
      }
      options.onSpawn?.(child, step.script, ctx.taskId);
    }
  }
  if (coop && ctx.isCancelled()) return TaskResult.cancelled();
  const o = script.outcome;
  if (o.kind === 'success') return TaskResult.success(o.value);
  if (o.kind === 'failure') return TaskResult.failed(o.error);
  if (o.kind === 'cancelled') return TaskResult.cancelled();
  throw new Error(o.message);
}

/**
 * A task body that plays `script` (see {@link runTaskScript}).
 *
 * @example
 * const id = await supervisor.spawn({ threadId: 't', taskType: 'x', description: 'd' }, scriptBody(script, { gates }));
 */
export function scriptBody(
  script: TaskScript,
  options: ScriptRunOptions,
): (ctx: TaskContext) => Promise<unknown> {
  return (ctx) => runTaskScript(script, ctx, options);
}

/** What a script's task ends as. */
export interface ScriptExpectation {
  status: Exclude<TaskStatus, 'running'>;
  /** The `completed` event's `result`. */
  result?: Json;
  /** The `failed` event's `error`. */
  error?: string;
}

/**
 * How a task playing `script` ends: when not cancelled, by its outcome (a throw is `failed`);
 * when cancellation was requested before it returned, `cancelled` if it is cooperative, else its
 * outcome read as after a cancel (a throw then is `cancelled`, per the task machine).
 *
 * @example
 * expectedOutcome({ steps: [], outcome: { kind: 'throw', message: 'x' }, cooperative: false }); // { status: 'failed', error: 'x' }
 */
export function expectedOutcome(
  script: TaskScript,
  opts: { cancelRequested?: boolean } = {},
): ScriptExpectation {
  const cancelled = opts.cancelRequested === true;
  if (cancelled && script.cooperative) return { status: 'cancelled' };
  const o = script.outcome;
  if (o.kind === 'success') return { status: 'completed', result: o.value };
  if (o.kind === 'failure') return { status: 'failed', error: o.error };
  if (o.kind === 'cancelled') return { status: 'cancelled' };
  return cancelled ? { status: 'cancelled' } : { status: 'failed', error: o.message };
}

/**
 * The custom events a script emits when it runs to the end, in order (a cancelled cooperative
 * script emits a prefix of them).
 *
 * @example
 * scriptEmits(script).length; // how many `custom` events to expect from this task
 */
export function scriptEmits(script: TaskScript): Array<{ event_type: string; payload: Json }> {
  return script.steps.flatMap((s) =>
    s.kind === 'emit' ? [{ event_type: s.eventType, payload: s.payload }] : [],
  );
}
