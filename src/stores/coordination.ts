import type { Json, PersistedTaskMeta, TaskEvent, TaskId } from '../wire/types.js';

/** A stored record as a coordinating store loads it: whether this process owns it, and its order. */
export interface CoordinatedRow {
  readonly meta: PersistedTaskMeta;
  /** `running` under this process's current or an earlier epoch of this store instance. */
  readonly mine: boolean;
  /** The store's insertion order (monotonic across processes). */
  readonly seq: number;
}

/**
 * An event this process took for delivery. With `seq` it stays stored, taken by `claim`, until
 * acknowledged; without, taking it consumed it.
 */
export interface TakenEvent {
  readonly threadId: string;
  readonly event: TaskEvent;
  readonly claim: string;
  readonly seq: number | undefined;
}

/** A control request recorded by one replica for the replica that runs the task. */
export type ControlRequest =
  | { readonly kind: 'cancel'; readonly taskId: TaskId }
  | {
      readonly kind: 'input';
      readonly taskId: TaskId;
      readonly response: Json;
      /** The request the answerer saw: an answer to an earlier request is dropped. */
      readonly request: Json;
    }
  | {
      readonly kind: 'message';
      readonly taskId: TaskId;
      readonly threadId: string;
      readonly from: string;
      readonly content: string;
      /** The sender's outbox entry id (its outbox is keyed by `threadId`): set, an undeliverable message becomes a dead letter there. */
      readonly messageId?: string;
    };

/**
 * A change in a replica's link to its database, as the supervisor reports it (`onReplicaEvent`):
 * the dedicated connection lost (`connection_lost`), back (`reconnected`; `epoch_kept` says whether
 * this process kept its ownership, else its tasks were orphaned and a new epoch began), and the
 * stretches in which notifications cannot arrive and control requests and events are polled
 * (`polling_started`, `polling_ended`).
 */
export interface ReplicaEvent {
  readonly type: 'connection_lost' | 'reconnected' | 'polling_started' | 'polling_ended';
  /** The owner epoch at the time (after a reconnect: the current one). */
  readonly epoch: string;
  /** Why, as text (`connection_lost`, `polling_started`). */
  readonly error?: string;
  /** `reconnected` only: whether the epoch (and so every task it runs) survived the gap. */
  readonly epoch_kept?: boolean;
  /** `reconnected` only: how long the connection was down, in milliseconds. */
  readonly down_ms?: number;
}

/** What a coordinating store could not write yet: retried in the background, in order. */
export interface CoordinationBacklog {
  /** Custom events waiting to be stored. */
  readonly events: number;
  /** Cancel and message requests waiting to be recorded. */
  readonly control: number;
  /** Events and requests given up on because the backlog was full. */
  readonly dropped: number;
}

/** What a coordinating store calls back into its supervisor. */
export interface CoordinationHandler {
  /** Rows or events of `threadId` changed somewhere (notification or poll). */
  threadChanged(threadId: string): void;
  /** Requests addressed to tasks this process runs, each taken exactly once. */
  control(requests: readonly ControlRequest[]): void;
  /** The heartbeat's poll: the fallback for notifications that never arrived (or cannot, behind a pooler). */
  poll(): void;
  /** This process lost ownership of these tasks (its epoch was revoked); the store holds them as ended. */
  revoked(taskIds: readonly TaskId[]): void;
  /** The link to the database changed (connection lost or back, polling fallback on or off). */
  connection?(event: ReplicaEvent): void;
  /**
   * This process's epoch ended while it received these threads: claim them again (only where no
   * other replica claimed them meanwhile) and take what they hold.
   */
  reclaim?(threadIds: readonly string[]): void;
  /** A retried terminal write took the task's terminal event for this process (see `awaitTerminal`). */
  terminalTaken?(taskId: TaskId): void;
}

/**
 * Counted slots shared by every replica of one database (a cluster-wide concurrency limit). A slot
 * is held by a task under this process's owner epoch; the slots of an epoch that is no longer
 * alive stop counting.
 */
export interface SharedSlots {
  /** Takes a slot of `key` for `taskId` when fewer than `limit` are held; `true` when it holds one. */
  tryAcquire(key: string, limit: number, taskId: TaskId): Promise<boolean>;
  /** Gives the task's slot back (retried until written or the store closes). */
  release(taskId: TaskId): Promise<void>;
  /** Resolves when a slot may have freed somewhere (a notification), or after `ms` at the latest. */
  changed(ms: number): Promise<void>;
}

