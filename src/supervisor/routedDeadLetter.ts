import type { ControlRequest } from '../stores/coordination.js';
import type { MessageOutboxStore } from '../stores/outbox.js';
import type { OutboxEntry } from '../wire/messaging.js';
import type { TaskEntry } from './entry.js';
import { SendError } from './errors.js';
import { SEND_REASONS, undeliverableDetail } from './undeliverable.js';

type RoutedMessage = Extract<ControlRequest, { kind: 'message' }>;

/**
 * A message routed from another replica that its owner could not apply (the sub-agent ended or
 * closed its inbox meanwhile) becomes a dead letter in the sender's outbox — the one keyed by the
 * sub-agent's owner thread — with the reason a local dispatch gives (`recipient_finished: task bg_0
 * already completed: …`). The sender's dispatch already removed the entry as delivered, so the
 * entry is put back and moved to the dead letters (again after any dispatch that held it commits
 * its verdict). A store that fails is reported as a process warning.
 *
 * @example
 * deadLetterRouted(supervisor.messages, entry, request, new SendError('task_terminated', 'completed'));
 */
export function deadLetterRouted(
  outbox: MessageOutboxStore,
  entry: TaskEntry,
  request: RoutedMessage,
  error: unknown,
): void {
  const id = request.messageId;
  if (id === undefined) return;
  const reason = error instanceof SendError ? SEND_REASONS[error.code] : 'recipient_unknown';
  const text = `${reason}: ${undeliverableDetail(reason, entry.summary)}`;
  const outboxEntry: OutboxEntry = {
    id,
    route: {
      ChildInbox: {
        task_id: request.taskId,
        owner_thread_id: request.threadId,
        sender_agent_id: request.from,
        message: request.content,
      },
    },
    attempts: 0,
  };
  void store(outbox, request.threadId, outboxEntry, text).catch((e: unknown) =>
    process.emitWarning(`awaken-tasks: a routed message's dead letter was not stored: ${String(e)}`),
  );
}

const TRIES = 20;

async function store(outbox: MessageOutboxStore, threadId: string, entry: OutboxEntry, error: string) {
  for (let i = 0; i < TRIES; i++) {
    if ((await outbox.deadLetters(threadId)).some((l) => l.request.message_id === entry.id)) return;
    await outbox.enqueue(threadId, entry);
    // False when a dispatch held the entry (the sender's, not yet committed, or one that took it
    // back meanwhile): once that verdict is committed, look again.
    if (await outbox.deadLetter(threadId, entry.id, error)) return;
    await new Promise((resolve) => setTimeout(resolve, 10 * (i + 1)));
  }
  throw new Error(`message ${entry.id} stayed claimed by a dispatch`);
}
