import type { Json } from '../wire/types.js';

/**
 * The sending half of an inbox. Handles made by `clone()` share the queue; the receiver sees the
 * end of the stream once every handle is closed and the queue is drained.
 */
export interface InboxSender<T = Json> {
  /**
   * Enqueues `msg`; `false` if the receiver is closed (then `onClosed(msg)` runs) or this handle is closed.
   *
   * @example
   * const { sender } = createInbox();
   * sender.send({ note: 'hello' }); // true while the receiver is open
   */
  send(msg: T): boolean;
  /**
   * Like `send`, without running `onClosed`.
   *
   * @example
   * if (!sender.trySend(event)) console.warn('inbox closed; event not delivered');
   */
  trySend(msg: T): boolean;
  /**
   * Whether the receiver is closed.
   *
   * @example
   * if (sender.isClosed()) return; // nobody reads this inbox any more
   */
  isClosed(): boolean;
  /**
   * How many custom events the inbox dropped to stay within its capacity (shared by every handle).
   * Optional so any object with `send` can serve as an inbox; the supervisor counts drops only
   * for senders that report them.
   */
  readonly dropped?: number | undefined;
  /**
   * Another handle on the same queue.
   *
   * @example
   * const forWorker = sender.clone();
   * forWorker.send({ from: 'worker' });
   * forWorker.close(); // the original handle stays open
   */
  clone(): InboxSender<T>;
  /**
   * Closes this handle only.
   *
   * @example
   * sender.close(); // the receiver ends once every handle is closed and the queue is drained
   */
  close(): void;
}

/** The receiving half of an inbox: a FIFO bounded by its capacity. */
export interface InboxReceiver<T = Json> extends AsyncIterable<T> {
  /** How many custom events were dropped because the queue was full. */
  readonly dropped: number;
  /** The bound on queued messages (`Infinity` when unbounded). */
  readonly capacity: number;
  /**
   * The next message if one is queued, else `undefined`; never waits.
   *
   * @example
   * const next = inbox.receiver.tryRecv();
   * if (next !== undefined) console.log(next);
   */
  tryRecv(): T | undefined;
  /**
   * Takes every queued message at once, oldest first (empty when none is queued). The array is the
   * caller's: the inbox keeps no reference to it, so later sends never change it.
   *
   * @example
   * for (const event of inbox.receiver.drain()) console.log(event);
   */
  drain(): T[];
  /**
   * The next message; `undefined` when aborted (an aborted signal wins) or when every sender closed and the queue is empty.
   *
   * @example
   * const event = await inbox.receiver.recv(AbortSignal.timeout(1_000));
   * if (event === undefined) console.log('timed out or closed');
   */
  recv(signal?: AbortSignal): Promise<T | undefined>;
  /** How many messages are queued. */
  readonly size: number;
  /**
   * Closes the inbox: later sends fail and queued messages are dropped (call `drain()` first to keep them).
   *
   * @example
   * const leftover = inbox.receiver.drain();
   * inbox.receiver.close();
   */
  close(): void;
}

/** Both halves of a new inbox. */
export interface Inbox<T = Json> {
  readonly sender: InboxSender<T>;
  readonly receiver: InboxReceiver<T>;
}

/** Options of `createInbox`. */
export interface InboxOptions<T = Json> {
  /** Runs with each message a `send` could not deliver because the receiver is closed. */
  onClosed?: (undelivered: T) => void;
  /**
   * Most messages kept queued before custom task events are dropped, oldest first. A positive
   * integer, or `Infinity` for an unbounded queue. Default 10 000.
   */
  capacity?: number;
}
