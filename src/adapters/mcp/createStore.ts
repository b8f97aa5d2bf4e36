import { createTaskSupervisor } from '../../supervisor/createTaskSupervisor.js';
import type { SupervisedTaskStoreOptions } from './options.js';
import { SupervisedTaskStore } from './taskStore.js';

/**
 * Creates a `SupervisedTaskStore` and restores its thread from the store: tasks that were running
 * when the process died are now `failed` with the orphan error. Without `supervisor` or `store` it
 * opens SQLite at `path` (the optional peer `better-sqlite3`).
 *
 * @example
 * const taskStore = await createSupervisedTaskStore({ path: 'tasks.db' });
 */
export async function createSupervisedTaskStore(
  options: SupervisedTaskStoreOptions = {},
): Promise<SupervisedTaskStore> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `Expected \`options\` to be an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
  for (const key of [
    'pollIntervalMs',
    'defaultTtlMs',
    'maxTtlMs',
    'cancelWaitMs',
    'sweepIntervalMs',
  ] as const) {
    const v = options[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new TypeError(`Expected \`options.${key}\` to be a non-negative number, got ${String(v)}`);
    }
  }
  let store = options.store;
  let supervisor = options.supervisor;
  const owned = supervisor === undefined;
  if (supervisor === undefined) {
    if (store === undefined) {
      // Loaded only here, so a caller with its own store never needs the SQLite driver.
      const { SqliteTaskStore } = await import('../../stores/sqlite/index.js');
      store = new SqliteTaskStore(options.path ?? 'mcp-tasks.db');
    }
    supervisor = createTaskSupervisor({ store, ...(options.now === undefined ? {} : { now: options.now }) });
  }
  const taskStore = new SupervisedTaskStore(supervisor, { ...options, owned, store });
  await supervisor.loadThread(taskStore.threadId);
  return taskStore;
}
