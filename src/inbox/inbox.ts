import type { Json } from '../wire/types.js';
import type { Inbox, InboxOptions, InboxReceiver, InboxSender } from './types.js';

const INITIAL_CAPACITY = 16;
// Past this capacity an emptied ring is swapped for a small one, so one burst does not pin memory.
const SHRINK_ABOVE = 1024;
const END: unique symbol = Symbol('inbox.end');

/** The queue bound `createInbox` uses when `capacity` is not given. */
export const DEFAULT_INBOX_CAPACITY = 10_000;

/**
 * Whether `msg` may be dropped from a full inbox: a task's custom event (`kind: 'custom'`), except
 * the messages agents send each other (`agent_message`), which carry content, not progress.
 */
function isDroppable(msg: unknown): boolean {
  return (
    typeof msg === 'object' &&
    msg !== null &&
    (msg as { kind?: unknown }).kind === 'custom' &&
    (msg as { event_type?: unknown }).event_type !== 'agent_message'
  );
}

/**
 * A pending `recv` (or async-iterator `next`). It is its own abort listener (`handleEvent`) and its
 * own list node, so a waiting receive allocates no extra closures and leaves nothing behind.
 */
class Waiter<T> {
  prev: Waiter<T> | undefined = undefined;
  next: Waiter<T> | undefined = undefined;
  constructor(
    readonly channel: Channel<T>,
    readonly resolve: (value: T | typeof END) => void,
    readonly signal: AbortSignal | undefined,
  ) {}
  handleEvent(): void {
    this.channel.settle(this, END);
  }
}

/** State shared by every handle of one inbox. */
class Channel<T> {
  // Power-of-two ring: `(head + i) & mask` is slot i. Never `shift()`, which is quadratic on big queues.
  buf: (T | undefined)[] = new Array(INITIAL_CAPACITY);
  head = 0;
  length = 0;
  senders = 1;
  receiverClosed = false;
  first: Waiter<T> | undefined = undefined;
  last: Waiter<T> | undefined = undefined;
  /** Custom events dropped to keep the queue within `capacity`. */
  dropped = 0;
  /** Slots `0 … skip-1` (from head) are known not droppable, so an overflow scan starts after them. */
  skip = 0;

  constructor(
    readonly onClosed: ((undelivered: T) => void) | undefined,
    readonly capacity: number,
  ) {}

  /** No more messages can ever arrive and none are queued. */
  get ended(): boolean {
    return this.receiverClosed || (this.senders === 0 && this.length === 0);
  }

  push(msg: T): void {
    const w = this.first;
    // Invariant: waiters exist only while the queue is empty, so handing over keeps FIFO order.
    if (w !== undefined) {
      this.settle(w, msg);
      return;
    }
    if (this.length >= this.capacity && !this.makeRoom(msg)) {
      this.dropped++;
      return;
    }
    const buf = this.buf;
    if (this.length === buf.length) {
      this.grow();
      this.buf[(this.head + this.length) & (this.buf.length - 1)] = msg;
    } else {
      buf[(this.head + this.length) & (buf.length - 1)] = msg;
    }
    this.length++;
  }

  /**
   * Drops the oldest droppable queued message so `msg` fits. `false` when none is queued and `msg`
   * itself is droppable (the caller drops it); a full queue of undroppable messages grows instead.
   */
  makeRoom(msg: T): boolean {
    const buf = this.buf;
    const mask = buf.length - 1;
    const n = this.length;
    let p = this.skip;
    while (p < n && !isDroppable(buf[(this.head + p) & mask])) p++;
    if (p === n) {
      this.skip = n;
      return !isDroppable(msg);
    }
    this.dropped++;
    // Close the gap from the shorter side: usually the dropped event is at the head, an O(1) step.
    if (p < n - p) {
      for (let i = p; i > 0; i--) buf[(this.head + i) & mask] = buf[(this.head + i - 1) & mask];
      buf[this.head] = undefined;
      this.head = (this.head + 1) & mask;
    } else {
      for (let i = p; i < n - 1; i++) buf[(this.head + i) & mask] = buf[(this.head + i + 1) & mask];
      buf[(this.head + n - 1) & mask] = undefined;
    }
    this.length--;
    this.skip = p;
    return true;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    if (this.skip > 0) this.skip--;
    const buf = this.buf;
    const msg = buf[this.head];
    buf[this.head] = undefined;
    this.head = (this.head + 1) & (buf.length - 1);
    if (--this.length === 0) this.reset();
    return msg;
  }

