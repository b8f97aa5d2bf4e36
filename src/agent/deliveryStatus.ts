import type { DispatchVerdict, MessageOutboxStore } from '../stores/outbox.js';

/**
 * Where a message that `send_message` queued stands: `queued` (in the sender thread's outbox,
 * `attempts` failed durable deliveries so far), `delivered` (handed to the sub-agent's inbox or the
 * durable sink), `dead_letter` (with `error`, the reason; listed by `recover_failed_messages`), or
 * `unknown` (never queued by this thread, or cleared, or delivered by another process: see
 * {@link messageDeliveryStatus}).
 *
 * @example
 * const s: MessageDeliveryStatus = { message_id: 'm1', status: 'dead_letter', error: 'recipient_finished: task bg_0 already completed: it takes no more messages' };
 */
export type MessageDeliveryStatus =
  | { message_id: string; status: 'queued'; attempts: number }
  | { message_id: string; status: 'delivered' }
  | { message_id: string; status: 'dead_letter'; error: string }
  | { message_id: string; status: 'unknown' };

/** Deliveries this process dispatched, per outbox, newest last (bounded). */
const ledgers = new WeakMap<MessageOutboxStore, Map<string, true>>();
const LEDGER_BOUND = 10_000;

/** Records a dispatch verdict (only deliveries need it: the store holds the rest). */
export function recordOutcome(outbox: MessageOutboxStore, id: string, verdict: DispatchVerdict): void {
  if (verdict.kind !== 'remove') return;
  let ledger = ledgers.get(outbox);
  if (ledger === undefined) ledgers.set(outbox, (ledger = new Map()));
  ledger.set(id, true);
  if (ledger.size > LEDGER_BOUND) ledger.delete(ledger.keys().next().value as string);
}

/**
 * The delivery status of message `messageId` that thread `threadId` sent. `queued` and
 * `dead_letter` come from the store (so any replica sharing it answers them); `delivered` is
 * known to the process whose step end delivered it (the last 10 000 deliveries per outbox);
 * elsewhere a delivered message reads `unknown`. Every queued message ends `delivered` or
 * `dead_letter`: nothing is dropped in between.
 *
 * @example
 * const status = await messageDeliveryStatus(supervisor.messages, 'thread-1', receipt.message_id);
 * if (status.status === 'dead_letter') console.warn(status.error);
 */
export async function messageDeliveryStatus(
  outbox: MessageOutboxStore,
  threadId: string,
  messageId: string,
): Promise<MessageDeliveryStatus> {
  if (typeof messageId !== 'string')
    throw new TypeError(
      `Expected \`messageId\` to be a string, got ${messageId === null ? 'null' : typeof messageId}`,
    );
  const pending = (await outbox.pending(threadId)).find((e) => e.id === messageId);
  if (pending !== undefined) return { message_id: messageId, status: 'queued', attempts: pending.attempts };
  const letter = (await outbox.deadLetters(threadId)).find((l) => l.request.message_id === messageId);
  if (letter !== undefined) return { message_id: messageId, status: 'dead_letter', error: letter.error };
  if (ledgers.get(outbox)?.has(messageId)) return { message_id: messageId, status: 'delivered' };
  if (await outbox.wasDelivered?.(threadId, messageId)) return { message_id: messageId, status: 'delivered' };
  return { message_id: messageId, status: 'unknown' };
}
