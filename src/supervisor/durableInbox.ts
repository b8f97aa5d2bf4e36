import { createInbox } from '../inbox/inbox.js';
import type { Inbox, InboxReceiver, InboxSender } from '../inbox/types.js';
import type { Json } from '../wire/types.js';

/** How a coordinating supervisor tells a durable inbox about a delivered stored event. */
export interface StoredDelivery {
  /** Whether the claim that took the event is still this process's (else another run has it). */
  current(): boolean;
  /** Consumes the stored event. */
  ack(): void;
}

/** The hook a durable inbox's sender carries; the supervisor calls it before `send`. */
export const STORED_DELIVERY: unique symbol = Symbol.for('awaken-tasks.storedDelivery');

type Registering = InboxSender & { [STORED_DELIVERY]: (message: Json, delivery: StoredDelivery) => void };

/** Whether `sender` came from {@link createDurableInbox}. */
export function isDurableSender(sender: InboxSender | undefined): sender is Registering {
  return sender !== undefined && typeof (sender as Partial<Registering>)[STORED_DELIVERY] === 'function';
}

class DurableSender implements InboxSender {
  readonly #inner: InboxSender;
  readonly #pending: WeakMap<object, StoredDelivery>;

  constructor(inner: InboxSender, pending: WeakMap<object, StoredDelivery>) {
    this.#inner = inner;
    this.#pending = pending;
  }

  [STORED_DELIVERY](message: Json, delivery: StoredDelivery): void {
    if (typeof message === 'object' && message !== null) this.#pending.set(message, delivery);
  }

  send(msg: Json): boolean {
    return this.#inner.send(msg);
  }

  trySend(msg: Json): boolean {
    return this.#inner.trySend(msg);
  }

  isClosed(): boolean {
    return this.#inner.isClosed();
  }

  /** Custom events the wrapped inbox dropped because it was full. */
  get dropped(): number {
    return this.#inner.dropped ?? 0;
  }

  clone(): InboxSender {
    return new DurableSender(this.#inner.clone(), this.#pending);
  }

  close(): void {
    this.#inner.close();
  }
}

class DurableReceiver implements InboxReceiver {
  readonly #inner: InboxReceiver;
  readonly #pending: WeakMap<object, StoredDelivery>;

  constructor(inner: InboxReceiver, pending: WeakMap<object, StoredDelivery>) {
    this.#inner = inner;
    this.#pending = pending;
  }

  get size(): number {
    return this.#inner.size;
  }

  /** Custom events the wrapped inbox dropped because it was full (they stay stored, unconsumed). */
  get dropped(): number {
    return this.#inner.dropped;
  }

  /** The wrapped inbox's bound on queued messages. */
  get capacity(): number {
    return this.#inner.capacity;
  }

  /** `true` when `msg` is to be handed out (acknowledging it); `false` when another run took it over. */
  #take(msg: Json): boolean {
    if (typeof msg !== 'object' || msg === null) return true;
    const delivery = this.#pending.get(msg);
    if (delivery === undefined) return true;
    this.#pending.delete(msg);
    if (!delivery.current()) return false;
    delivery.ack();
    return true;
  }

  tryRecv(): Json | undefined {
    for (;;) {
      const msg = this.#inner.tryRecv();
      if (msg === undefined || this.#take(msg)) return msg;
    }
  }

  drain(): Json[] {
    return this.#inner.drain().filter((m) => this.#take(m));
  }

  async recv(signal?: AbortSignal): Promise<Json | undefined> {
    for (;;) {
      const msg = await this.#inner.recv(signal);
      if (msg === undefined || this.#take(msg)) return msg;
    }
  }

  close(): void {
    this.#inner.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Json> {
    for (;;) {
      const msg = await this.recv();
      if (msg === undefined) return;
      yield msg;
    }
  }
}

/**
 * An inbox for task events that survive the run reading them. With a supervisor on a store shared
 * by several replicas, an event delivered here stays stored until this inbox hands it out
 * (`drain`, `recv`, `tryRecv`, iteration): if the thread's next run loads it elsewhere first, that
 * run receives the event, and this inbox drops its copy unread. With any other store it is a
 * plain inbox. Wraps `inbox` (default a new one).
 *
 * @example
 * const inbox = createDurableInbox();
 * supervisor.setOwnerInbox(inbox.sender);
 * await supervisor.loadThread('thread-1'); // this run now receives the thread's events
 * inbox.receiver.drain(); // events the thread's earlier runs never read, then new ones
 */
export function createDurableInbox(inbox: Inbox = createInbox()): Inbox {
  const pending = new WeakMap<object, StoredDelivery>();
  return {
    sender: new DurableSender(inbox.sender, pending),
    receiver: new DurableReceiver(inbox.receiver, pending),
  };
}