  takeAll(): T[] {
    const out = new Array<T>(this.length);
    const buf = this.buf;
    const mask = buf.length - 1;
    for (let i = 0; i < this.length; i++) {
      const slot = (this.head + i) & mask;
      out[i] = buf[slot] as T;
      buf[slot] = undefined;
    }
    this.length = 0;
    this.skip = 0;
    // Keep a small ring (steady drains then never regrow it); drop a big one so a burst's memory goes.
    this.reset();
    return out;
  }

  reset(): void {
    this.head = 0;
    this.skip = 0;
    if (this.buf.length > SHRINK_ABOVE) this.buf = new Array(INITIAL_CAPACITY);
  }

  grow(): void {
    const old = this.buf;
    const mask = old.length - 1;
    const next = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.length; i++) next[i] = old[(this.head + i) & mask];
    this.buf = next;
    this.head = 0;
  }

  wait(signal: AbortSignal | undefined, resolve: (value: T | typeof END) => void): void {
    const w = new Waiter(this, resolve, signal);
    if (this.last === undefined) this.first = w;
    else {
      this.last.next = w;
      w.prev = this.last;
    }
    this.last = w;
    signal?.addEventListener('abort', w, { once: true });
  }

  /** Unlinks `w`, drops its abort listener and resolves it. */
  settle(w: Waiter<T>, value: T | typeof END): void {
    if (w.prev === undefined) this.first = w.next;
    else w.prev.next = w.next;
    if (w.next === undefined) this.last = w.prev;
    else w.next.prev = w.prev;
    w.prev = w.next = undefined;
    w.signal?.removeEventListener('abort', w);
    w.resolve(value);
  }

  endAll(): void {
    while (this.first !== undefined) this.settle(this.first, END);
  }

  /** The next message, or END; `undefined` signal waits indefinitely. */
  take(signal: AbortSignal | undefined): Promise<T | typeof END> {
    if (signal?.aborted) return Promise.resolve(END);
    if (this.length > 0) return Promise.resolve(this.shift() as T);
    if (this.ended) return Promise.resolve(END);
    return new Promise((resolve) => this.wait(signal, resolve));
  }
}

class Sender<T> implements InboxSender<T> {
  readonly #ch: Channel<T>;
  #closed: boolean;

  constructor(ch: Channel<T>, closed: boolean) {
    this.#ch = ch;
    this.#closed = closed;
  }

