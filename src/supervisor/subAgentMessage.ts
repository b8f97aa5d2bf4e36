import type { TaskId } from '../wire/types.js';
import type { TaskEntry } from './entry.js';
import { SendError } from './errors.js';

/**
 * Delivers a parent's message to a sub-agent's own inbox as
 * `{kind:'custom', task_id, event_type:'agent_message', payload:{from, content}}`, checking in
 * upstream's order: a task spawned here (restored-only tasks are not found), owned by the caller's
 * thread, not terminal, a sub-agent, its inbox open. Throws `SendError` with the failing check's code.
 */
export function sendToSubAgent(
  entry: TaskEntry | undefined,
  taskId: TaskId,
  ownerThreadId: string,
  fromAgentId: string,
  content: string,
): void {
  for (const [value, what] of [
    [ownerThreadId, 'ownerThreadId'],
    [fromAgentId, 'fromAgentId'],
    [content, 'content'],
  ] as const) {
    if (typeof value !== 'string') {
      throw new TypeError(
        `Expected \`${what}\` to be a string, got ${value === null ? 'null' : typeof value}`,
      );
    }
  }
  if (entry === undefined || !entry.local) throw new SendError('task_not_found');
  if (entry.ownerThreadId !== ownerThreadId) throw new SendError('not_owner');
  if (entry.summary.status !== 'running') throw new SendError('task_terminated', entry.summary.status);
  if (entry.agentInbox === undefined) throw new SendError('no_inbox');
  const message = {
    kind: 'custom',
    task_id: taskId,
    event_type: 'agent_message',
    payload: { from: fromAgentId, content },
  };
  if (!entry.agentInbox.sender.send(message)) throw new SendError('inbox_closed');
}
