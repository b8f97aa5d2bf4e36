import type { Tool } from 'ai';
import { cancelTaskTool } from '../../agent/cancelTask.js';
import { sendMessageTool } from '../../agent/sendMessage.js';
import type { ToolCallContext } from '../../agent/types.js';
import type { InboxSender } from '../../inbox/types.js';
import type { MessageOutboxStore } from '../../stores/outbox.js';
import type { TaskSupervisor } from '../../supervisor/types.js';
import { type AiToolOutput, toAiTool } from './toAiTool.js';

/** What `createTaskTools` takes besides the supervisor and the run's context. */
export interface TaskToolsOptions {
  /**
   * Where `send_message` queues its messages (default: the supervisor's store). Delivery happens
   * when your loop calls `dispatchOutbox` (or the plugin's `stepEnd`) after the model step.
   */
  outbox?: MessageOutboxStore;
  /** Where tasks started by these tools report (else the spawn's or the supervisor's inbox). */
  inbox?: InboxSender;
}

/**
 * The AI SDK tools `createTaskTools` returns, keyed by the names the model sees. A plain object
 * type (not an interface), so it is an AI SDK `ToolSet` as it is.
 *
 * @example
 * const tools: TaskTools = createTaskTools(supervisor, { threadId: 'chat-1' });
 * await generateText({ model, tools, prompt: 'Stop the crawler.' });
 */
export type TaskTools = {
  cancel_task: Tool<unknown, AiToolOutput>;
  send_message: Tool<unknown, AiToolOutput>;
};

/**
 * The runtime's `cancel_task` and `send_message` tools as AI SDK tools, bound to a supervisor and
 * the run's context (`threadId`, `runId`, `agentId`, `runController`). Spread them into
 * `generateText({ tools })` next to your own tools. The tools are the same objects
 * `awaken-tasks/agent` exports, so their validation, receipts and error texts are identical.
 *
 * @example
 * import { generateText } from 'ai';
 * import { createTaskTools } from 'awaken-tasks/ai-sdk';
 * const tools = createTaskTools(supervisor, { threadId: 'chat-1', runId: 'run-1' });
 * await generateText({ model, tools: { ...tools }, prompt: 'Stop the crawler.' });
 */
export function createTaskTools(
  supervisor: TaskSupervisor,
  context: ToolCallContext,
  options: TaskToolsOptions = {},
): TaskTools {
  if (supervisor === null || typeof supervisor !== 'object' || typeof supervisor.spawn !== 'function') {
    throw new TypeError(
      `Expected \`supervisor\` to be a TaskSupervisor, got ${supervisor === null ? 'null' : typeof supervisor}`,
    );
  }
  const lineage = options.inbox === undefined ? {} : { inbox: options.inbox };
  const send = sendMessageTool(supervisor, options.outbox === undefined ? {} : { outbox: options.outbox });
  return {
    cancel_task: toAiTool(cancelTaskTool(supervisor), context, lineage),
    send_message: toAiTool(send, context, lineage),
  };
}
