import type { TaskScope, ToolLineage } from '../lineage/lineage.js';
import type { TaskId, TaskParentContext } from '../wire/types.js';
import { compactParentContext } from '../wire/convert.js';
import type { TaskEntry } from './entry.js';
import { SpawnError } from './errors.js';
import type { SpawnOptions } from './types.js';

/** Names that address something else in `send_message` and `cancel_task`. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['parent', 'self', 'all', 'broadcast']);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

function expectString(value: unknown, what: string): void {
  if (typeof value !== 'string')
    throw new TypeError(`Expected \`${what}\` to be a string, got ${describe(value)}`);
}

/** Throws `TypeError` for spawn options of the wrong shape. */
export function checkSpawnOptions(opts: unknown, agent: boolean): asserts opts is SpawnOptions {
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`Expected \`opts\` to be an object, got ${describe(opts)}`);
  }
  const o = opts as Record<string, unknown>;
  expectString(o.threadId, 'opts.threadId');
  if (!agent) expectString(o.taskType, 'opts.taskType');
  expectString(o.description, 'opts.description');
  if (o.name !== undefined) expectString(o.name, 'opts.name');
  const pc = o.parentContext;
  if (pc !== undefined) {
    if (typeof pc !== 'object' || pc === null) {
      throw new TypeError(`Expected \`opts.parentContext\` to be an object, got ${describe(pc)}`);
    }
    for (const key of ['task_id', 'run_id', 'call_id', 'agent_id'] as const) {
      const v = (pc as Record<string, unknown>)[key];
      if (v !== undefined) expectString(v, `opts.parentContext.${key}`);
    }
  }
  const inbox = o.inbox as { send?: unknown } | undefined;
  if (
    inbox !== undefined &&
    (typeof inbox !== 'object' || inbox === null || typeof inbox.send !== 'function')
  ) {
    throw new TypeError(`Expected \`opts.inbox\` to be an InboxSender, got ${describe(inbox)}`);
  }
  const priority = o.priority;
  if (priority !== undefined && (typeof priority !== 'number' || !Number.isFinite(priority)))
    throw new TypeError(`Expected \`opts.priority\` to be a finite number, got ${describe(priority)}`);
  const timeout = o.timeoutMs;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0))) {
    throw new TypeError(
      `Expected \`opts.timeoutMs\` to be a non-negative number, got ${typeof timeout === 'number' ? String(timeout) : describe(timeout)}`,
    );
  }
}

/**
 * How a spawn's lineage is filled in (as the Rust runtime does): explicit fields win. Without an
 * explicit `task_id`, the ambient task fills `task_id` and, when the spawn sets no `run_id`, its own
 * `run_id`, so a nested task records the run its ancestors belong to. Ambient tool lineage then
 * fills a still-missing `run_id` (even when empty) and `call_id`/`agent_id` when non-empty.
 */
export function mergeParentContext(
  explicit: TaskParentContext | undefined,
  ambient: TaskScope | undefined,
  lineage: ToolLineage | undefined,
): TaskParentContext {
  const pc = compactParentContext(explicit);
  if (pc.task_id === undefined && ambient !== undefined) {
    pc.task_id = ambient.task_id;
    const runId = ambient.parent_context?.run_id;
    if (pc.run_id === undefined && runId !== undefined) pc.run_id = runId;
  }
  if (lineage !== undefined) {
    if (pc.run_id === undefined && lineage.run_id !== undefined) pc.run_id = lineage.run_id;
    if (pc.call_id === undefined && lineage.call_id) pc.call_id = lineage.call_id;
    if (pc.agent_id === undefined && lineage.agent_id) pc.agent_id = lineage.agent_id;
  }
  return pc;
}

/** What the registry must answer for the checks (the `Registry` itself: nothing is allocated per spawn). */
export interface CheckHost {
  readonly byId: ReadonlyMap<TaskId, TaskEntry>;
  runningNamed(threadId: string, name: string): TaskEntry | undefined;
}

/** Name, parent and run checks, in the contract's order; throws `SpawnError`. Consumes nothing. */
export function checkSpawnAllowed(
  host: CheckHost,
  cancelledRuns: ReadonlySet<string>,
  threadId: string,
  name: string | undefined,
  pc: TaskParentContext,
): void {
  if (name !== undefined) {
    if (RESERVED_NAMES.has(name)) throw new SpawnError('reserved_name', `'${name}' is a reserved name`);
    if (host.runningNamed(threadId, name) !== undefined) {
      throw new SpawnError('duplicate_name', `a running task named '${name}' already exists`);
    }
  }
  if (pc.task_id !== undefined) {
    const parent = host.byId.get(pc.task_id);
    if (parent !== undefined) {
      const status = parent.summary.status;
      if (status !== 'running')
        throw new SpawnError('parent_cancelled', `parent task '${pc.task_id}' is ${status}`);
      if (parent.cancelRequested)
        throw new SpawnError('parent_cancelled', `parent task '${pc.task_id}' is cancelling`);
    }
  } else if (pc.run_id !== undefined) {
    // A blank run id names no run, so it is never fenced.
    const runId = pc.run_id.trim();
    if (runId !== '' && cancelledRuns.has(runId))
      throw new SpawnError('parent_cancelled', `run '${pc.run_id}' is cancelled`);
  }
}
