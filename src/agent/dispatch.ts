import type { InboxSender } from '../inbox/types.js';
import type { DispatchVerdict, MessageOutboxStore } from '../stores/outbox.js';
import { SendError } from '../supervisor/errors.js';
import type { TaskSupervisor } from '../supervisor/types.js';
import type { OutboxEntry } from '../wire/messaging.js';
import { currentDurableMessageSink } from './ambientSink.js';
import { recordOutcome } from './deliveryStatus.js';
import { errorText } from './errorText.js';
import { SEND_REASONS, undeliverableDetail } from '../supervisor/undeliverable.js';
import { type RevivableAgents, revive, reviverFor } from './revive.js';
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
  /**
   * The sending run's inbox: each message of this pass that became a dead letter is reported
   * here as `{kind:'message_dead_letter', message_id, task_id?, recipient_thread_id, reason?, error}`.
   */
  inbox?: InboxSender | undefined;
  /** Sub-agents a message revives once they finished (see `sendMessageTool`'s `revivable`). */
  revivable?: RevivableAgents | undefined;
}

/**
 * One dispatch pass over a thread's outbox, as the plugin's `stepEnd` runs it: entries in outbox
 * order, each awaited. A child message goes into the live sub-agent's inbox; a child that can no
 * longer take it (it finished, it is not a sub-agent, its inbox closed, it is unknown) makes it a
 * dead letter at once whose error starts with the reason code (`recipient_finished: task bg_0
 * already completed: …`) — unless the child finished and its name is in `revivable`: then it is
 * revived and the message delivered to the new sub-agent. A durable message goes to the sink:
 * success removes it; a failure moves it to the tail with one more attempt, and the fifth failure
 * makes it a dead letter with the sink's error; with no sink at all it becomes a dead letter with
 * `no durable transport configured` at once. Every dead letter of the pass is then reported to
 * `inbox` (the sender's). Resolves with how many entries were handled.
 *
 * @example
 * await dispatchOutbox({ supervisor, outbox: supervisor.messages, threadId: 'thread-1', sink });
 */
export async function dispatchOutbox(opts: DispatchOptions): Promise<number> {
  const { outbox, threadId } = opts;
  const sink = opts.sink ?? currentDurableMessageSink();
  const outcomes: Array<{ entry: OutboxEntry; verdict: DispatchVerdict }> = [];
  const handled = await outbox.dispatch(threadId, async (entry) => {
    const verdict = await deliverEntry(opts, sink, entry);
    // Before the store applies it: a status read sees `queued` until the entry leaves the outbox.
    recordOutcome(outbox, entry.id, verdict);
    outcomes.push({ entry, verdict });
    return verdict;
  });
  for (const { entry, verdict } of outcomes) {
    if (verdict.kind === 'dead_letter' && opts.inbox !== undefined)
      reportDeadLetter(opts.inbox, entry, verdict.error);
  }
  return handled;
}

function reportDeadLetter(inbox: InboxSender, entry: OutboxEntry, error: string): void {
  const { route } = entry;
  const event =
    'ChildInbox' in route
      ? {
          kind: 'message_dead_letter',
          message_id: entry.id,
          task_id: route.ChildInbox.task_id,
          recipient_thread_id: route.ChildInbox.owner_thread_id,
          reason: error.slice(0, Math.max(0, error.indexOf(':'))),
          error,
        }
      : {
          kind: 'message_dead_letter',
          message_id: entry.id,
          recipient_thread_id: route.Durable.recipient_thread_id,
          error,
        };
  try {
    inbox.send(event);
  } catch {
    // A sender that throws loses the report; the dead letter itself is stored.
  }
}

async function deliverEntry(
  opts: DispatchOptions,
  sink: DurableMessageSink | undefined,
  entry: OutboxEntry,
): Promise<DispatchVerdict> {
  const { route } = entry;
  const { supervisor } = opts;
  if ('ChildInbox' in route) {
    const r = route.ChildInbox;
    const send = (taskId: string) =>
      // Awaited so a supervisor whose delivery is asynchronous (another replica) is covered too.
      Promise.resolve(
        supervisor.sendTaskInboxMessage(taskId, r.owner_thread_id, r.sender_agent_id, r.message, {
          messageId: entry.id,
        }),
      );
    try {
      await send(r.task_id);
      return { kind: 'remove' };
    } catch (e) {
      const summary = supervisor.get(r.task_id);
      const reason =
        e instanceof SendError ? (SEND_REASONS[e.code] ?? 'recipient_unknown') : 'recipient_unknown';
      if (reason === 'recipient_finished' && summary !== undefined) {
        const body = reviverFor(opts.revivable, supervisor, summary);
        if (body !== undefined) {
          try {
            await send(await revive(supervisor, r.owner_thread_id, summary, body, opts.inbox));
            return { kind: 'remove' };
          } catch (again) {
            return { kind: 'dead_letter', error: `recipient_finished: revival failed: ${errorText(again)}` };
          }
        }
      }
      const detail = e instanceof SendError ? undeliverableDetail(reason, summary) : errorText(e);
      return { kind: 'dead_letter', error: `${reason}: ${detail}` };
    }
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
