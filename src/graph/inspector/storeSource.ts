/**
 * A read-only {@link InspectorSource} over a `TaskStore`: polls `load()` and reports the records
 * that changed as `TaskChange`s. For inspecting a store another process writes (`awaken-tasks serve
 * --db FILE`); it never writes, so it cannot cancel (no `cancelTree`) and sees no custom events.
 */
import type { TaskStore } from '../../stores/types.js';
import type { TaskChange } from '../../supervisor/types.js';
import { summaryFromMeta, taskIdNumber } from '../../wire/convert.js';
import type { PersistedTaskMeta, TaskId, TaskSummary } from '../../wire/types.js';
import type { InspectorSource } from './model.js';

/** A polling store source; `close` stops the polling. */
export interface StoreSource extends InspectorSource {
  /**
   * Loads the store now and reports what changed.
   *
   * @example
   * await source.refresh(); // read the store now instead of waiting for the next poll
   */
  refresh(): Promise<void>;
  /**
   * Stops polling the store.
   *
   * @example
   * source.close();
   */
  close(): void;
}

interface Held {
  meta: PersistedTaskMeta;
  text: string;
  summary: TaskSummary;
}

const byCreation = (a: Held, b: Held): number =>
  a.meta.created_at_ms - b.meta.created_at_ms ||
  (taskIdNumber(a.meta.task_id) ?? 0) - (taskIdNumber(b.meta.task_id) ?? 0) ||
  (a.meta.task_id < b.meta.task_id ? -1 : a.meta.task_id > b.meta.task_id ? 1 : 0);

/**
 * Loads `store` once, then every `pollMs` (default 500). A load that fails keeps the last good
 * view and is retried at the next tick (reported through `onError`).
 *
 * @example
 * const source = await createStoreSource(new SqliteTaskStore('./awaken-tasks.db', { readonly: true }));
 * const inspector = await serveInspector(source, { port: 4477 });
 */
export async function createStoreSource(
  store: Pick<TaskStore, 'load'>,
  opts: { pollMs?: number; onError?: (error: unknown) => void } = {},
): Promise<StoreSource> {
  const pollMs = opts.pollMs ?? 500;
  const held = new Map<TaskId, Held>();
  const listeners = new Set<(change: TaskChange) => void>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const refresh = async (): Promise<void> => {
    const records = await store.load();
    const changed: TaskChange[] = [];
    for (const meta of records) {
      const text = JSON.stringify(meta);
      const prev = held.get(meta.task_id);
      if (prev?.text === text) continue;
      const summary = Object.freeze(summaryFromMeta(meta));
      held.set(meta.task_id, { meta, text, summary });
      changed.push({ type: prev ? 'updated' : 'spawned', thread_id: meta.owner_thread_id, summary });
    }
    changed.sort((a, b) => byCreation(held.get(a.summary.task_id)!, held.get(b.summary.task_id)!));
    for (const change of changed) for (const l of listeners) l(change);
  };
  const tick = (): void => {
    timer = setTimeout(() => {
      refresh()
        .catch((e: unknown) => opts.onError?.(e))
        .finally(() => {
          if (!closed) tick();
        });
    }, pollMs);
    timer.unref();
  };
  await refresh();
  tick();

  const sorted = (thread?: string): Held[] =>
    [...held.values()]
      .filter((h) => thread === undefined || h.meta.owner_thread_id === thread)
      .sort(byCreation);
  return {
    get: (taskId) => held.get(taskId)?.summary,
    list: (threadId) => sorted(threadId).map((h) => h.summary),
    persistedSnapshot: () => Object.fromEntries(sorted().map((h) => [h.meta.task_id, h.meta])),
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    refresh,
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
