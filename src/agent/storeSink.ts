import type { MessageOutboxStore } from '../stores/outbox.js';
import type { DurableMessageSink } from './types.js';

/**
 * The reference durable sink, for hosts with no mailbox of their own: it delivers each message
 * into its recipient thread in the store (`outbox.deliver`), exactly once per `message_id` (a
 * unique key; a redelivery returns the first dispatch id and appends nothing). `runAgentLoop`
 * reads the thread's delivered messages at the start of its next run, as user messages.
 *
 * @example
 * const store = new SqliteTaskStore('./tasks.db');
 * const supervisor = createTaskSupervisor({ store });
 * await runAgentLoop({ model, supervisor, threadId, durableSink: storeDurableMessageSink(store.messages) });
 */
export function storeDurableMessageSink(outbox: MessageOutboxStore): DurableMessageSink {
  return { sendAgentMessage: (req) => outbox.deliver(req) };
}
