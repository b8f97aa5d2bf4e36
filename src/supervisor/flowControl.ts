import type { StopReason, TaskMachineEvent } from '../../machines/task.machine.js';
import { toJson } from '../wire/jsonSafe.js';
import type { Json, TaskId, TaskSummary, TaskUsage } from '../wire/types.js';
import { addUsage, overBudget, toTaskUsage, type Usage } from './budget.js';
import { ConcurrencyGate, type ConcurrencyLimits } from './concurrency.js';
import { CANCEL_REASON } from './context.js';
import type { TaskEntry } from './entry.js';
import { newFlow, type TaskFlow } from './flow.js';
import { checkResponse, INPUT_REQUIRED_EVENT, type RequestInputOptions } from './input.js';
import type { Registry } from './registry.js';
import { SharedLimits } from './sharedLimits.js';
import type { SharedSlots } from '../stores/coordination.js';

/** What the flow control needs from the task runner. */
export interface FlowHost {
  readonly registry: Registry;
  now(): number;
  notify(entry: TaskEntry): void;
  emit(entry: TaskEntry, eventType: string, payload: Json): boolean;
  /** Starts a queued task's body; its slot is already taken. */
  startQueued(entry: TaskEntry): void;
  /** Writes the task's record (its wait began or ended), so other replicas and a restart see it. */
  persist(entry: TaskEntry): void;
  /** Cancels a task and its subtree, the task itself with `reason`. */
  cancelTree(entry: TaskEntry, reason: StopReason): void;
  /** Sends the task's actor `event` the way every event reaches it (nothing once it is final). */
  send(entry: TaskEntry, event: TaskMachineEvent): void;
}

/** The supervisor options flow control reads. */
export interface FlowOptions {
  concurrency?: ConcurrencyLimits | undefined;
  budgetPerType?: Readonly<Record<string, Usage>> | undefined;
  /** The store's shared slots: `concurrency.perType` then holds across the replicas. */
  sharedSlots?: SharedSlots | undefined;
}

/** Which usage `usageOf` sums. */
export type UsageQuery = { taskId: TaskId; tree?: boolean } | { threadId: string };

const INPUT_PROVIDED: TaskMachineEvent = Object.freeze({ type: 'task.input.provided' });

function setSummary(host: FlowHost, entry: TaskEntry, next: TaskSummary): void {
  entry.summary = Object.freeze(next);
  host.notify(entry);
}

function withoutWait(summary: TaskSummary): TaskSummary {
  const { phase: _p, input_request: _r, ...rest } = summary;
  return rest;
}

/**
 * Queues and limits, waiting for input, usage and budgets: the parts of a task's life that a
 * plain task never touches (its entry has no `flow`, and none of this runs for it).
 */
export class FlowControl {
  readonly gate: ConcurrencyGate | undefined;
  readonly #host: FlowHost;
  readonly #budgetPerType: ReadonlyMap<string, TaskUsage>;
  readonly #shared: SharedLimits | undefined;

