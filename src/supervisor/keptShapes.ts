import { createInbox } from '../inbox/inbox.js';
import type { TaskSummary } from '../wire/types.js';
import { type ContextHost, PlainTaskContext } from './context.js';
import { newEmitRoute } from './emitRoute.js';
import { newEntry } from './entry.js';

/**
 * One object of each hidden class the emit path reads (`ctx.emit` → route → entry → inbox), kept
 * for the life of the process. V8 holds a hidden class weakly: a class instance's (the maps its
 * fields add) lives only while an instance does, and so does an object literal's when its function
 * runs too rarely to keep a boilerplate (a supervisor's route, a task's entry). Without these, a
 * garbage collection while no supervisor, task or inbox is alive throws away every optimised emit
 * path, and the next task relearns it while it emits (docs/design.md, fourth pass on the emit
 * path). The inbox is unbounded so that its queue's `capacity` field holds a double from the
 * first inbox on; the others hold empty stand-ins and are never called. Exported so that they
 * stay: V8 drops a module's unexported binding that no function uses once the module has run.
 * Not part of the package's API.
 */
export const KEPT_SHAPES: readonly object[] = [
  createInbox<unknown>({ capacity: Number.POSITIVE_INFINITY }),
  new PlainTaskContext({} as ContextHost, newEmitRoute(new Set()), keptEntry()),
];

/**
 * An entry whose fields a task's end (and its emits) write are written once already. V8 first treats a field that
 * has only been initialised as constant, and the optimised emit path relies on that for `done`;
 * the first task to end rewrote it and threw that code away (a "code dependencies"
 * deoptimisation), so the next task relearned it while emitting. Written here, before any code
 * is optimised, the fields are variable from the start.
 */
function keptEntry() {
  const entry = newEntry({
    id: '',
    ownerThreadId: '',
    name: undefined,
    summary: { status: 'running' } as TaskSummary,
    local: true,
    inbox: undefined,
    agentInbox: undefined,
  });
  entry.cancelRequested = true;
  entry.done = true;
  entry.delivered = true;
  entry.latest = { event: { kind: 'custom', task_id: '', event_type: '', payload: null } };
  entry.latestStores = 1;
  return entry;
}
