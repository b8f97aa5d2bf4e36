import type { InboxSender } from '../inbox/types.js';
import type { MessageOutboxStore } from '../stores/outbox.js';
import type { TaskSupervisor } from '../supervisor/types.js';
import { cancelTaskTool } from './cancelTask.js';
import { dispatchOutbox } from './dispatch.js';
import { recoverFailedMessagesTool } from './recoverMessages.js';
import type { RevivableAgents } from './revive.js';
import { sendMessageTool } from './sendMessage.js';
import type { DurableMessageSink, ToolDefinition } from './types.js';

/**
 * The id of the background-tasks plugin, as upstream.
 *
 * @example
 * createBackgroundTasksPlugin(supervisor).id === BACKGROUND_TASKS_PLUGIN_ID; // true
 */
export const BACKGROUND_TASKS_PLUGIN_ID = 'background_tasks';

/**
 * What `createBackgroundTasksPlugin` takes besides the supervisor.
 *
 * @example
 * const opts: BackgroundTasksPluginOptions = { durableSink: mailboxSink, recoverFailedMessages: false };
 */
export interface BackgroundTasksPluginOptions {
  /** Where durable messages go; else the ambient sink (`withDurableMessageSink`); else none. */
  durableSink?: DurableMessageSink;
  /** The outbox; default `supervisor.messages` (the supervisor's store). */
  outbox?: MessageOutboxStore;
  /** `false` leaves out `recover_failed_messages` (an operator tool). Default `true`. */
  recoverFailedMessages?: boolean;
  /**
   * Sub-agents that a message brings back once they finished, by spawn name (opt-in): the message
   * starts a new sub-agent of that name whose body gets the previous one's final summary.
   */
  revivable?: RevivableAgents;
}

/**
 * The background-tasks plugin: the `cancel_task`, `send_message` and `recover_failed_messages`
 * tools and the run hooks an agent loop calls.
 *
 * @example
 * const plugin: BackgroundTasksPlugin = createBackgroundTasksPlugin(supervisor);
 */
export interface BackgroundTasksPlugin {
  id: 'background_tasks';
  /** `[cancel_task, send_message, recover_failed_messages]` (the last unless switched off). */
  tools: ToolDefinition[];
  hooks: {
    /** Restores the thread's persisted tasks; `running` ones with no live task become orphaned `failed`. */
    runStart(ctx: { threadId: string }): Promise<void>;
    /**
     * Runs after every model step, a cancelled one too: dispatches the thread's outbox (dead
     * letters reported to `ctx.inbox`, the run's inbox, when given), then reports whether the
     * thread still has running tasks (upstream's pending-work flag).
     */
    stepEnd(ctx: { threadId: string; inbox?: InboxSender }): Promise<{ has_pending: boolean }>;
    /** A no-op: the supervisor persists every change itself. */
    runEnd(ctx: { threadId: string }): Promise<void>;
  };
}

/**
 * Creates the background-tasks plugin for `supervisor`: hooks an agent loop calls at the start of
 * a run and after each step, and the `cancel_task`, `send_message` and `recover_failed_messages`
 * tools. `runStart` calls `supervisor.loadThread(threadId)`, so orphans are detected after a real
 * restart; `stepEnd` delivers what `send_message` queued on the thread (`dispatchOutbox`) before
 * the pending check.
 *
 * @example
 * const plugin = createBackgroundTasksPlugin(supervisor, { durableSink });
 * await plugin.hooks.runStart({ threadId: 'thread-1' });
 * await plugin.hooks.stepEnd({ threadId: 'thread-1' }); // { has_pending: false }
 */
export function createBackgroundTasksPlugin(
  supervisor: TaskSupervisor,
  opts: BackgroundTasksPluginOptions = {},
): BackgroundTasksPlugin {
  const outbox = opts.outbox;
  const sendOpts: Parameters<typeof sendMessageTool>[1] = {};
  if (outbox !== undefined) sendOpts.outbox = outbox;
  if (opts.revivable !== undefined) sendOpts.revivable = opts.revivable;
  const tools: ToolDefinition[] = [cancelTaskTool(supervisor), sendMessageTool(supervisor, sendOpts)];
  if (opts.recoverFailedMessages !== false) {
    tools.push(recoverFailedMessagesTool(supervisor, outbox ? { outbox } : {}));
  }
  return {
    id: BACKGROUND_TASKS_PLUGIN_ID,
    tools,
    hooks: {
      async runStart({ threadId }) {
        await supervisor.loadThread(threadId);
      },
      async stepEnd({ threadId, inbox }) {
        await dispatchOutbox({
          supervisor,
          outbox: outbox ?? supervisor.messages,
          threadId,
          sink: opts.durableSink,
          inbox,
          revivable: opts.revivable,
        });
        return { has_pending: supervisor.hasRunning(threadId) };
      },
      async runEnd() {},
    },
  };
}
