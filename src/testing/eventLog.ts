/**
 * `checkEventLog`: the lifecycle invariants, checked on any recorded stream of task events.
 */
import { jsonSafetyProblem } from '../wire/jsonSafe.js';
import type { TaskEvent, TaskId } from '../wire/types.js';

/** What {@link checkEventLog} found: all good, or the first broken invariant and where. */
export type EventLogCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** A sentence naming the broken invariant and the task concerned. */
      readonly violation: string;
      /** Position of the first offending event (`events.length` for a missing terminal event). */
      readonly index: number;
    };

/** Options of {@link checkEventLog}. */
export interface EventLogOptions {
  /** Tasks that must have reached their terminal event by the end of the log. */
  expectTerminal?: Iterable<TaskId>;
}

const KEYS: Record<TaskEvent['kind'], readonly string[]> = {
  completed: ['kind', 'task_id', 'result'],
  failed: ['kind', 'task_id', 'error'],
  cancelled: ['kind', 'task_id'],
  custom: ['kind', 'task_id', 'event_type', 'payload'],
};

function malformed(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return 'it is not an object';
  const e = event as Record<string, unknown>;
  const kind = e.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(KEYS, kind))
    return `its kind ${JSON.stringify(kind)} is not one of completed, failed, cancelled, custom`;
  if (typeof e.task_id !== 'string' || e.task_id === '') return 'its task_id is not a non-empty string';
  const allowed = KEYS[kind as TaskEvent['kind']];
  const extra = Object.keys(e).find((k) => !allowed.includes(k));
  if (extra !== undefined) return `a '${kind}' event has no '${extra}' field`;
  if (kind === 'completed') {
    if (!Object.hasOwn(e, 'result')) return "a 'completed' event always has 'result' (possibly null)";
    const p = jsonSafetyProblem(e.result, 'result');
    if (p !== undefined || e.result === undefined) return `its result is not JSON: ${p ?? 'undefined'}`;
  }
  if (kind === 'failed' && typeof e.error !== 'string') return 'its error is not a string';
  if (kind === 'custom') {
    if (typeof e.event_type !== 'string') return 'its event_type is not a string';
    if (!Object.hasOwn(e, 'payload') || e.payload === undefined)
      return "a 'custom' event always has 'payload' (possibly null)";
    const p = jsonSafetyProblem(e.payload, 'payload');
    if (p !== undefined) return `its payload is not JSON: ${p}`;
  }
  return undefined;
}

/**
 * Checks the lifecycle invariants of API.md on a recorded stream of task events, as delivered
 * (several tasks interleaved). Invariants, in the order they are checked for each event:
 * 1. every event is a well-formed `TaskEvent` (kind, non-empty `task_id`, the fields of its kind
 *    and no others, `result`/`payload` present and JSON);
 * 2. exactly one terminal event (`completed`, `failed`, `cancelled`) per task;
 * 3. no custom event of a task after its terminal event.
 * A task with no terminal event yet is valid, unless listed in `opts.expectTerminal`.
 *
 * @example
 * const log = inbox.receiver.drain() as TaskEvent[];
 * const check = checkEventLog(log);
 * if (!check.ok) throw new Error(`event ${check.index}: ${check.violation}`);
 * // checkEventLog([{ kind: 'cancelled', task_id: 'bg_0' }, { kind: 'cancelled', task_id: 'bg_0' }])
 * // → { ok: false, index: 1, violation: "exactly one terminal event per task: task 'bg_0' …" }
 */
export function checkEventLog(
  events: Iterable<TaskEvent | unknown>,
  opts: EventLogOptions = {},
): EventLogCheck {
  const terminalAt = new Map<TaskId, { index: number; kind: string }>();
  let index = 0;
  for (const event of events) {
    const why = malformed(event);
    if (why !== undefined)
      return {
        ok: false,
        index,
        violation: `every event is a well-formed TaskEvent: event ${index} is not, ${why}`,
      };
    const e = event as TaskEvent;
    const prior = terminalAt.get(e.task_id);
    if (e.kind === 'custom') {
      if (prior !== undefined) {
        return {
          ok: false,
          index,
          violation: `no custom event after the terminal one: task '${e.task_id}' emitted '${e.event_type}' after its '${prior.kind}' event at ${prior.index}`,
        };
      }
    } else if (prior !== undefined) {
      return {
        ok: false,
        index,
        violation: `exactly one terminal event per task: task '${e.task_id}' has a second terminal event ('${e.kind}') after its '${prior.kind}' event at ${prior.index}`,
      };
    } else {
      terminalAt.set(e.task_id, { index, kind: e.kind });
    }
    index++;
  }
  for (const id of opts.expectTerminal ?? []) {
    if (!terminalAt.has(id)) {
      return {
        ok: false,
        index,
        violation: `exactly one terminal event per task: task '${id}' has no terminal event`,
      };
    }
  }
  return { ok: true };
}
