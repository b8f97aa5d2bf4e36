/**
 * Model-based commands: each applies one supervisor operation to the `ReferenceModel` and to the
 * real supervisor (in a `SupervisorHarness`), compares the answers, then checks every invariant.
 */
import type fc from 'fast-check';
import { SendError, SpawnError } from '../supervisor/errors.js';
import type { Json, TaskId, TaskParentContext } from '../wire/types.js';
import { sameJson, settleMicrotasks, type SupervisorHarness } from './harness.js';
import type { CancelReaction, ModelOutcome, ModelTask, ReferenceModel } from './model.js';
import { byTask } from './modelTypes.js';
import { Puppet } from './puppet.js';

/** The system under test of the commands. */
export type Real = SupervisorHarness;
/** One model-based command (check, run, toString). */
export type SupervisorCommand = fc.AsyncCommand<ReferenceModel, Real>;

const show = (v: unknown): string => JSON.stringify(v);
function expectSame(what: string, got: unknown, want: unknown): void {
  if (!sameJson(got, want)) throw new Error(`${what}: got ${show(got)}, model expects ${show(want)}`);
}

/** Picks the `n`-th (mod length) element, or `undefined` when there is none. */
const pickOf = <T>(list: readonly T[], n: number): T | undefined =>
  list.length === 0 ? undefined : list[n % list.length];

const liveTasks = (m: ReferenceModel, plainOnly = false): ModelTask[] =>
  m.memory().filter((t) => m.isLive(t) && !(plainOnly && t.agent));

/** After an operation: let bodies react and writes land, then compare everything. */
async function after(m: ReferenceModel, r: Real): Promise<void> {
  await settleMicrotasks();
  r.verify(m);
  await r.verifyWrites(m);
}

function checkId(m: ReferenceModel, id: TaskId): void {
  const n = /^bg_(\d+)$/.exec(id)?.[1];
  if (n === undefined || m.minted.has(id))
    throw new Error(`spawn returned id ${show(id)}: not a fresh bg_<n>`);
  const max = Math.max(-1, ...Array.from(m.minted, (x) => Number(x.slice(3))));
  if (m.generation === 0 ? Number(n) !== m.minted.size : Number(n) <= max) {
    throw new Error(`spawn returned ${id} after ${show(Array.from(m.minted))} (generation ${m.generation})`);
  }
}

/** What a spawn command asks for. */
export interface SpawnSpec {
  agent: boolean;
  name: string | undefined;
  cooperative: boolean;
  reaction: CancelReaction;
  /** A deadline for the spawn (`timeoutMs`), or none. */
  timeoutMs?: number | undefined;
}

async function spawnWith(
  m: ReferenceModel,
  r: Real,
  spec: SpawnSpec,
  thread: string,
  pc: TaskParentContext,
  doSpawn: (p: Puppet) => Promise<TaskId | { error: string }>,
  inbox: 'owner' | TaskId,
): Promise<void> {
  const refusal = m.spawnRefusal({ thread, name: spec.name, parentContext: pc });
  const puppet = new Puppet(spec.agent, spec.cooperative, spec.reaction, () => r.supervisor);
  const got = await doSpawn(puppet);
  if (typeof got !== 'string') {
    if (got.error !== refusal)
      throw new Error(`spawn refused with ${got.error}, model expects ${refusal ?? 'success'}`);
    return after(m, r);
  }
  if (refusal !== undefined) throw new Error(`spawn succeeded (${got}), model expects ${refusal}`);
  checkId(m, got);
  puppet.id = got;
  r.puppets.set(got, puppet);
  m.add({
    id: got,
    thread,
    name: spec.name,
    taskType: spec.agent ? 'sub_agent' : 'model',
    description: '',
    parentContext: pc,
    agent: spec.agent,
    cooperative: spec.cooperative,
    reaction: spec.reaction,
    timeoutMs: spec.timeoutMs,
    inbox,
  });
  return after(m, r);
}

const errorCode = (e: unknown): { error: string } =>
  (e instanceof SpawnError ? { error: e.code } : Promise.reject(e)) as never;

