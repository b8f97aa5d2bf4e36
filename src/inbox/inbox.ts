import type { Json } from '../wire/types.js';
import { Channel, DEFAULT_INBOX_CAPACITY, END } from './channel.js';
import type { Inbox, InboxOptions, InboxReceiver, InboxSender } from './types.js';

export { DEFAULT_INBOX_CAPACITY };

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
