import { v7 as uuidv7 } from 'uuid';
import type { MessageOutboxStore } from '../stores/outbox.js';
import type { TaskSupervisor } from '../supervisor/types.js';
import type { OutboxEntry } from '../wire/messaging.js';
import type { TaskSummary } from '../wire/types.js';
import { errorText } from './errorText.js';
import { findFinishedInThread, type UndeliverableReason, undeliverableDetail } from './recipients.js';
import { findLiveTaskForCaller } from './resolve.js';
import { type RevivableAgents, revive, reviverFor } from './revive.js';
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
 * outbox entry is durable in the store (not yet delivered; it ends delivered or a dead letter), or
 * `failed` (nothing was enqueued) with `recipient_not_found` (no task of the caller's thread is
 * addressed so) or `recipient_unavailable`; for a child that exists but cannot take messages,
 * `reason` says why (`recipient_finished`, `not_sub_agent`) and `detail` in words. A message that
 * revived a finished sub-agent carries `revived_as`, the new task's id.
 *
 * @example
 * const r: SendMessageReceipt = { message_id: '', status: 'failed', error: 'recipient_not_found' };
 */
export type SendMessageReceipt = {
  message_id: string;
  status: 'queued' | 'failed';
  error?: string;
  reason?: UndeliverableReason;
  detail?: string;
  revived_as?: string;
};

/**
 * The `send_message` tool. It delivers nothing itself: it resolves the recipient, commits one
 * outbox entry to the store keyed by the calling thread, and answers
 * `{"message_id": <uuidv7>, "status": "queued"}`. The plugin's `stepEnd` dispatcher delivers the
 * entry after the step's tools have finished (see `dispatchOutbox`).
 *
 * - `{relation:'child', name}`: a non-terminal task of the caller's thread, by task id, else by
 *   name. A plain task (not a sub-agent) → `failed` / `recipient_unavailable`, `reason:
 *   'not_sub_agent'`; none running but a finished one so addressed → `recipient_unavailable`,
 *   `reason: 'recipient_finished'`, unless its name is in `opts.revivable` (then it is revived: a
 *   new sub-agent of that name gets the message, `revived_as`); none at all →
 *   `recipient_not_found`. Delivered into its inbox as `{from, content}` at the step end; a child
 *   that can no longer take it then makes the message a dead letter (see `dispatchOutbox`).
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
  opts: { outbox?: MessageOutboxStore; revivable?: RevivableAgents } = {},
): ToolDefinition<SendMessageReceipt> {
  const outbox = (): MessageOutboxStore => opts.outbox ?? supervisor.messages;

  async function enqueue(
    threadId: string,
    entry: OutboxEntry,
    revivedAs?: string,
  ): Promise<ToolOutcome<SendMessageReceipt>> {
    await outbox().enqueue(threadId, entry);
    const data: SendMessageReceipt = { message_id: entry.id, status: 'queued' };
    if (revivedAs !== undefined) data.revived_as = revivedAs;
    return receipt(data);
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
        const name = stringMember(to, 'name') ?? '';
        let taskId = findLiveTaskForCaller(supervisor, { threadId: ctx.threadId, runId: ctx.runId, name });
        let revivedAs: string | undefined;
        if (taskId === undefined) {
          const finished = findFinishedInThread(supervisor, ctx.threadId, name);
          if (finished === undefined) return failed('recipient_not_found');
          const body = reviverFor(opts.revivable, supervisor, finished);
          if (body === undefined) return unavailable('recipient_finished', finished);
          taskId = revivedAs = await revive(supervisor, ctx.threadId, finished, body);
        } else if (supervisor.get(taskId)?.task_type !== 'sub_agent') {
          return unavailable('not_sub_agent', supervisor.get(taskId));
        }
        return enqueue(
          ctx.threadId,
          {
            id,
            route: {
              ChildInbox: {
                task_id: taskId,
                owner_thread_id: ctx.threadId,
                sender_agent_id: sender,
                message,
              },
            },
            attempts: 0,
          },
          revivedAs,
        );
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

function unavailable(
  reason: UndeliverableReason,
  s: TaskSummary | undefined,
): ToolOutcome<SendMessageReceipt> {
  return receipt({
    message_id: '',
    status: 'failed',
    error: 'recipient_unavailable',
    reason,
    detail: undeliverableDetail(reason, s),
  });
}