/** `spawn`/`spawnAgent` from the test, with an explicit parent context (parent task, run, or none). */
export class SpawnCommand implements SupervisorCommand {
  constructor(
    readonly spec: SpawnSpec,
    readonly thread: string,
    readonly parent: number | 'unknown' | undefined,
    readonly runId: string | undefined,
  ) {}
  /** Whether the command applies to the model's current state. */
  check = (): boolean => true;
  async run(m: ReferenceModel, r: Real): Promise<void> {
    const pc: TaskParentContext = {};
    const all =
      m.options.parentsAmongPruned === false ? m.memory().map((t) => t.id) : Array.from(m.tasks.keys());
    const parent =
      this.parent === 'unknown' ? 'ext_1' : this.parent === undefined ? undefined : pickOf(all, this.parent);
    if (parent !== undefined) pc.task_id = parent;
    if (this.runId !== undefined) pc.run_id = this.runId;
    const opts = {
      threadId: this.thread,
      description: '',
      ...(this.spec.name === undefined ? {} : { name: this.spec.name }),
      ...(this.spec.timeoutMs === undefined ? {} : { timeoutMs: this.spec.timeoutMs }),
      ...(Object.keys(pc).length > 0 ? { parentContext: pc } : {}),
    };
    await spawnWith(
      m,
      r,
      this.spec,
      this.thread,
      pc,
      (p) => {
        const spawned = this.spec.agent
          ? r.supervisor.spawnAgent(opts, p.body())
          : r.supervisor.spawn({ ...opts, taskType: 'model' }, p.body());
        return spawned.catch(errorCode);
      },
      'owner',
    );
  }
  /** The command as fast-check prints it in a counterexample. */
  toString = (): string =>
    `${this.spec.agent ? 'spawnAgent' : 'spawn'}(${show({ thread: this.thread, parent: this.parent, run: this.runId, ...this.spec })})`;
}

/** A live body spawns a child (ambient parent: itself; a sub-agent's child reports to its inbox). */
export class SpawnChildCommand implements SupervisorCommand {
  constructor(
    readonly spec: SpawnSpec,
    readonly pick: number,
  ) {}
  /** Whether the command applies to the model's current state. */
  check = (m: ReferenceModel): boolean => liveTasks(m).length > 0;
  async run(m: ReferenceModel, r: Real): Promise<void> {
    const parent = pickOf(liveTasks(m), this.pick)!;
    const opts = {
      threadId: parent.thread,
      taskType: 'model',
      description: '',
      ...(this.spec.name === undefined ? {} : { name: this.spec.name }),
      ...(this.spec.timeoutMs === undefined ? {} : { timeoutMs: this.spec.timeoutMs }),
    };
    await spawnWith(
      m,
      r,
      this.spec,
      parent.thread,
      // The ambient parent fills `task_id`, and `run_id` from its own record.
      parent.parentContext.run_id === undefined
        ? { task_id: parent.id }
        : { task_id: parent.id, run_id: parent.parentContext.run_id },
      async (child) => {
        const ack = await r.puppets
          .get(parent.id)!
          .instruct({ kind: 'spawn', opts, agent: this.spec.agent, child });
        return ack as TaskId | { error: string };
      },
      parent.agent ? parent.id : 'owner',
    );
  }
  /** The command as fast-check prints it in a counterexample. */
  toString = (): string => `spawnChild(${show({ pick: this.pick, ...this.spec })})`;
}

/** A live plain body emits a custom event. */
export class EmitCommand implements SupervisorCommand {
  constructor(
    readonly pick: number,
    readonly eventType: string,
    readonly payload: Json,
  ) {}
  /** Whether the command applies to the model's current state. */
  check = (m: ReferenceModel): boolean => liveTasks(m, true).length > 0;
  async run(m: ReferenceModel, r: Real): Promise<void> {
    const t = pickOf(liveTasks(m, true), this.pick)!;
    const want = m.emit(t, this.eventType, this.payload);
    const got = await r.puppets
      .get(t.id)!
      .instruct({ kind: 'emit', eventType: this.eventType, payload: this.payload });
    expectSame(`emit by ${t.id}`, got, want);
    await after(m, r);
  }
  /** The command as fast-check prints it in a counterexample. */
  toString = (): string => `emit(${this.pick}, ${show(this.eventType)}, ${show(this.payload)})`;
}

/** A live body returns (success / failure / cancelled) or throws. */
export class SettleCommand implements SupervisorCommand {
  constructor(
    readonly pick: number,
    readonly outcome: ModelOutcome,
  ) {}
  /** Whether the command applies to the model's current state. */
  check = (m: ReferenceModel): boolean => liveTasks(m).length > 0;
  async run(m: ReferenceModel, r: Real): Promise<void> {
    const t = pickOf(liveTasks(m), this.pick)!;
    // A sub-agent that succeeds returns everything its inbox received.
    const outcome =
      t.agent && this.outcome.kind === 'success'
        ? { kind: 'success' as const, value: byTask(t.received.splice(0)) }
        : this.outcome;
    m.settle(t, outcome);
    await r.puppets.get(t.id)!.instruct({ kind: 'settle', outcome: this.outcome });
    await after(m, r);
  }
  /** The command as fast-check prints it in a counterexample. */
  toString = (): string => `settle(${this.pick}, ${show(this.outcome)})`;
}

type CancelOp = 'cancel' | 'cancelTree' | 'cancelAll' | 'cancelDescendantsForRun';