  constructor(host: FlowHost, options: FlowOptions) {
    const limits = options.concurrency;
    const budgetPerType = options.budgetPerType;
    this.#host = host;
    this.gate =
      limits === undefined ? undefined : new ConcurrencyGate(limits, (entry) => this.#onSlot(entry));
    const perType = new Map<string, TaskUsage>();
    if (budgetPerType !== undefined) {
      if (typeof budgetPerType !== 'object' || budgetPerType === null)
        throw new TypeError(`Expected \`budgetPerType\` to be an object, got ${String(budgetPerType)}`);
      for (const [type, b] of Object.entries(budgetPerType))
        perType.set(type, Object.freeze(toTaskUsage(b, `budgetPerType.${type}`)));
    }
    this.#budgetPerType = perType;
    const typeLimits = this.gate?.perType;
    this.#shared =
      options.sharedSlots !== undefined && typeLimits !== undefined && typeLimits.size > 0
        ? new SharedLimits(options.sharedSlots, typeLimits)
        : undefined;
  }

  /**
   * A new task takes its slot: `true` when its body may start now; `false` when it waits (in the
   * queue, or for its type's slot shared with other replicas).
   */
  admit(entry: TaskEntry): boolean {
    const gate = this.gate;
    if (gate === undefined) return true;
    if (!gate.tryAcquire(entry)) {
      gate.enqueue(entry);
      return false;
    }
    const shared = this.#shared;
    if (shared === undefined || !shared.applies(entry)) return true;
    shared.acquire(entry, () => this.#grant(entry));
    return false;
  }

  /**
   * A durable task's next attempt asks for a slot (it gave its slot back between attempts, or
   * waited for its start time without one): `undefined` when it may go on now (it holds a slot, or
   * no limit applies); else it waits in the queue in its priority and spawn order, and the promise
   * resolves once it has one.
   */
  awaitSlot(entry: TaskEntry): Promise<void> | undefined {
    const flow = entry.flow;
    if (this.gate === undefined || flow === undefined || flow.holdsSlot || entry.done) return undefined;
    // As a new task is admitted; `#grant` then resolves this wait instead of starting a body.
    let granted!: () => void;
    const waiting = new Promise<void>((resolve) => {
      granted = resolve;
    });
    flow.onSlot = granted;
    if (!this.admit(entry)) return waiting;
    flow.onSlot = undefined;
    return undefined;
  }

  /** A durable task stops running between attempts (or until its start time): its slots go to the next tasks. */
  releaseSlot(entry: TaskEntry): void {
    if (entry.flow !== undefined) this.#release(entry);
  }

  /** Frees the task's slot, and its shared one. */
  #release(entry: TaskEntry): void {
    this.#shared?.release(entry);
    this.gate?.release(entry);
  }

  /** Whether every spawn gets a flow: limits or per-type budgets are configured. */
  get configured(): boolean {
    return this.gate !== undefined || this.#budgetPerType.size > 0;
  }

  /** The budget a spawn gets: its own, else its type's. */
  budgetFor(taskType: string, budget: unknown): TaskUsage | undefined {
    if (budget !== undefined) return Object.freeze(toTaskUsage(budget, 'opts.budget'));
    return this.#budgetPerType.get(taskType);
  }

  /** A task's flow; `usage` is what it used before this process took it up (a resumed task's). */
  newFlow(
    priority: number | undefined,
    agent: boolean,
    budget: TaskUsage | undefined,
    usage?: TaskUsage | undefined,
  ): TaskFlow {
    const flow = newFlow(priority ?? 0, agent, budget);
    if (usage !== undefined) {
      flow.usage = usage;
      flow.treeUsage = usage;
    }
    return flow;
  }

  /** The task's flow, made now if it had none: with the usage its summary already has. */
  #flowOf(entry: TaskEntry): TaskFlow {
    return (entry.flow ??= this.newFlow(0, entry.agentInbox !== undefined, undefined, entry.summary.usage));
  }

  #onSlot(entry: TaskEntry): void {
    const shared = this.#shared;
    // A closure only when a shared slot must be waited for; a local slot goes on at once.
    if (shared?.applies(entry)) shared.acquire(entry, () => this.#grant(entry));
    else this.#grant(entry);
  }

