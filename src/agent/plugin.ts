import type { TaskSupervisor } from '../supervisor/types.js';
import { cancelTaskTool } from './cancelTask.js';
import type { ToolDefinition } from './types.js';

/**
 * The id of the background-tasks plugin, as upstream.
 *
 * @example
 * createBackgroundTasksPlugin(supervisor).id === BACKGROUND_TASKS_PLUGIN_ID; // true
 */
export const BACKGROUND_TASKS_PLUGIN_ID = 'background_tasks';

/**
 * The background-tasks plugin: the `cancel_task` tool and the run hooks an agent loop calls.
 *
 * @example
 * const plugin: BackgroundTasksPlugin = createBackgroundTasksPlugin(supervisor);
 */
export interface BackgroundTasksPlugin {
  id: 'background_tasks';
  /** `[cancel_task]`; `send_message` is wired by the host, which owns the durable sink. */
  tools: ToolDefinition[];
  hooks: {
    /** Restores the thread's persisted tasks; `running` ones with no live task become orphaned `failed`. */
    runStart(ctx: { threadId: string }): Promise<void>;
    /** Whether the thread still has running tasks (upstream's pending-work flag). */
    stepEnd(ctx: { threadId: string }): { has_pending: boolean };
    /** A no-op: the supervisor persists every change itself. */
    runEnd(ctx: { threadId: string }): Promise<void>;
  };
}

/**
 * Creates the background-tasks plugin for `supervisor`: hooks an agent loop calls at the start of
 * a run, after each step and at its end, and the `cancel_task` and `send_message` tools.
 * `runStart` calls `supervisor.loadThread(threadId)`, so orphans are detected after a real restart.
 *
 * @example
 * const plugin = createBackgroundTasksPlugin(supervisor);
 * await plugin.hooks.runStart({ threadId: 'thread-1' });
 * plugin.hooks.stepEnd({ threadId: 'thread-1' }); // { has_pending: false }
 */
export function createBackgroundTasksPlugin(supervisor: TaskSupervisor): BackgroundTasksPlugin {
  return {
    id: BACKGROUND_TASKS_PLUGIN_ID,
    tools: [cancelTaskTool(supervisor)],
    hooks: {
      async runStart({ threadId }) {
        await supervisor.loadThread(threadId);
      },
      stepEnd({ threadId }) {
        return { has_pending: supervisor.hasRunning(threadId) };
      },
      async runEnd() {},
    },
  };
}
