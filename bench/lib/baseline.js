// The plain-JavaScript baseline every scenario is compared with: each task is an async function
// with its own AbortController, its summary held in a Map. No library code.
import { setMaxListeners } from 'node:events';

export function createBaseline({ onSettled } = {}) {
  const tasks = new Map();
  let seq = 0;

  async function run(id, controller, body) {
    const signal = controller.signal;
    let next;
    try {
      const value = await body(signal);
      next = {
        ...tasks.get(id),
        status: signal.aborted ? 'cancelled' : 'completed',
        result: value,
        completed_at_ms: Date.now(),
      };
    } catch (e) {
      next = {
        ...tasks.get(id),
        status: signal.aborted ? 'cancelled' : 'failed',
        error: String(e),
        completed_at_ms: Date.now(),
      };
    }
    tasks.set(id, next);
    onSettled?.(next);
  }

  /** Starts `body(signal)`; with `parent`, the task's controller aborts when the parent's does. */
  function spawn(body, parent) {
    const id = `bg_${seq++}`;
    const controller = new AbortController();
    tasks.set(id, {
      task_id: id,
      task_type: 'shell',
      description: 'bench',
      status: 'running',
      created_at_ms: Date.now(),
      ...(parent ? { parent_context: { task_id: parent.id } } : {}),
    });
    if (parent) {
      const ps = parent.controller.signal;
      ps.addEventListener('abort', () => controller.abort(ps.reason), { once: true });
    }
    const task = { id, controller };
    run(id, controller, body);
    return task;
  }

  /** A controller whose signal may get many child listeners (a tree's inner nodes). */
  function allowManyListeners(task) {
    setMaxListeners(0, task.controller.signal);
  }

  return { tasks, spawn, allowManyListeners };
}

/** A parked baseline body: resolves once its signal aborts. */
export const parkedBody = (signal) =>
  new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });

export const quickBody = async () => ({ ok: true });