/** `cancel`, `cancelTree` (a task picked among all, or unknown), `cancelAll` (thread) or `cancelDescendantsForRun` (run). */
export class CancelCommand implements SupervisorCommand {
  constructor(
    readonly op: CancelOp,
    readonly target: number | string,
  ) {}
  /** Whether the command applies to the model's current state. */
  check = (): boolean => true;
  async run(m: ReferenceModel, r: Real): Promise<void> {
    const ids = Array.from(m.tasks.keys());
    const arg = typeof this.target === 'string' ? this.target : (pickOf(ids, this.target) ?? 'bg_404');
    const want = this.op === 'cancel' ? m.cancel(arg) : m[this.op](arg);
    const got = (r.supervisor[this.op] as (a: string) => unknown)(arg);
    expectSame(`${this.op}('${arg}')`, got, want);
    await after(m, r);
  }
  /** The command as fast-check prints it in a counterexample. */
  toString = (): string => `${this.op}(${show(this.target)})`;
}

/** `sendTaskInboxMessage` to a task picked among all (or unknown), from its thread or another. */
export class SendCommand implements SupervisorCommand {
  constructor(
    readonly pick: number | 'unknown',
    readonly wrongThread: boolean,
    readonly content: string,
    readonly threads: readonly string[],
  ) {}
  /** Whether the command applies to the model's current state. */
  check = (): boolean => true;
  async run(m: ReferenceModel, r: Real): Promise<void> {
    const t = this.pick === 'unknown' ? undefined : pickOf(Array.from(m.tasks.values()), this.pick);
    const id = t?.id ?? 'bg_404';
    const own = t?.thread ?? this.threads[0]!;
    const thread = this.wrongThread ? (this.threads.find((x) => x !== own) ?? `${own}-other`) : own;
    const want = m.sendMessage(id, thread, 'parent-agent', this.content);
    let got: string | undefined;
    try {
      r.supervisor.sendTaskInboxMessage(id, thread, 'parent-agent', this.content);
    } catch (e) {
      if (!(e instanceof SendError)) throw e;
      got = e.code;
    }
    expectSame(`sendTaskInboxMessage('${id}', '${thread}')`, got ?? null, want ?? null);
    await after(m, r);
  }
  /** The command as fast-check prints it in a counterexample. */
  toString = (): string => `send(${show(this.pick)}, wrongThread=${this.wrongThread}, ${show(this.content)})`;
}

/** `prune`, and clock ticks that make `olderThanMs` matter. */
export class PruneCommand implements SupervisorCommand {
  constructor(
    readonly thread: string | undefined,
    readonly olderThanMs: number,
  ) {}
  /** Whether the command applies to the model's current state. */
  check = (): boolean => true;
  async run(m: ReferenceModel, r: Real): Promise<void> {
    const want = m.prune(this.thread, this.olderThanMs);
    const got = r.supervisor.prune({
      ...(this.thread === undefined ? {} : { threadId: this.thread }),
      olderThanMs: this.olderThanMs,
    });
    expectSame(`prune(${show({ thread: this.thread, olderThanMs: this.olderThanMs })})`, got, want);
    await after(m, r);
  }
  /** The command as fast-check prints it in a counterexample. */
  toString = (): string => `prune(${show(this.thread)}, ${this.olderThanMs})`;
}

/** Advances the manual clock; deadlines that come due fire. */
export class TickCommand implements SupervisorCommand {
  constructor(readonly ms: number) {}
  /** Whether the command applies to the model's current state. */
  check = (): boolean => true;
  async run(m: ReferenceModel, r: Real): Promise<void> {
    m.tick(this.ms);
    r.tick(this.ms);
    await after(m, r);
  }
  /** The command as fast-check prints it in a counterexample. */
  toString = (): string => `tick(${this.ms})`;
}

/** A crash, then a fresh supervisor over the same store: `loadThread` for every thread. */
export class RestartCommand implements SupervisorCommand {
  constructor(readonly threads: readonly string[]) {}
  /** Whether the command applies to the model's current state. */
  check = (): boolean => true;
  async run(m: ReferenceModel, r: Real): Promise<void> {
    await r.verifyStore(m);
    const got = await r.restart();
    const want = m.restart(this.threads);
    expectSame('loadThread counts', got, want);
    await after(m, r);
    await r.verifyStore(m);
  }
  /** The command as fast-check prints it in a counterexample. */
  toString = (): string => 'restart()';
}

/**
 * With store faults: the next `count` puts holding a terminal record fail (a transient fault;
 * spawns' `running` records are not targeted, so the model still expects every spawn to succeed).
 */
export class StoreFaultCommand implements SupervisorCommand {
  constructor(readonly count: number) {}
  /** Whether the command applies to the model's current state: always. */
  check = (): boolean => true;
  async run(m: ReferenceModel, r: Real): Promise<void> {
    r.faults?.failNext(this.count, (record) => record.status !== 'running');
    await after(m, r);
  }
  /** How fast-check prints the command in a counterexample. */
  toString = (): string => `storeFault(${this.count})`;
}