  /** The task has every slot it needs: it goes on from where it waited. */
  #grant(entry: TaskEntry): void {
    const flow = entry.flow;
    const onSlot = flow?.onSlot;
    if (onSlot !== undefined) {
      flow!.onSlot = undefined;
      onSlot();
    } else if (flow?.phase === 'waiting') this.#resumeNow(entry);
    else this.#host.startQueued(entry);
  }

  /** `ctx.requestInput`: the task waits, its slot freed and its deadline paused, until answered. */
  requestInput(entry: TaskEntry, request: unknown, options: RequestInputOptions | undefined): Promise<Json> {
    const json = toJson(request, 'request');
    const validate = options?.validate;
    if (validate !== undefined && typeof validate !== 'function')
      throw new TypeError(`Expected \`options.validate\` to be a function, got ${typeof validate}`);
    if (entry.done || entry.cancelRequested || entry.actor === undefined)
      return Promise.reject(entry.controller?.signal.reason ?? CANCEL_REASON);
    const flow = this.#flowOf(entry);
    if (flow.input !== undefined)
      return Promise.reject(
        new TypeError('Expected one `requestInput` at a time, got a second while one waits'),
      );
    const now = this.#host.now();
    const activeMs = Math.max(0, now - (flow.activeSinceMs ?? entry.summary.created_at_ms));
    return new Promise<Json>((resolve, reject) => {
      flow.input = { request: json, validate, resolve, reject, answered: false };
      flow.phase = 'waiting';
      this.#host.send(entry, { type: 'task.input.requested', activeMs });
      setSummary(this.#host, entry, { ...entry.summary, phase: 'waiting', input_request: json });
      this.#host.persist(entry);
      this.#host.emit(entry, INPUT_REQUIRED_EVENT, { request: json });
      this.#release(entry);
    });
  }

  /** `supervisor.provideInput`: `true` when this answer resumes (or will, once a slot frees) the task. */
  provideInput(taskId: TaskId, response: unknown): boolean {
    const json = toJson(response, 'response');
    const entry = this.#host.registry.byId.get(taskId);
    const input = entry?.flow?.input;
    if (entry === undefined || entry.done || input === undefined || input.answered) return false;
    checkResponse(input.validate, json);
    input.answered = true;
    input.response = json;
    if (this.gate !== undefined) this.gate.resume(entry);
    else this.#resumeNow(entry);
    return true;
  }

  #resumeNow(entry: TaskEntry): void {
    const flow = entry.flow!;
    const input = flow.input;
    if (input === undefined || entry.done) {
      this.#release(entry);
      return;
    }
    flow.input = undefined;
    flow.phase = undefined;
    flow.activeSinceMs = this.#host.now();
    this.#host.send(entry, INPUT_PROVIDED);
    setSummary(this.#host, entry, withoutWait(entry.summary));
    this.#host.persist(entry);
    input.resolve(input.response ?? null);
  }

  /** The task was asked to stop: a pending `requestInput` rejects with the signal's reason. */
  onCancelling(entry: TaskEntry): void {
    const flow = entry.flow;
    const input = flow?.input;
    if (flow === undefined || input === undefined) return;
    flow.input = undefined;
    flow.phase = undefined;
    this.#shared?.release(entry);
    this.gate?.remove(entry);
    setSummary(this.#host, entry, withoutWait(entry.summary));
    input.reject(entry.controller?.signal.reason ?? CANCEL_REASON);
  }

  /** The task reached a final state: its slot (or its place in a queue) goes to the next task. */
  onFinal(entry: TaskEntry): void {
    const flow = entry.flow;
    if (flow === undefined) return;
    // A pending input is dropped, not rejected: the body has ended and may not be listening.
    flow.input = undefined;
    flow.phase = undefined;
    flow.body = undefined;
    flow.onSlot = undefined;
    const gate = this.gate;
    if (gate === undefined) return;
    this.#shared?.release(entry);
    if (flow.holdsSlot) gate.release(entry);
    else gate.remove(entry);
  }

  /** `ctx.reportUsage`: adds to the task's usage and its ancestors' tree usage; a budget exceeded cancels that subtree. */
  reportUsage(entry: TaskEntry, usage: unknown): void {
    const u = toTaskUsage(usage, 'usage');
    if (entry.done) return;
    const flow = this.#flowOf(entry);
    flow.usage = Object.freeze(addUsage(flow.usage, u));
    setSummary(this.#host, entry, { ...entry.summary, usage: flow.usage });
    const seen = new Set<TaskEntry>();
    let e: TaskEntry | undefined = entry;
    while (e !== undefined && !seen.has(e)) {
      seen.add(e);
      const f = this.#flowOf(e);
      f.treeUsage = addUsage(f.treeUsage, u);
      if (!e.done && !e.remote && !e.cancelRequested && overBudget(f.treeUsage, f.budget) !== undefined)
        this.#host.cancelTree(e, 'budget');
      e = e.parentTaskId === undefined ? undefined : this.#host.registry.byId.get(e.parentTaskId);
    }
  }

  /** Summed usage: a task's own, its tree's (itself and every descendant held), or a thread's tasks'. */
  usageOf(query: UsageQuery): TaskUsage {
    if (typeof query !== 'object' || query === null)
      throw new TypeError(
        `Expected \`query\` to be an object, got ${query === null ? 'null' : typeof query}`,
      );
    if ('threadId' in query) {
      let sum: TaskUsage = {};
      // The summary's usage: also a restored task's, read from its record.
      for (const entry of this.#host.registry.thread(query.threadId)) {
        const u = entry.summary.usage;
        if (u !== undefined) sum = addUsage(sum, u);
      }
      return sum;
    }
    const entry = this.#host.registry.byId.get(query.taskId);
    const own = entry?.summary.usage;
    return { ...(query.tree === true ? (entry?.flow?.treeUsage ?? own) : own) };
  }
}
