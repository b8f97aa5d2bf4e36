import type { DispatchVerdict, MessageOutboxStore } from '../stores/outbox.js';
import type { TaskSupervisor } from '../supervisor/types.js';
import type { OutboxEntry } from '../wire/messaging.js';
import { currentDurableMessageSink } from './ambientSink.js';
import { errorText } from './errorText.js';
import type { DurableMessageSink } from './types.js';

/**
 * How many failed deliveries turn a durable message into a dead letter (one attempt per step end,
 * no backoff).
 *
 * @example
 * MAX_DURABLE_ATTEMPTS; // 5
 */
export const MAX_DURABLE_ATTEMPTS = 5;

/**
 * The dead-letter reason of a durable message when no sink is configured (no attempt is used).
 *
 * @example
 * NO_DURABLE_TRANSPORT; // 'no durable transport configured'
 */
export const NO_DURABLE_TRANSPORT = 'no durable transport configured';

/** What `dispatchOutbox` takes. */
export interface DispatchOptions {
  supervisor: TaskSupervisor;
  outbox: MessageOutboxStore;
  threadId: string;
  /** The explicit sink; else the ambient one (`withDurableMessageSink`); else none. */
  sink?: DurableMessageSink | undefined;
}

/**
 * One dispatch pass over a thread's outbox, as the plugin's `stepEnd` runs it: entries in outbox
 * order, each awaited. A child message goes into the live sub-agent's inbox and is removed whatever
 * happens (best effort: a finished child loses it silently). A durable message goes to the sink:
 * success removes it; a failure moves it to the tail with one more attempt, and the fifth failure
 * makes it a dead letter with the sink's error; with no sink at all it becomes a dead letter with
 * `no durable transport configured` at once. Resolves with how many entries were handled.
 *
 * @example
 * await dispatchOutbox({ supervisor, outbox: supervisor.messages, threadId: 'thread-1', sink });
 */
export function dispatchOutbox(opts: DispatchOptions): Promise<number> {
  const { supervisor, outbox, threadId } = opts;
  const sink = opts.sink ?? currentDurableMessageSink();
  return outbox.dispatch(threadId, (entry) => deliverEntry(supervisor, sink, entry));
}

async function deliverEntry(
  supervisor: TaskSupervisor,
  sink: DurableMessageSink | undefined,
  entry: OutboxEntry,
): Promise<DispatchVerdict> {
  const { route } = entry;
  if ('ChildInbox' in route) {
    const r = route.ChildInbox;
    try {
      // Awaited so a supervisor whose delivery is asynchronous (another replica) is covered too.
      await Promise.resolve(
        supervisor.sendTaskInboxMessage(r.task_id, r.owner_thread_id, r.sender_agent_id, r.message),
      );
    } catch {
      // Best effort by contract: the child finished or closed its inbox; nothing retries or reports it.
    }
    return { kind: 'remove' };
  }
  if (sink === undefined) return { kind: 'dead_letter', error: NO_DURABLE_TRANSPORT };
  try {
    await sink.sendAgentMessage(structuredClone(route.Durable));
    return { kind: 'remove' };
  } catch (e) {
    return entry.attempts + 1 >= MAX_DURABLE_ATTEMPTS
      ? { kind: 'dead_letter', error: errorText(e) }
      : { kind: 'retry' };
  }
}
