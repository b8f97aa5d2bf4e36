/**
 * Puppet bodies: task bodies that do exactly what test commands tell them, one instruction at a time.
 */
import { SpawnError } from '../supervisor/errors.js';
import type { AgentTaskContext, SpawnOptions, TaskContext, TaskSupervisor } from '../supervisor/types.js';
import { TaskResult } from '../wire/taskResult.js';
import type { Json, TaskId } from '../wire/types.js';
import { type CancelReaction, type ModelOutcome, reactionOutcome } from './model.js';
import { byTask } from './modelTypes.js';

/** An instruction to a puppet body. */
export type Instruction =
  | { kind: 'emit'; eventType: string; payload: Json }
  | { kind: 'spawn'; opts: SpawnOptions; agent: boolean; child: Puppet }
  | { kind: 'settle'; outcome: ModelOutcome }
  /** Calls `ctx.requestInput(request)`; acknowledged once the task waits. The answer goes to `responses`. */
  | { kind: 'request'; request: Json };

type Ack = boolean | TaskId | { error: string } | undefined;

/**
 * A task body driven by instructions. `cooperative` bodies race each wait with `ctx.cancelled()`
 * and then play their {@link CancelReaction}; others ignore cancellation.
 */
export class Puppet {
  /** The task id, once spawned. */
  id: TaskId | undefined;
  /** The body has returned or thrown. */
  returned = false;
  /** The answers its `requestInput` calls resolved with, in order. */
  readonly responses: Json[] = [];
  #next: ((i: Instruction | 'abandon') => void) | undefined;
  #queued: Instruction | 'abandon' | undefined;
  #ack: ((a: Ack) => void) | undefined;
  /** The wait for the next instruction that was pending when an answer came. */
  #carried: Promise<Instruction | 'abandon' | 'cancel'> | undefined;

  constructor(
    readonly agent: boolean,
    readonly cooperative: boolean,
    readonly reaction: CancelReaction,
    /** The supervisor the puppet's nested spawns go to (read at each spawn). */
    readonly supervisor: () => TaskSupervisor,
  ) {}

  /**
   * The body to spawn.
   *
   * @example
   * const id = await supervisor.spawn({ threadId: 't', taskType: 'puppet', description: 'p' }, puppet.body());
   */
  body(): (ctx: TaskContext | AgentTaskContext) => Promise<unknown> {
    return async (ctx) => {
      try {
        return await this.#run(ctx);
      } finally {
        this.returned = true;
      }
    };
  }

  /**
   * Gives the body its next instruction and resolves with its answer (`undefined` for a settle).
   *
   * @example
   * await puppet.instruct({ kind: 'emit', eventType: 'progress', payload: { n: 1 } });
   * await puppet.instruct({ kind: 'settle', outcome: { kind: 'success', value: { pages: 3 } } });
   */
  instruct(i: Instruction): Promise<Ack> {
    if (this.returned) return Promise.reject(new Error(`puppet ${this.id} already returned`));
    return new Promise<Ack>((resolve) => {
      this.#ack = resolve;
      this.#give(i);
    });
  }

  /**
   * Makes a waiting body throw (a simulated crash: nobody looks at what it becomes).
   *
   * @example
   * puppet.abandon(); // the body throws, as if the process had crashed under it
   */
  abandon(): void {
    if (!this.returned) this.#give('abandon');
  }

  #give(i: Instruction | 'abandon'): void {
    const next = this.#next;
    this.#next = undefined;
    if (next) next(i);
    else this.#queued = i;
  }

  #wait(ctx: TaskContext | AgentTaskContext): Promise<Instruction | 'abandon' | 'cancel'> {
    const carried = this.#carried;
    this.#carried = undefined;
    if (carried !== undefined) return carried;
    const q = this.#queued;
    this.#queued = undefined;
    if (q !== undefined) return Promise.resolve(q);
    const p = new Promise<Instruction | 'abandon'>((resolve) => {
      this.#next = resolve;
    });
    return this.cooperative ? Promise.race([p, ctx.cancelled().then(() => 'cancel' as const)]) : p;
  }

  #done(a: Ack): void {
    const ack = this.#ack;
    this.#ack = undefined;
    ack?.(a);
  }

  async #run(ctx: TaskContext | AgentTaskContext): Promise<unknown> {
    for (;;) {
      const i = await this.#wait(ctx);
      if (i === 'abandon') throw new Error('abandoned');
      if (i === 'cancel') {
        this.#next = undefined;
        if (this.reaction === 'emit-then-cancelled' && 'emit' in ctx) ctx.emit('final_words', { last: true });
        return this.#finish(ctx, reactionOutcome(this.reaction));
      }
      if (i.kind === 'emit') this.#done((ctx as TaskContext).emit(i.eventType, i.payload));
      else if (i.kind === 'spawn') {
        const sup = this.supervisor();
        try {
          const body = i.child.body();
          const id = await (i.agent ? sup.spawnAgent(i.opts, body) : sup.spawn(i.opts, body));
          i.child.id = id;
          this.#done(id);
        } catch (e) {
          this.#done({ error: e instanceof SpawnError ? e.code : String(e) });
        }
      } else if (i.kind === 'request') {
        const answer = ctx.requestInput(i.request).then(
          (response) => {
            this.responses.push(response);
            return 'answered' as const;
          },
          () => 'refused' as const,
        );
        this.#done(true);
        // While it waits, the body still takes instructions (it may settle without the answer).
        const next = this.#wait(ctx);
        const first = await Promise.race([answer, next]);
        if (first === 'answered') {
          this.#carried = next;
          continue;
        }
        if (first === 'refused' || first === 'cancel') {
          // Cancelled while waiting: a cooperative body plays its reaction; others go on regardless.
          if (!this.cooperative) continue;
          this.#next = undefined;
          if (this.reaction === 'emit-then-cancelled' && 'emit' in ctx)
            ctx.emit('final_words', { last: true });
          return this.#finish(ctx, reactionOutcome(this.reaction));
        }
        this.#queued = first;
      } else {
        queueMicrotask(() => this.#done(undefined));
        return this.#finish(ctx, i.outcome);
      }
    }
  }

  #finish(ctx: TaskContext | AgentTaskContext, o: ModelOutcome): unknown {
    if (o.kind === 'throw') throw new Error(o.message);
    if (o.kind === 'failure') return TaskResult.failed(o.error);
    if (o.kind === 'cancelled') return TaskResult.cancelled();
    // A sub-agent returns everything its inbox received (parent messages, children's events), by task.
    return TaskResult.success('inboxReceiver' in ctx ? byTask(ctx.inboxReceiver.drain() as Json[]) : o.value);
  }
}
