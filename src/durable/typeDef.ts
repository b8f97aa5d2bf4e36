import type { TaskSupervisor } from '../supervisor/types.js';
import { DURABLE_DEF, DURABLE_RUNTIME, type DurableDef } from './host.js';
import type { DurableRuntime } from './runtime.js';

/** The durable definition a task type carries, or `undefined` for a plain one. */
export function durableDefOf(taskType: unknown): DurableDef | undefined {
  if (typeof taskType !== 'object' || taskType === null) return undefined;
  return (taskType as { [DURABLE_DEF]?: DurableDef })[DURABLE_DEF];
}

/** The durable runtime of a supervisor made by `createTaskSupervisor`; a `TypeError` for any other. */
export function durableRuntimeOf(supervisor: TaskSupervisor): DurableRuntime {
  const get = (supervisor as { [DURABLE_RUNTIME]?: () => DurableRuntime })[DURABLE_RUNTIME];
  if (typeof get !== 'function') {
    throw new TypeError(
      'Expected `supervisor` to be made by createTaskSupervisor (durable tasks need its runtime), got another object',
    );
  }
  return get.call(supervisor);
}

/** A short description of a bad argument. */
export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  const t = (v as { taskType?: unknown }).taskType;
  return typeof t === 'string' ? `task type '${t}' without \`durable\`` : 'an object';
}
