import type { DeadLetter, DeliveredMessage, DurableMessageRequest, OutboxEntry } from '../wire/messaging.js';

/**
 * What the dispatcher decided for one outbox entry: remove it (delivered, or a child message
 * dropped), move it to the tail with one more attempt, or turn it into a dead letter.
 *
 * @example
 * const verdict: DispatchVerdict = { kind: 'dead_letter', error: 'sink down' };
 */
export type DispatchVerdict = { kind: 'remove' } | { kind: 'retry' } | { kind: 'dead_letter'; error: string };

/**
 * The durable messaging part of a `TaskStore` (its optional `messages` member): a per-thread
 * outbox in insertion order, a per-thread dead-letter list, and the reference mailbox that
 * delivers a durable message into its recipient thread once per `message_id`.
 *
 * Guarantees (checked by `storeConformance`): every method is atomic and durable once it resolves;
 * the outbox holds at most one entry per id and thread; `dispatch` hands each pending entry to at
 * most one caller at a time, across processes sharing the store; `replay` and `clear` act on
 * exactly the listed ids in one transaction and resolve with how many they touched.
 *
 * @example
 * const outbox = store.messages;
 * if (outbox) await outbox.enqueue('thread-1', { id, route: { Durable: req }, attempts: 0 });
 */
export interface MessageOutboxStore {
  /**
   * Appends `entry` to the thread's outbox; `false` (and no change) when its id is already pending there.
   *
   * @example
   * const added = await store.messages?.enqueue('thread-1', entry);
   */
  enqueue(threadId: string, entry: OutboxEntry): Promise<boolean>;
  /**
   * The thread's pending entries, oldest first.
   *
   * @example
   * const entries = await outbox.pending('thread-1');
   */
  pending(threadId: string): Promise<OutboxEntry[]>;
  /**
   * Removes the entry; `false` when it was not pending.
   *
   * @example
   * await outbox.remove('thread-1', entry.id);
   */
  remove(threadId: string, id: string): Promise<boolean>;
  /**
   * Moves the entry to the tail with `attempts + 1`; `false` when it was not pending.
   *
   * @example
   * await outbox.retry('thread-1', entry.id); // to the tail, attempts + 1
   */
  retry(threadId: string, id: string): Promise<boolean>;
  /**
   * Removes a durable entry and appends it to the dead letters with `error`, in one transaction.
   *
   * @example
   * await outbox.deadLetter('thread-1', entry.id, 'recipient thread unreachable');
   */
  deadLetter(threadId: string, id: string, error: string): Promise<boolean>;
  /**
   * The thread's dead letters, oldest first.
   *
   * @example
   * for (const letter of await outbox.deadLetters('thread-1')) console.log(letter.error);
   */
  deadLetters(threadId: string): Promise<DeadLetter[]>;
  /**
   * How many dead letters the store holds, for one thread or all.
   *
   * @example
   * const total = await outbox.deadLetterCount();
   */
  deadLetterCount(threadId?: string): Promise<number>;
  /**
   * Moves the listed dead letters back into the outbox with `attempts: 0` (same ids, so the
   * recipient still de-duplicates), in one transaction; an id already pending is not duplicated.
   * Resolves with how many dead letters were moved; unlisted ones stay.
   *
   * @example
   * const moved = await outbox.replay('thread-1', ['msg-1']);
   */
  replay(threadId: string, messageIds: readonly string[]): Promise<number>;
  /**
   * Deletes the listed dead letters in one transaction; resolves with how many were deleted.
   *
   * @example
   * const deleted = await outbox.clear('thread-1', ['msg-1']);
   */
  clear(threadId: string, messageIds: readonly string[]): Promise<number>;
  /**
   * One dispatch pass over the entries pending when it starts, in outbox order: each entry is
   * claimed (an entry another dispatcher holds is skipped), handed to `deliver`, and the verdict is
   * applied before the next entry. Resolves with how many entries were handed to `deliver`.
   *
   * @example
   * const handled = await outbox.dispatch('thread-1', async (entry) => ({ kind: 'remove' }));
   */
  dispatch(threadId: string, deliver: (entry: OutboxEntry) => Promise<DispatchVerdict>): Promise<number>;
  /**
   * The reference mailbox: stores `request` in its recipient thread unless a message with that
   * `message_id` is already there, and resolves with the dispatch id of the first delivery.
   *
   * @example
   * const dispatchId = await outbox.deliver(request);
   */
  deliver(request: DurableMessageRequest): Promise<string>;
  /**
   * The thread's delivered messages not taken yet, oldest first, marking them taken (once).
   *
   * @example
   * for (const message of await outbox.takeDelivered('thread-2')) console.log(message);
   */
  takeDelivered(threadId: string): Promise<DeliveredMessage[]>;
  /**
   * Every message delivered into the thread, taken or not, oldest first.
   *
   * @example
   * const history = await outbox.delivered('thread-2');
   */
  delivered(threadId: string): Promise<DeliveredMessage[]>;
  /**
   * Whether `remove` (a dispatch's "delivered" verdict) took the entry `id` from the thread's
   * outbox: the store keeps the ids of the last {@link DELIVERED_RETENTION} removed entries, so
   * every process on the store can answer. Optional for stores written before it.
   *
   * @example
   * if (await outbox.wasDelivered?.('thread-1', messageId)) console.log('delivered');
   */
  wasDelivered?(threadId: string, id: string): Promise<boolean>;
}

