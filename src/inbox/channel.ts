/** The queue shared by every handle of one inbox: a bounded ring with its pending receivers. */
const INITIAL_CAPACITY = 16;
// Past this capacity an emptied ring is swapped for a small one, so one burst does not pin memory.
const SHRINK_ABOVE = 1024;
/** What a receive resolves with once the stream has ended. */
export const END: unique symbol = Symbol('inbox.end');

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
export class Channel<T> {
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
  /**
   * `capacity` is finite. `push` tests this before comparing with `capacity`, so that compare only
   * ever sees integers: optimised code that had compared with a finite bound is not thrown away
   * (deoptimised) when an unbounded inbox (`Infinity`, not an integer to V8) comes along. Tested
   * with `=== true`: a bare truthiness test of a field compiles to a check of every falsy kind.
   */
  readonly bounded: boolean;

  constructor(
    readonly onClosed: ((undelivered: T) => void) | undefined,
    readonly capacity: number,
  ) {
    this.bounded = capacity !== Number.POSITIVE_INFINITY;
  }

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
    if (this.bounded === true && this.length >= this.capacity && !this.makeRoom(msg)) {
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
    const n = this.length;
    const buf = this.buf;
    this.length = 0;
    this.skip = 0;
    if (this.head === 0 && n * 2 >= buf.length) {
      // The queue fills the front of its ring: hand the ring itself out (the caller owns it from
      // now on) and start a fresh one of the same size. No copy, and a ring that stays young, so
      // storing new events in it costs no old-to-new write barrier.
      const size = buf.length;
      // Drained every time it fills, the ring is full: no length to set (a generic store).
      if (n !== size) buf.length = n;
      this.buf = new Array(size > SHRINK_ABOVE ? INITIAL_CAPACITY : size);
      return buf as T[];
    }
    const out = new Array<T>(n);
    const mask = buf.length - 1;
    for (let i = 0; i < n; i++) {
      const slot = (this.head + i) & mask;
      out[i] = buf[slot] as T;
      buf[slot] = undefined;
    }
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