/** Where a cancel request reaches. */
export type CancelScope =
  | { readonly kind: 'task'; readonly taskId: TaskId }
  | { readonly kind: 'tree'; readonly taskId: TaskId }
  | { readonly kind: 'thread'; readonly threadId: string }
  | { readonly kind: 'run'; readonly runId: string };

/**
 * The optional capability of a store shared by several processes (replicas): ownership, control
 * and events routed through the store. A supervisor uses it only when its store has one, so a
 * single-process store pays nothing for it.
 */
export interface TaskCoordination {
  /** Starts delivering callbacks to `handler` (one supervisor per store instance). */
  attach(handler: CoordinationHandler): void;
  /** Orphans every `running` task whose owner is dead (decided in the store), then returns the thread's rows in order. */
  loadThread(threadId: string): Promise<CoordinatedRow[]>;
  /** The current rows of these tasks. */
  rows(taskIds: readonly TaskId[]): Promise<PersistedTaskMeta[]>;
  /** The thread's rows stored after `afterSeq`. */
  rowsAfter(threadId: string, afterSeq: number): Promise<CoordinatedRow[]>;
  /** Declares that a local task's events have an inbox in this process (`acks`: it acknowledges reads). */
  setLocalInbox(taskId: TaskId, acks: boolean): void;
  /**
   * Records a custom event durably, in call order. Resolves with the taken event when this process
   * receives the thread's events and the task has a local inbox (the caller delivers it), else
   * `undefined` (stored for the thread's receiver).
   */
  appendEvent(threadId: string, event: TaskEvent): Promise<TakenEvent | undefined>;
  /** The terminal event of `taskId` if its fenced put took it for this process (read once). */
  takeTerminal(taskId: TaskId): TakenEvent | undefined;
  /**
   * The terminal write of `taskId` failed and is retried: once a retry lands and takes its terminal
   * event for this process, `terminalTaken` is called.
   */
  awaitTerminal?(taskId: TaskId): void;
  /**
   * Makes this process the receiver of the thread's events (a new claim) and takes, in order, every
   * event not yet consumed — also those an earlier claim took but never acknowledged. `acks`: the
   * receiving inbox acknowledges reads (events stay stored until then); else taking consumes.
   */
  claimAndTake(threadId: string, acks: boolean): Promise<TakenEvent[]>;
  /**
   * Like `claimAndTake` after this process's epoch ended: claims the thread under the current epoch
   * only if the ended epoch's claim is still the thread's (nobody claimed it meanwhile).
   */
  reclaimAndTake?(threadId: string, acks: boolean): Promise<TakenEvent[]>;
  /** Events and control requests not yet written (retried in the background). */
  backlog?(): CoordinationBacklog;
  /**
   * Retries the unwritten events and control requests for up to `timeoutMs`; resolves with what is
   * still unwritten.
   */
  flush?(timeoutMs: number): Promise<{ events: TaskEvent[]; control: number }>;
  /** The database clock (ms since the epoch), as estimated by this process; times compared across replicas use it. */
  now?(): number;
  /** Whether `claim` is still this process's current claim of the thread. */
  isCurrentClaim(threadId: string, claim: string): boolean;
  /** Consumes a taken event (its receiver read it). */
  ack(seq: number): void;
  /** Makes this process the receiver of the thread's events unless another process already is. */
  adoptThread(threadId: string): void;
  /** Takes the thread's pending events if this process still receives them. */
  take(threadId: string, acks: boolean): Promise<TakenEvent[]>;
  /** Records cancel requests for every running task in `scope` run by another process. */
  cancel(scope: CancelScope): Promise<void>;
  /** Records a message for a sub-agent another process runs. */
  sendMessage(
    taskId: TaskId,
    threadId: string,
    from: string,
    content: string,
    messageId?: string,
  ): Promise<void>;
  /** Records the answer to a waiting task another process runs (its owner resumes it, first answer wins). */
  provideInput?(taskId: TaskId, response: Json, request: Json): Promise<void>;
  /** Slots shared by the replicas: present, the supervisor's `concurrency.perType` limits hold across them. */
  readonly slots?: SharedSlots;
}
