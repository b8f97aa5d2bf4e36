import type { DeliveredMessage } from '../wire/messaging.js';
import type { Json } from '../wire/types.js';
import { InboxPayloadError, inboxEventToMessage, tryInboxPayloadMessages } from './messages.js';
import type { Message, ModelResponse, RunOutcome } from './types.js';
import { member } from './validation.js';

/** The pieces of `runAgentLoop` that need none of its state. */

const COMPACTION_EVENTS = new Set([
  'compaction.started',
  'compaction.skipped',
  'context.compacted',
  'context.compaction_failed',
]);

/** What `abortable` settles with when the run's signal aborted first. */
export const ABORTED: unique symbol = Symbol('aborted');

/** The strict conversion: a malformed direct-messages payload fails the run instead of being guessed at. */
export function resumeMessages(payload: Json): Message[] {
  try {
    return tryInboxPayloadMessages(payload) ?? [inboxEventToMessage(payload)];
  } catch (e) {
    if (e instanceof InboxPayloadError) throw new Error(`invalid resume: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Durable messages delivered into the thread, as the user messages the recipient's run reads. */
export function deliveredMessages(delivered: readonly DeliveredMessage[]): Message[] {
  return delivered.map((d) => ({
    role: 'user',
    content: d.message,
    visibility: 'all',
    id: d.message_id,
    metadata: { sender_agent_id: d.sender_agent_id },
  }));
}

export function outcome(
  termination: RunOutcome['termination'],
  status: RunOutcome['status'],
  reason: RunOutcome['status_reason'],
  messages: Message[],
  firstOwn: number,
  steps: number,
): RunOutcome {
  const out: RunOutcome = {
    termination,
    status,
    response: lastAssistantText(messages, firstOwn),
    messages,
    steps,
  };
  if (reason !== undefined) out.status_reason = reason;
  return out;
}

/** The text of the last assistant message at or after `from` (this run's own), else `''`. */
export function lastAssistantText(messages: readonly Message[], from: number): string {
  for (let i = messages.length - 1; i >= from; i--) {
    const m = messages[i];
    if (m?.role === 'assistant') return m.content;
  }
  return '';
}

export function isCompactionEvent(payload: Json): boolean {
  const type = member(payload, 'event_type');
  return member(payload, 'kind') === 'custom' && typeof type === 'string' && COMPACTION_EVENTS.has(type);
}

/** Calls `fn` and settles with its result, or with `ABORTED` as soon as `signal` aborts. */
export function abortable(
  fn: () => Promise<ModelResponse>,
  signal: AbortSignal,
): Promise<ModelResponse | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    let p: Promise<ModelResponse>;
    try {
      p = Promise.resolve(fn());
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(signal.aborted ? ABORTED : (r ?? {}));
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) resolve(ABORTED);
        else reject(e);
      },
    );
  });
}
