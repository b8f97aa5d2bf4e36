import type { InboxReceiver, InboxSender } from '../inbox/types.js';
import type { Json, TaskId } from '../wire/types.js';
import { type EmitRoute, emitCustom } from './emitRoute.js';
import type { TaskEntry } from './entry.js';
import type { Usage } from './budget.js';
import type { RequestInputOptions } from './input.js';
import type { AgentTaskContext, TaskContext } from './types.js';

/** What a context needs from its supervisor (`emit` goes through the supervisor's `EmitRoute`). */
export interface ContextHost {
  requestInput(entry: TaskEntry, request: unknown, options: RequestInputOptions | undefined): Promise<Json>;
  reportUsage(entry: TaskEntry, usage: unknown): void;
}

/** The reason every cancelled task's signal carries: one shared `AbortError` (creating one costs ~5 µs). */
export const CANCEL_REASON: DOMException = new DOMException('task cancelled', 'AbortError');

/** The body-facing view of an entry; the signal and the `cancelled()` promise are made on first use. */
class BaseContext {
  readonly #entry: TaskEntry;
  readonly #base: ContextHost;

  constructor(host: ContextHost, entry: TaskEntry) {
    this.#entry = entry;
    this.#base = host;
  }

  requestInput(request: Json, options?: RequestInputOptions): Promise<Json> {
    return this.#base.requestInput(this.#entry, request, options);
  }

  reportUsage(usage: Usage): void {
    this.#base.reportUsage(this.#entry, usage);
  }

  get taskId(): TaskId {
    return this.#entry.id;
  }

  get signal(): AbortSignal {
    const entry = this.#entry;
    if (entry.controller === undefined) {
      entry.controller = new AbortController();
      if (entry.cancelRequested) entry.controller.abort(CANCEL_REASON);
    }
    return entry.controller.signal;
  }

  cancelled(): Promise<void> {
    const entry = this.#entry;
    if (entry.cancelRequested || entry.done) return Promise.resolve();
    return new Promise((resolve) => {
      (entry.cancelWaiters ??= []).push(resolve);
    });
  }

  isCancelled(): boolean {
    return this.#entry.cancelRequested;
  }
}

/** A plain task's context. */
export class PlainTaskContext extends BaseContext implements TaskContext {
  readonly #route: EmitRoute;
  readonly #entry: TaskEntry;

  constructor(host: ContextHost, route: EmitRoute, entry: TaskEntry) {
    super(host, entry);
    this.#route = route;
    this.#entry = entry;
  }

  get inbox(): InboxSender | undefined {
    return this.#entry.inbox;
  }

  emit(eventType: string, payload?: Json): boolean {
    return emitCustom(this.#route, this.#entry, eventType, payload);
  }
}

/** A sub-agent's context: its own inbox instead of `emit`. */
export class SubAgentContext extends BaseContext implements AgentTaskContext {
  readonly inboxSender: InboxSender;
  readonly inboxReceiver: InboxReceiver;

  constructor(host: ContextHost, entry: TaskEntry) {
    super(host, entry);
    // spawnAgent always creates the inbox before the context.
    this.inboxSender = entry.agentInbox!.sender;
    this.inboxReceiver = entry.agentInbox!.receiver;
  }
}
