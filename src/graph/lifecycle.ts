/**
 * The task machine's lifecycle paths, enumerated by `@xstate/graph`.
 */
import { getSimplePaths } from '@xstate/graph';
import type { StateValue } from 'xstate';
import { type TaskMachineEvent, taskMachine } from '../../machines/task.machine.js';
import { TaskResult } from '../wire/taskResult.js';

/** One simple path of the task machine: the state it ends in (dotted) and the events leading there. */
export interface LifecyclePath {
  state: string;
  events: string[];
}

const GRACE_EVENT = 'xstate.after.cancelGrace.task.running.cancelling';
const DEADLINE_EVENT = 'xstate.after.deadline.task.running.active';

const settled = (
  outcome: Extract<TaskMachineEvent, { type: 'task.settled' }>['outcome'],
): TaskMachineEvent => ({
  type: 'task.settled',
  outcome,
});

/**
 * The events the lifecycle paths are made of, by name: `task.cancel`; `task.settled:<how>` for a
 * body that returned `completed`/`failed`/`cancelled` or `threw`; `after:cancelGrace`, the
 * grace timer firing in `running.cancelling`; and `after:deadline`, a `timeoutMs` deadline passing
 * in `running.active` (both XState's delayed events).
 *
 * @example
 * actor.send(LIFECYCLE_EVENTS['task.settled:completed']!);
 */
export const LIFECYCLE_EVENTS: Readonly<Record<string, TaskMachineEvent>> = Object.freeze({
  'task.cancel': { type: 'task.cancel' },
  'task.settled:completed': settled({ type: 'returned', result: TaskResult.success(null) }),
  'task.settled:failed': settled({ type: 'returned', result: TaskResult.failed('failed') }),
  'task.settled:cancelled': settled({ type: 'returned', result: TaskResult.cancelled() }),
  'task.settled:threw': settled({ type: 'threw', error: 'thrown' }),
  // XState's own delayed event; sending it has the effect of the timer firing.
  'after:cancelGrace': { type: GRACE_EVENT } as unknown as TaskMachineEvent,
  'after:deadline': { type: DEADLINE_EVENT } as unknown as TaskMachineEvent,
});

/**
 * The task-machine event a lifecycle path's event name stands for (see {@link LIFECYCLE_EVENTS}).
 * Throws `TypeError` for an unknown name.
 *
 * @example
 * lifecycleEvent('task.cancel'); // { type: 'task.cancel' }
 */
export function lifecycleEvent(name: string): TaskMachineEvent {
  const e = LIFECYCLE_EVENTS[name];
  if (!e) throw new TypeError(`unknown lifecycle event '${name}'`);
  return e;
}

/**
 * A state value written dotted.
 *
 * @example
 * dottedState({ running: 'cancelling' }); // 'running.cancelling'
 */
export function dottedState(value: StateValue): string {
  if (typeof value === 'string') return value;
  const parts = Object.entries(value).map(([k, v]) => (v === undefined ? k : `${k}.${dottedState(v)}`));
  return parts.length === 1 ? parts[0]! : `{${parts.join(', ')}}`;
}

/**
 * Every simple path of the task machine from its initial state, from `@xstate/graph`'s
 * `getSimplePaths` — the empty path (`running.active`) included — with states dotted and events
 * named as in {@link LIFECYCLE_EVENTS}. Sorted by length, then by events.
 *
 * @example
 * lifecyclePaths().find((p) => p.state === 'running.cancelling'); // { state: 'running.cancelling', events: ['task.cancel'] }
 */
export function lifecyclePaths(): LifecyclePath[] {
  const names = new Map(Object.entries(LIFECYCLE_EVENTS).map(([name, e]) => [JSON.stringify(e), name]));
  const paths = getSimplePaths(taskMachine, {
    events: Object.values(LIFECYCLE_EVENTS),
    input: { taskId: 'bg_0', cancelGraceMs: 30_000 },
  });
  const out = paths.map((p) => ({
    state: dottedState(p.state.value),
    events: p.steps
      .map((s) => names.get(JSON.stringify(s.event)))
      .filter((n): n is string => n !== undefined),
  }));
  const key = (p: LifecyclePath): string =>
    `${String(p.events.length).padStart(3, '0')} ${p.events.join(' ')} ${p.state}`;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
