/** What the inspector reads, and the JSON it sends the page: snapshots, nodes, task details. */
import type { TaskChange } from '../../supervisor/types.js';
import type { PersistedTaskMeta, TaskId, TaskParentContext, TaskSummary } from '../../wire/types.js';
import { buildTaskForest, taskLabelLines, walkTaskForest } from '../taskTree.js';
import type { EventHistory, RecordedTaskEvent } from './events.js';

/**
 * What the inspector needs from a supervisor. A `TaskSupervisor` is one; so is the read-only
 * source of `createStoreSource` (no `cancelTree`: its page cannot cancel).
 */
export interface InspectorSource {
  /**
   * A task's current summary, `undefined` when unknown.
   *
   * @example
   * const summary = source.get('bg_0');
   */
  get(taskId: TaskId): TaskSummary | undefined;
  /**
   * A thread's summaries in creation order.
   *
   * @example
   * for (const summary of source.list('thread-1')) console.log(summary.task_id, summary.status);
   */
  list(threadId: string): TaskSummary[];
  /**
   * Calls `listener` on every status change; returns the unsubscribe function.
   *
   * @example
   * const unsubscribe = source.subscribe((change) => console.log(change));
   */
  subscribe(listener: (change: TaskChange) => void): () => void;
  /**
   * Used to enumerate the owner threads (and a task's thread).
   *
   * @example
   * const threads = new Set(Object.values(source.persistedSnapshot()).map((m) => m.owner_thread_id));
   */
  persistedSnapshot(): Record<TaskId, PersistedTaskMeta>;
  /**
   * Cancels a task and its live descendants; absent on read-only sources.
   *
   * @example
   * const cancelled = source.cancelTree?.('bg_0') ?? 0;
   */
  cancelTree?(taskId: TaskId): number;
}

/** One task as the page draws it. */
export interface InspectorNode {
  thread_id: string;
  summary: TaskSummary;
  /** `taskLabelLines(summary)`: id · type, description, status · duration. */
  label: string[];
  latest?: RecordedTaskEvent;
}

/** Every thread's tree, parents before children. */
export interface InspectorSnapshot {
  threads: Array<{ thread_id: string; nodes: InspectorNode[] }>;
  /** Whether `POST /cancel` can work (the source has `cancelTree`). */
  can_cancel: boolean;
}

/** What `GET /api/tasks/:id` answers. */
export interface InspectorTaskDetail {
  thread_id: string | undefined;
  summary: TaskSummary;
  /** The chain of ancestors by `parent_context.task_id`, root first; `summary` null when unknown here. */
  lineage: Array<{ task_id: TaskId; summary: TaskSummary | null }>;
  parent_context: TaskParentContext;
  events: readonly RecordedTaskEvent[];
}

/**
 * A node for `summary`: its label lines and latest custom event.
 *
 * @example
 * toNode('demo', supervisor.get('bg_0')!, history).label; // ['bg_0 · fetch', …]
 */
export function toNode(threadId: string, summary: TaskSummary, history: EventHistory): InspectorNode {
  const node: InspectorNode = { thread_id: threadId, summary, label: taskLabelLines(summary) };
  const latest = history.latestCustom(summary.task_id);
  if (latest !== undefined) node.latest = latest;
  return node;
}

/**
 * Owner threads of the source, in first-seen order of their tasks.
 *
 * @example
 * threadIds(supervisor); // ['demo', 'ops']
 */
export function threadIds(source: InspectorSource): string[] {
  const seen = new Set<string>();
  for (const meta of Object.values(source.persistedSnapshot())) seen.add(meta.owner_thread_id);
  return [...seen];
}

/**
 * The current trees of every thread (each forest walked depth-first, parents first).
 *
 * @example
 * buildSnapshot(supervisor, history).threads[0]?.nodes.map((n) => n.summary.task_id);
 */
export function buildSnapshot(source: InspectorSource, history: EventHistory): InspectorSnapshot {
  const threads = threadIds(source).map((thread_id) => ({
    thread_id,
    nodes: walkTaskForest(buildTaskForest(source.list(thread_id))).map((n) =>
      toNode(thread_id, n.summary, history),
    ),
  }));
  return { threads, can_cancel: typeof source.cancelTree === 'function' };
}

/**
 * Details of one task, or `undefined` when the source does not hold it.
 *
 * @example
 * taskDetail(supervisor, history, 'bg_3')?.lineage.map((a) => a.task_id); // ['bg_0', 'bg_2']
 */
export function taskDetail(
  source: InspectorSource,
  history: EventHistory,
  taskId: TaskId,
): InspectorTaskDetail | undefined {
  const summary = source.get(taskId);
  if (summary === undefined) return undefined;
  const lineage: InspectorTaskDetail['lineage'] = [];
  const seen = new Set<TaskId>([taskId]);
  let parent = summary.parent_context?.task_id;
  while (parent !== undefined && !seen.has(parent) && lineage.length < 1000) {
    seen.add(parent);
    const s = source.get(parent);
    lineage.unshift({ task_id: parent, summary: s ?? null });
    parent = s?.parent_context?.task_id;
  }
  return {
    thread_id: source.persistedSnapshot()[taskId]?.owner_thread_id,
    summary,
    lineage,
    parent_context: summary.parent_context ?? {},
    events: history.of(taskId),
  };
}
