import type { TaskSupervisor } from '../supervisor/types.js';
import type { TaskSummary } from '../wire/types.js';

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
 * The latest task of `threadId` addressed as `name` (its id, else its spawn name) that is no longer
 * running, or `undefined`. Linear in the thread's held tasks: only asked once no running task matched.
 *
 * @example
 * findFinishedInThread(supervisor, 'thread-1', 'researcher')?.status; // 'completed'
 */
export function findFinishedInThread(
  supervisor: TaskSupervisor,
  threadId: string,
  name: string,
): TaskSummary | undefined {
  const direct = supervisor.get(name);
  if (direct !== undefined && direct.status !== 'running' && supervisor.ownerThreadOf(name) === threadId)
    return direct;
  const all = supervisor.list(threadId);
  for (let i = all.length - 1; i >= 0; i--) {
    const s = all[i]!;
    if (s.status !== 'running' && supervisor.taskName(s.task_id) === name) return s;
  }
  return undefined;
}

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
