import { v7 as uuidv7 } from 'uuid';
import { SendError } from '../supervisor/errors.js';
import type { TaskSupervisor } from '../supervisor/types.js';
import type { Json } from '../wire/types.js';
import { errorText } from './errorText.js';
import { findLiveTaskOfThread } from './resolve.js';
import {
  SEND_MESSAGE_DESCRIPTION,
  SEND_MESSAGE_PARAMETERS,
  SEND_MESSAGE_TOOL_NAME,
  cloneSchema,
} from './schemas.js';
import type {
  DurableMessageRequest,
  DurableMessageSink,
  ToolCallContext,
  ToolDefinition,
  ToolOutcome,
} from './types.js';
import { member, stringMember, validateSendMessageArgs } from './validation.js';

/**
 * The receipt `send_message` returns to the model as its data; every delivery outcome is a
 * receipt, never a tool error.
 *
 * @example
 * const r: SendMessageReceipt = { message_id: '', status: 'failed', error: 'recipient_not_found' };
 */
export interface SendMessageReceipt {
  message_id: string;
  status: 'accepted' | 'failed';
  error?: string;
}

/**
 * How a `SendError` becomes a receipt error code: an unknown task is `recipient_not_found`,
 * another thread's task `permission_denied`, anything else `recipient_unavailable`.
 *
 * @example
 * sendErrorToReceiptCode(new SendError('not_owner')); // 'permission_denied'
 */
export function sendErrorToReceiptCode(e: SendError): string {
  switch (e.code) {
    case 'task_not_found':
      return 'recipient_not_found';
    case 'not_owner':
      return 'permission_denied';
    default:
      return 'recipient_unavailable';
  }
}

/**
 * The `send_message` tool, which lets a model message its sub-agents, its parent or another
 * agent. `{relation:'child', name}` delivers live
 * to a non-terminal sub-agent of the caller's thread, found by task id, else by name (message id: a
 * fresh UUIDv7); `{relation:'parent'}` (needs `ctx.parentThreadId`) and
 * `{relation:'agent', thread_id, agent_id?}` go through `durableSink` (message id: its dispatch id).
 * Without a sink those two routes answer `transport_failed: no durable sink configured`.
 *
 * @example
 * const tool = sendMessageTool(supervisor, { durableSink });
 * await tool.execute({ to: { relation: 'child', name: 'researcher' }, message: 'focus on 2024' }, { threadId: 't' });
 */
export function sendMessageTool(
  supervisor: TaskSupervisor,
  opts: { durableSink?: DurableMessageSink } = {},
): ToolDefinition {
  const sink = opts.durableSink;

  async function durable(req: DurableMessageRequest): Promise<ToolOutcome> {
    if (sink === undefined) return failed('transport_failed: no durable sink configured');
    try {
      return accepted(String(await sink.sendAgentMessage(req)));
    } catch (e) {
      return failed(`transport_failed: ${errorText(e)}`);
    }
  }

  async function run(args: unknown, ctx: ToolCallContext): Promise<ToolOutcome> {
    const invalid = validateSendMessageArgs(args);
    if (invalid !== undefined) return { ok: false, error: `Invalid arguments: ${invalid}` };
    const to = member(args, 'to');
    const message = stringMember(args, 'message') ?? '';
    const sender = ctx.agentId ?? '';
    switch (stringMember(to, 'relation')) {
      case 'child': {
        const taskId = findLiveTaskOfThread(supervisor, ctx.threadId, stringMember(to, 'name') ?? '');
        if (taskId === undefined) return failed('recipient_not_found');
        try {
          supervisor.sendTaskInboxMessage(taskId, ctx.threadId, sender, message);
        } catch (e) {
          if (e instanceof SendError) return failed(sendErrorToReceiptCode(e));
          throw e;
        }
        return accepted(uuidv7());
      }
      case 'parent':
        if (ctx.parentThreadId === undefined || ctx.parentThreadId === '')
          return failed('recipient_unavailable');
        return durable({
          recipient_thread_id: ctx.parentThreadId,
          recipient_agent_id: null,
          sender_agent_id: sender,
          message,
        });
      case 'agent': {
        const agentId = stringMember(to, 'agent_id');
        return durable({
          recipient_thread_id: stringMember(to, 'thread_id') ?? '',
          recipient_agent_id: agentId === undefined || agentId === '' ? null : agentId,
          sender_agent_id: sender,
          message,
        });
      }
      default:
        // Unreachable after validation; upstream answers an unknown relation this way.
        return failed('recipient_not_found');
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

function accepted(messageId: string): ToolOutcome {
  const data: SendMessageReceipt = { message_id: messageId, status: 'accepted' };
  return { ok: true, data: data as unknown as Json };
}

function failed(error: string): ToolOutcome {
  const data: SendMessageReceipt = { message_id: '', status: 'failed', error };
  return { ok: true, data: data as unknown as Json };
}