/**
 * How many removed (delivered) entry ids a store keeps for `wasDelivered`, across all threads;
 * older ones are forgotten.
 *
 * @example
 * DELIVERED_RETENTION; // 10000
 */
export const DELIVERED_RETENTION = 10_000;

/**
 * The dispatch loop of stores whose writes are synchronous in this process (memory, SQLite):
 * claims live in `claims`, and `peek` re-reads an entry after the claim, so an entry another
 * dispatcher already removed or moved is not delivered again by this pass.
 */
export async function dispatchLocally(
  store: MessageOutboxStore,
  claims: Set<string>,
  peek: (threadId: string, id: string) => OutboxEntry | undefined,
  threadId: string,
  deliver: (entry: OutboxEntry) => Promise<DispatchVerdict>,
): Promise<number> {
  let handled = 0;
  for (const seen of await store.pending(threadId)) {
    const key = `${threadId}\u0000${seen.id}`;
    if (claims.has(key)) continue;
    const entry = peek(threadId, seen.id);
    if (entry === undefined || entry.attempts !== seen.attempts) continue;
    claims.add(key);
    try {
      handled++;
      await applyVerdict(store, threadId, entry.id, await deliver(entry));
    } finally {
      claims.delete(key);
    }
  }
  return handled;
}

async function applyVerdict(
  store: MessageOutboxStore,
  threadId: string,
  id: string,
  verdict: DispatchVerdict,
): Promise<void> {
  if (verdict.kind === 'remove') await store.remove(threadId, id);
  else if (verdict.kind === 'retry') await store.retry(threadId, id);
  else await store.deadLetter(threadId, id, verdict.error);
}

/**
 * Checks a thread id argument.
 *
 * @example
 * checkThreadId('thread-1');
 */
export function checkThreadId(threadId: unknown): asserts threadId is string {
  if (typeof threadId !== 'string') {
    throw new TypeError(
      `Expected \`threadId\` to be a string, got ${threadId === null ? 'null' : typeof threadId}`,
    );
  }
}

/**
 * Checks a list of message ids argument.
 *
 * @example
 * checkIds(['m1']);
 */
export function checkIds(ids: unknown): asserts ids is readonly string[] {
  if (!Array.isArray(ids) || !ids.every((i) => typeof i === 'string')) {
    throw new TypeError(`Expected \`messageIds\` to be an array of strings, got ${JSON.stringify(ids)}`);
  }
}

/**
 * The dead letter of an outbox entry: a durable entry's request, or a child entry as a request to
 * its owner thread plus the recipient `task_id`.
 */
export function deadLetterOf(entry: OutboxEntry, error: string): DeadLetter {
  const { route } = entry;
  if ('Durable' in route) return { request: route.Durable, error };
  const c = route.ChildInbox;
  return {
    request: {
      message_id: entry.id,
      recipient_thread_id: c.owner_thread_id,
      recipient_agent_id: null,
      sender_agent_id: c.sender_agent_id,
      message: c.message,
    },
    error,
    task_id: c.task_id,
  };
}

/** The outbox entry a replayed dead letter becomes (fresh attempts, same id and route). */
export function entryOfLetter(letter: Pick<DeadLetter, 'request' | 'task_id'>): OutboxEntry {
  const { request, task_id } = letter;
  const route: OutboxEntry['route'] =
    task_id === undefined
      ? { Durable: request }
      : {
          ChildInbox: {
            task_id,
            owner_thread_id: request.recipient_thread_id,
            sender_agent_id: request.sender_agent_id,
            message: request.message,
          },
        };
  return { id: request.message_id, route, attempts: 0 };
}

/** A dead letter's stored JSON: its request, plus `task_id` for a child-route letter. */
export function letterJson(letter: DeadLetter): string {
  return JSON.stringify(
    letter.task_id === undefined ? letter.request : { ...letter.request, task_id: letter.task_id },
  );
}

/** A dead letter from its stored request JSON (parsed) and error. */
export function letterFromStored(
  stored: DurableMessageRequest & { task_id?: string },
  error: string,
): DeadLetter {
  const { task_id, ...request } = stored;
  return task_id === undefined ? { request, error } : { request, error, task_id };
}

/** The durable request of an entry, or `undefined` for a child-route entry. */
export function durableRequestOf(entry: OutboxEntry): DurableMessageRequest | undefined {
  return 'Durable' in entry.route ? entry.route.Durable : undefined;
}