  send(msg: T): boolean {
    if (this.#closed) return false;
    const ch = this.#ch;
    if (ch.receiverClosed) {
      ch.onClosed?.(msg);
      return false;
    }
    ch.push(msg);
    return true;
  }

  trySend(msg: T): boolean {
    if (this.#closed || this.#ch.receiverClosed) return false;
    this.#ch.push(msg);
    return true;
  }

  isClosed(): boolean {
    return this.#ch.receiverClosed;
  }

  get dropped(): number {
    return this.#ch.dropped;
  }

  clone(): InboxSender<T> {
    // A closed handle cannot revive a stream whose receiver may already have seen its end.
    if (this.#closed) return new Sender(this.#ch, true);
    this.#ch.senders++;
    return new Sender(this.#ch, false);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const ch = this.#ch;
    // Waiters exist only while the queue is empty, so the last close ends them all.
    if (--ch.senders === 0) ch.endAll();
  }
}

class Receiver<T> implements InboxReceiver<T> {
  readonly #ch: Channel<T>;

  constructor(ch: Channel<T>) {
    this.#ch = ch;
  }

  get size(): number {
    return this.#ch.length;
  }

  get dropped(): number {
    return this.#ch.dropped;
  }

  get capacity(): number {
    return this.#ch.capacity;
  }

  tryRecv(): T | undefined {
    return this.#ch.shift();
  }

  drain(): T[] {
    return this.#ch.takeAll();
  }

  recv(signal?: AbortSignal): Promise<T | undefined> {
    const ch = this.#ch;
    // Fast paths avoid the `.then` hop that mapping END would cost.
    if (signal?.aborted) return Promise.resolve(undefined);
    if (ch.length > 0) return Promise.resolve(ch.shift());
    if (ch.ended) return Promise.resolve(undefined);
    return ch.take(signal).then(fromEnd);
  }

  close(): void {
    const ch = this.#ch;
    if (ch.receiverClosed) return;
    ch.receiverClosed = true;
    ch.takeAll();
    ch.endAll();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    const ch = this.#ch;
    let done = false;
    return {
      next: async (): Promise<IteratorResult<T>> => {
        if (done) return { done: true, value: undefined };
        const v = await ch.take(undefined);
        if (v === END) {
          done = true;
          return { done: true, value: undefined };
        }
        return { done: false, value: v };
      },
      return: async (): Promise<IteratorResult<T>> => {
        done = true;
        return { done: true, value: undefined };
      },
    };
  }
}

function fromEnd<T>(v: T | typeof END): T | undefined {
  return v === END ? undefined : v;
}

/**
 * Creates a FIFO inbox (upstream `inbox_channel`): a sender handle, which `clone()` can multiply,
 * and a single receiver. The queue is bounded by `capacity` (default 10 000; `Infinity` for
 * unbounded) so an inbox nobody drains cannot grow without limit.
 *
 * Guarantees:
 * - Once `capacity` messages are queued, each new message first drops the oldest queued custom
 *   task event (`kind: 'custom'`, other than `agent_message`); if none is queued, a new custom
 *   event is itself dropped. Terminal events (`completed`/`failed`/`cancelled`), agent messages
 *   and any other message are never dropped: with only those queued the queue grows past the
 *   bound. A dropped message still counts as sent (`send` returns `true`); `receiver.dropped` and
 *   `sender.dropped` count the drops. Order among the messages kept is unchanged.
 * - Messages arrive in send order; concurrent pending `recv` calls are served in call order.
 * - `send` returns `false` when the receiver is closed (and then runs `onClosed(msg)`, once per
 *   failed send) or when that handle was itself closed (then `onClosed` does not run). `trySend`
 *   never runs `onClosed`. An error thrown by `onClosed` propagates out of `send`.
 * - The stream ends (`recv` resolves `undefined`, async iteration stops) once every sender handle
 *   is closed and the queue is empty: messages buffered before the last close are still received.
 *   A sender handle that is never closed keeps the stream open (there is no drop in JavaScript).
 * - `recv(signal)` resolves `undefined` when `signal` aborts; an already-aborted signal wins over a
 *   queued message, which stays queued. Abort listeners are removed as soon as a `recv` settles.
 * - `receiver.close()` drops the queued messages, as dropping the Rust receiver does (call
 *   `drain()` first to keep them); `onClosed` is not run for them since their `send` succeeded.
 *   Pending `recv` calls resolve `undefined`; later sends fail.
 * - Breaking out of a `for await` loop does not close the receiver; `recv` can still be used.
 * - `clone()` of a closed handle returns a closed handle, so it cannot reopen an ended stream.
 * - `send` is O(1) amortised and allocates nothing but ring growth; draining is linear. A drop is
 *   O(1) when the oldest droppable event is near either end of the queue.
 *
 * @example
 * const { sender, receiver } = createInbox<string>({ onClosed: (m) => console.warn('lost', m) });
 * sender.send('hello');
 * sender.close();
 * for await (const msg of receiver) console.log(msg); // 'hello', then the loop ends
 *
 * @example
 * const inbox = createInbox({ capacity: 1_000 });
 * // … 5 000 progress events later, nobody having read:
 * inbox.receiver.size;    // 1000 (the newest progress events; every terminal event is kept)
 * inbox.receiver.dropped; // 4000
 */
export function createInbox<T = Json>(opts?: InboxOptions<T>): Inbox<T> {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) {
    throw new TypeError(`Expected \`opts\` to be an object, got ${opts === null ? 'null' : typeof opts}`);
  }
  const onClosed = opts?.onClosed;
  if (onClosed !== undefined && typeof onClosed !== 'function') {
    throw new TypeError(`Expected \`opts.onClosed\` to be a function, got ${typeof onClosed}`);
  }
  const capacity = opts?.capacity === undefined ? DEFAULT_INBOX_CAPACITY : opts.capacity;
  if (
    typeof capacity !== 'number' ||
    !(capacity === Number.POSITIVE_INFINITY || (Number.isSafeInteger(capacity) && capacity >= 1))
  ) {
    throw new TypeError(
      `Expected \`opts.capacity\` to be a positive integer or Infinity, got ${typeof capacity === 'number' ? capacity : capacity === null ? 'null' : typeof capacity}`,
    );
  }
  const ch = new Channel<T>(onClosed, capacity);
  return Object.freeze({ sender: new Sender(ch, false), receiver: new Receiver(ch) });
}
