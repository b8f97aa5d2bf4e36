import { v7 as uuidv7 } from 'uuid';
import type { DeadLetter, DeliveredMessage, DurableMessageRequest, OutboxEntry } from '../wire/messaging.js';
import {
  type DispatchVerdict,
  type MessageOutboxStore,
  checkIds,
  checkThreadId,
  DELIVERED_RETENTION,
  deadLetterOf,
  dispatchLocally,
  entryOfLetter,
} from './outbox.js';

type Delivered = DeliveredMessage & { taken: boolean };

/**
 * The outbox, dead letters and reference mailbox in this process's memory (the `messages` member
 * of `MemoryTaskStore`): durable for as long as the process lives. Values are copied in and out.
 *
 * @example
 * const outbox = new MemoryMessageOutbox();
 * await outbox.enqueue('thread-1', { id: 'm1', route: { Durable: req }, attempts: 0 });
 */
export class MemoryMessageOutbox implements MessageOutboxStore {
  // A Map keeps insertion order: delete + set is the tail move, and the id lookups are O(1).
  readonly #outbox = new Map<string, Map<string, OutboxEntry>>();
  readonly #dead = new Map<string, DeadLetter[]>();
  readonly #sent = new Set<string>();
  readonly #delivered = new Map<string, Delivered>();
  readonly #claims = new Set<string>();
  readonly #assertOpen: () => void;

  /** `assertOpen` throws when the owning store is closed. */
  constructor(assertOpen: () => void = () => undefined) {
    this.#assertOpen = assertOpen;
  }

  async enqueue(threadId: string, entry: OutboxEntry): Promise<boolean> {
    this.#check(threadId);
    const list = this.#list(threadId);
    if (list.has(entry.id)) return false;
    list.set(entry.id, structuredClone(entry));
    return true;
  }

  async pending(threadId: string): Promise<OutboxEntry[]> {
    this.#check(threadId);
    return structuredClone([...(this.#outbox.get(threadId)?.values() ?? [])]);
  }

  async remove(threadId: string, id: string): Promise<boolean> {
    this.#check(threadId);
    if (this.#take(threadId, id) === undefined) return false;
    const key = `${threadId}\u0000${id}`;
    this.#sent.delete(key);
    this.#sent.add(key);
    if (this.#sent.size > DELIVERED_RETENTION) this.#sent.delete(this.#sent.values().next().value as string);
    return true;
  }

  async wasDelivered(threadId: string, id: string): Promise<boolean> {
    this.#check(threadId);
    return this.#sent.has(`${threadId}\u0000${id}`);
  }

  async retry(threadId: string, id: string): Promise<boolean> {
    this.#check(threadId);
    const entry = this.#take(threadId, id);
    if (entry === undefined) return false;
    this.#list(threadId).set(id, { ...entry, attempts: entry.attempts + 1 });
    return true;
  }

  async deadLetter(threadId: string, id: string, error: string): Promise<boolean> {
    this.#check(threadId);
    const entry = this.#take(threadId, id);
    if (entry === undefined) return false;
    const letter = deadLetterOf(entry, error);
    const letters = this.#dead.get(threadId) ?? [];
    this.#dead.set(threadId, [
      ...letters.filter((l) => l.request.message_id !== letter.request.message_id),
      letter,
    ]);
    return true;
  }

  async deadLetters(threadId: string): Promise<DeadLetter[]> {
    this.#check(threadId);
    return structuredClone(this.#dead.get(threadId) ?? []);
  }

  async deadLetterCount(threadId?: string): Promise<number> {
    this.#assertOpen();
    if (threadId !== undefined) return this.#dead.get(threadId)?.length ?? 0;
    let n = 0;
    for (const letters of this.#dead.values()) n += letters.length;
    return n;
  }

  async replay(threadId: string, messageIds: readonly string[]): Promise<number> {
    this.#check(threadId);
    checkIds(messageIds);
    const wanted = new Set(messageIds);
    const letters = this.#dead.get(threadId) ?? [];
    const moved = letters.filter((l) => wanted.has(l.request.message_id));
    this.#dead.set(
      threadId,
      letters.filter((l) => !wanted.has(l.request.message_id)),
    );
    const list = this.#list(threadId);
    for (const letter of moved) {
      const entry = entryOfLetter(letter);
      if (!list.has(entry.id)) list.set(entry.id, entry);
    }
    return moved.length;
  }

  async clear(threadId: string, messageIds: readonly string[]): Promise<number> {
    this.#check(threadId);
    checkIds(messageIds);
    const wanted = new Set(messageIds);
    const letters = this.#dead.get(threadId) ?? [];
    const kept = letters.filter((l) => !wanted.has(l.request.message_id));
    this.#dead.set(threadId, kept);
    return letters.length - kept.length;
  }

  dispatch(threadId: string, deliver: (entry: OutboxEntry) => Promise<DispatchVerdict>): Promise<number> {
    const peek = (t: string, id: string) => {
      const e = this.#outbox.get(t)?.get(id);
      return e === undefined ? undefined : structuredClone(e);
    };
    return dispatchLocally(this, this.#claims, peek, threadId, deliver);
  }

  async deliver(request: DurableMessageRequest): Promise<string> {
    this.#assertOpen();
    const existing = this.#delivered.get(request.message_id);
    if (existing !== undefined) return existing.dispatch_id;
    const dispatchId = uuidv7();
    this.#delivered.set(request.message_id, {
      ...structuredClone(request),
      dispatch_id: dispatchId,
      taken: false,
    });
    return dispatchId;
  }

  async takeDelivered(threadId: string): Promise<DeliveredMessage[]> {
    this.#check(threadId);
    const out: DeliveredMessage[] = [];
    for (const m of this.#delivered.values()) {
      if (m.recipient_thread_id !== threadId || m.taken) continue;
      m.taken = true;
      out.push(strip(m));
    }
    return out;
  }

  async delivered(threadId: string): Promise<DeliveredMessage[]> {
    this.#check(threadId);
    return [...this.#delivered.values()].filter((m) => m.recipient_thread_id === threadId).map(strip);
  }

  #check(threadId: string): void {
    this.#assertOpen();
    checkThreadId(threadId);
  }

  #list(threadId: string): Map<string, OutboxEntry> {
    let list = this.#outbox.get(threadId);
    if (list === undefined) {
      list = new Map();
      this.#outbox.set(threadId, list);
    }
    return list;
  }

  #take(threadId: string, id: string): OutboxEntry | undefined {
    const list = this.#outbox.get(threadId);
    const entry = list?.get(id);
    if (list === undefined || entry === undefined) return undefined;
    list.delete(id);
    if (list.size === 0) this.#outbox.delete(threadId);
    return entry;
  }
}

function strip(m: Delivered): DeliveredMessage {
  const { taken: _taken, ...rest } = m;
  return structuredClone(rest);
}
