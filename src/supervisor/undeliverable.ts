import type { TaskSummary } from '../wire/types.js';
import type { SendErrorCode } from './errors.js';

/**
 * Why `send_message` cannot deliver to a recipient, as a stable code: the task has finished, it is
 * a plain task (not a sub-agent, so it has no inbox for messages), or its inbox is closed.
 *
 * @example
 * const reason: UndeliverableReason = 'recipient_finished';
 */
export type UndeliverableReason =
  | 'recipient_finished'
  | 'not_sub_agent'
  | 'inbox_closed'
  | 'recipient_unknown';

/**
 * The undeliverable reason of each `SendError` code.
 *
 * @example
 * SEND_REASONS.task_terminated; // 'recipient_finished'
 */
export const SEND_REASONS: Readonly<Record<SendErrorCode, UndeliverableReason>> = {
  task_terminated: 'recipient_finished',
  no_inbox: 'not_sub_agent',
  inbox_closed: 'inbox_closed',
  task_not_found: 'recipient_unknown',
  not_owner: 'recipient_unknown',
};

/**
 * The words the model reads for an undeliverable recipient.
 *
 * @example
 * undeliverableDetail('recipient_finished', summary); // "task bg_0 already completed: it takes no more messages"
 */
export function undeliverableDetail(reason: UndeliverableReason, s: TaskSummary | undefined): string {
  const who = s === undefined ? 'the recipient' : `task ${s.task_id}`;
  switch (reason) {
    case 'recipient_finished':
      return `${who} already ${s?.status ?? 'finished'}: it takes no more messages`;
    case 'not_sub_agent':
      return `${who} is a plain '${s?.task_type ?? 'task'}' task, not a sub-agent: it has no inbox for messages`;
    case 'inbox_closed':
      return `${who} closed its inbox: it takes no more messages`;
    default:
      return `${who} is not known to this thread`;
  }
}
