import { v7 as uuidv7 } from 'uuid';
import type { MessageOutboxStore } from '../stores/outbox.js';
import type { TaskSupervisor } from '../supervisor/types.js';
import type { OutboxEntry } from '../wire/messaging.js';
import { errorText } from './errorText.js';
import { findLiveTaskForCaller } from './resolve.js';
import {
  SEND_MESSAGE_DESCRIPTION,
  SEND_MESSAGE_PARAMETERS,
  SEND_MESSAGE_TOOL_NAME,
  cloneSchema,
} from './schemas.js';
import type { ToolCallContext, ToolDefinition, ToolOutcome } from './types.js';
import { member, stringMember, validateSendMessageArgs } from './validation.js';

/**
 * The receipt `send_message` returns as its data: `queued` with the message's UUIDv7 once the
 * outbox entry is durable in the store (not yet delivered), or `failed` with
 * `recipient_not_found` / `recipient_unavailable` (nothing was enqueued).
 *
 * @example
 * const r: SendMessageReceipt = { message_id: '', status: 'failed', error: 'recipient_not_found' };
 */
export type SendMessageReceipt = {
  message_id: string;
  status: 'queued' | 'failed';
  error?: string;
};

/**
 * The `send_message` tool. It delivers nothing itself: it resolves the recipient, commits one
 * outbox entry to the store keyed by the calling thread, and answers
 * `{"message_id": <uuidv7>, "status": "queued"}`. The plugin's `stepEnd` dispatcher delivers the
 * entry after the step's tools have finished (see `dispatchOutbox`).
 *
 * - `{relation:'child', name}`: a non-terminal task of the caller's thread, by task id, else by
 *   name; none → `failed` / `recipient_not_found`. Delivered best effort into its inbox as
 *   `{from, content}`.
 * - `{relation:'parent'}`: the durable route to `ctx.parentThreadId`; none → `failed` /
 *   `recipient_unavailable`.
 * - `{relation:'agent', thread_id, agent_id?}`: the durable route to that thread (an empty
 *   `agent_id` counts as none).
 *
 * Invalid arguments are a tool error (`Invalid arguments: …`), not a receipt; a store that cannot
 * write the entry gives `Execution failed: …`, never `queued`. The outbox is `opts.outbox`, else
 * `supervisor.messages` (the supervisor's store).
 *
 * @example
 * const tool = sendMessageTool(supervisor);
 * await tool.execute({ to: { relation: 'parent' }, message: 'analysis complete' }, { threadId: 'child', parentThreadId: 'parent' });
 * // data { message_id: '0190…', status: 'queued' }
 */
export function sendMessageTool(
  supervisor: TaskSupervisor,
  opts: { outbox?: MessageOutboxStore } = {},
): ToolDefinition<SendMessageReceipt> {
  const outbox = (): MessageOutboxStore => opts.outbox ?? supervisor.messages;

  async function enqueue(threadId: string, entry: OutboxEntry): Promise<ToolOutcome<SendMessageReceipt>> {
    await outbox().enqueue(threadId, entry);
    return receipt({ message_id: entry.id, status: 'queued' });
  }

  async function run(args: unknown, ctx: ToolCallContext): Promise<ToolOutcome<SendMessageReceipt>> {
    const invalid = validateSendMessageArgs(args);
    if (invalid !== undefined) return { ok: false, error: `Invalid arguments: ${invalid}` };
    const to = member(args, 'to');
    const message = stringMember(args, 'message') ?? '';
    const sender = ctx.agentId ?? '';
    const id = uuidv7();
    switch (stringMember(to, 'relation')) {
      case 'child': {
        const taskId = findLiveTaskForCaller(supervisor, {
          threadId: ctx.threadId,
          runId: ctx.runId,
          name: stringMember(to, 'name') ?? '',
        });
        if (taskId === undefined) return failed('recipient_not_found');
        return enqueue(ctx.threadId, {
          id,
          route: {
            ChildInbox: { task_id: taskId, owner_thread_id: ctx.threadId, sender_agent_id: sender, message },
          },
          attempts: 0,
        });
      }
      case 'parent': {
        if (ctx.parentThreadId === undefined || ctx.parentThreadId === '')
          return failed('recipient_unavailable');
        const request = {
          message_id: id,
          recipient_thread_id: ctx.parentThreadId,
          recipient_agent_id: null,
          sender_agent_id: sender,
          message,
        };
        return enqueue(ctx.threadId, { id, route: { Durable: request }, attempts: 0 });
      }
      default: {
        // 'agent' (validation admits nothing else).
        const agentId = stringMember(to, 'agent_id');
        const request = {
          message_id: id,
          recipient_thread_id: stringMember(to, 'thread_id') ?? '',
          recipient_agent_id: agentId === undefined || agentId === '' ? null : agentId,
          sender_agent_id: sender,
          message,
        };
        return enqueue(ctx.threadId, { id, route: { Durable: request }, attempts: 0 });
      }
    }
  }

  return {
    name: SEND_MESSAGE_TOOL_NAME,
    description: SEND_MESSAGE_DESCRIPTION,
    parameters: cloneSchema(SEND_MESSAGE_PARAMETERS),
    validate: validateSendMessageArgs,
    async execute(args, ctx) {
      try {
        return await run(args, ctx ?? { threadId: '' });
      } catch (e) {
        return { ok: false, error: `Execution failed: ${errorText(e)}` };
      }
    },
  };
}

function receipt(data: SendMessageReceipt): ToolOutcome<SendMessageReceipt> {
  return { ok: true, data };
}

function failed(error: 'recipient_not_found' | 'recipient_unavailable'): ToolOutcome<SendMessageReceipt> {
  return receipt({ message_id: '', status: 'failed', error });
}
