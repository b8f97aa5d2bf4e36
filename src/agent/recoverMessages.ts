import type { MessageOutboxStore } from '../stores/outbox.js';
import type { TaskSupervisor } from '../supervisor/types.js';
import type { Json } from '../wire/types.js';
import { errorText } from './errorText.js';
import {
  RECOVER_FAILED_MESSAGES_DESCRIPTION,
  RECOVER_FAILED_MESSAGES_PARAMETERS,
  RECOVER_FAILED_MESSAGES_TOOL_NAME,
  cloneSchema,
} from './schemas.js';
import type { ToolCallContext, ToolDefinition, ToolOutcome } from './types.js';
import { member } from './validation.js';

/**
 * One dead letter as `recover_failed_messages` lists it (no sender, no text).
 *
 * @example
 * const item: FailedMessageSummary = { message_id: 'm1', recipient_thread_id: 't2', recipient_agent_id: null, error: 'sink down' };
 */
export type FailedMessageSummary = {
  message_id: string;
  recipient_thread_id: string;
  recipient_agent_id: string | null;
  error: string;
  /** For a message to a sub-agent (the child route): the recipient task. */
  task_id?: string;
};

/**
 * The data `recover_failed_messages` returns: `list` carries the messages; `replay` and `clear`
 * the number of dead letters they moved or deleted.
 *
 * @example
 * const r: RecoverFailedMessagesResult = { action: 'replay', count: 2 };
 */
export type RecoverFailedMessagesResult =
  | { action: 'list'; count: number; messages: FailedMessageSummary[] }
  | { action: 'replay' | 'clear'; count: number };

/**
 * The `recover_failed_messages` tool: the calling thread's durable messages that became dead
 * letters. `{action:'list'}` (the default for a missing or non-string action) shows them;
 * `replay` puts exactly the listed ones back into the outbox with a fresh attempt budget and the
 * same `message_id` (delivered at this step's end); `clear` deletes exactly the listed ones. Each
 * action is one store transaction, so a dead letter added meanwhile is neither replayed nor lost.
 * An unknown action → `Invalid arguments: unknown action '<x>'`.
 *
 * @example
 * const tool = recoverFailedMessagesTool(supervisor);
 * await tool.execute({ action: 'replay' }, { threadId: 'thread-1' }); // data { action: 'replay', count: 2 }
 */
export function recoverFailedMessagesTool(
  supervisor: TaskSupervisor,
  opts: { outbox?: MessageOutboxStore } = {},
): ToolDefinition {
  const outbox = (): MessageOutboxStore => opts.outbox ?? supervisor.messages;

  async function run(args: unknown, ctx: ToolCallContext): Promise<ToolOutcome> {
    const raw = member(args, 'action');
    const action = typeof raw === 'string' ? raw : 'list';
    if (action !== 'list' && action !== 'replay' && action !== 'clear') {
      return { ok: false, error: `Invalid arguments: unknown action '${action}'` };
    }
    const letters = await outbox().deadLetters(ctx.threadId);
    let result: RecoverFailedMessagesResult;
    if (action === 'list') {
      result = {
        action,
        count: letters.length,
        messages: letters.map(({ request: r, error, task_id }) => {
          const item: FailedMessageSummary = {
            message_id: r.message_id,
            recipient_thread_id: r.recipient_thread_id,
            recipient_agent_id: r.recipient_agent_id,
            error,
          };
          if (task_id !== undefined) item.task_id = task_id;
          return item;
        }),
      };
    } else {
      const ids = letters.map((l) => l.request.message_id);
      const count =
        action === 'replay'
          ? await outbox().replay(ctx.threadId, ids)
          : await outbox().clear(ctx.threadId, ids);
      result = { action, count };
    }
    return { ok: true, data: result as unknown as Json };
  }

  return {
    name: RECOVER_FAILED_MESSAGES_TOOL_NAME,
    description: RECOVER_FAILED_MESSAGES_DESCRIPTION,
    parameters: cloneSchema(RECOVER_FAILED_MESSAGES_PARAMETERS),
    // Upstream has no validate step: the action is checked when the tool runs.
    validate: () => undefined,
    async execute(args, ctx) {
      try {
        return await run(args, ctx ?? { threadId: '' });
      } catch (e) {
        return { ok: false, error: `Execution failed: ${errorText(e)}` };
      }
    },
  };
}
