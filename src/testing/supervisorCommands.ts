/**
 * `supervisorCommands()`: the fast-check arbitrary of command sequences, and `runSupervisorModel`.
 */
import type * as FC from 'fast-check';
import { fc } from './peer.js';
import type { Json } from '../wire/types.js';
import {
  CancelCommand,
  EmitCommand,
  PruneCommand,
  RestartCommand,
  SendCommand,
  SettleCommand,
  SpawnChildCommand,
  SpawnCommand,
  type SpawnSpec,
  StoreFaultCommand,
  type SupervisorCommand,
  TickCommand,
} from './commands.js';
import type { FaultyTaskStoreOptions } from './faultyStore.js';
import { SupervisorHarness, type SupervisorWrapper } from './harness.js';
import {
  type CancelReaction,
  type ModelOutcome,
  ReferenceModel,
  type ReferenceModelOptions,
} from './model.js';

/** The operations `supervisorCommands` can draw. */
export type CommandKind =
  | 'spawn'
  | 'spawnAgent'
  | 'spawnChild'
  | 'emit'
  | 'settle'
  | 'cancel'
  | 'cancelTree'
  | 'cancelAll'
  | 'cancelDescendantsForRun'
  | 'sendTaskInboxMessage'
  | 'prune'
  | 'tick'
  | 'restart'
  | 'storeFault';

/** Options of {@link supervisorCommands}. */
export interface SupervisorCommandsOptions {
  /** Owner threads (default `['t1', 't2']`). */
  threads?: readonly string[];
  /** Run ids for `parent_context.run_id` (default `['r1', 'r2']`). */
  runs?: readonly string[];
  /** Longest sequence (default 25). */
  maxCommands?: number;
  /** fast-check's size of the sequences (default `'medium'`: about a dozen commands on average). */
  size?: FC.SizeForArbitrary;
  /** Relative weight of each operation (default: see source); `0` leaves it out. */
  weights?: Partial<Record<CommandKind, number>>;
}

const DEFAULT_WEIGHTS: Record<CommandKind, number> = {
  spawn: 4,
  spawnAgent: 2,
  spawnChild: 4,
  emit: 3,
  settle: 4,
  cancel: 2,
  cancelTree: 2,
  cancelAll: 1,
  cancelDescendantsForRun: 1,
  sendTaskInboxMessage: 2,
  prune: 1,
  tick: 1,
  restart: 1,
  // Only with `runSupervisorModel(cmds, { storeFaults })`.
  storeFault: 0,
};

const DEFAULT_THREADS = ['t1', 't2'] as const;

const arbPayload: FC.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.integer({ min: -5, max: 100 }),
  fc.string({ maxLength: 6 }),
  fc.record({ n: fc.nat(9), tag: fc.constantFrom('a', 'b') }),
  fc.array(fc.boolean(), { maxLength: 3 }),
);

const arbOutcome: FC.Arbitrary<ModelOutcome> = fc.oneof(
  arbPayload.map((value) => ({ kind: 'success' as const, value })),
  fc.constantFrom('oops', 'disk full', '').map((error) => ({ kind: 'failure' as const, error })),
  fc.constantFrom('boom', 'bad input').map((message) => ({ kind: 'throw' as const, message })),
  fc.constant({ kind: 'cancelled' as const }),
);

const arbSpec = (agent: FC.Arbitrary<boolean>): FC.Arbitrary<SpawnSpec> =>
  fc
    .record({
      agent,
      name: fc.option(fc.constantFrom('a', 'b', '', 'self'), { freq: 2 }),
      cooperative: fc.boolean(),
      reaction: fc.constantFrom<CancelReaction>('cancelled', 'throw', 'emit-then-cancelled', 'success'),
      timeoutMs: fc.option(fc.integer({ min: 0, max: 6 }), { freq: 4 }),
    })
    .map((s) => ({
      ...s,
      name: s.name ?? undefined,
      timeoutMs: s.timeoutMs ?? undefined,
      // Sub-agents cannot emit, and one that succeeds returns its inbox: keep their reactions plain.
      reaction:
        s.agent && (s.reaction === 'emit-then-cancelled' || s.reaction === 'success')
          ? 'cancelled'
          : s.reaction,
    }));

/**
 * Model-based commands over a real supervisor: `spawn`, `spawnAgent`, nested spawns from inside
 * bodies (some with a `timeoutMs` deadline), `emit`, settles (success / failure / throw / returned cancellation), `cancel`,
 * `cancelTree`, `cancelAll`, `cancelDescendantsForRun`, `sendTaskInboxMessage`, `prune`, clock
 * ticks (which fire due deadlines) and a simulated restart (a crash, then a fresh supervisor over the same store that calls
 * `loadThread`). Bodies are puppets whose every step the commands decide; cooperative ones
 * honour cancellation at once, the others only when told to return. After each command, every
 * observable (summaries, lists, `hasRunning`, stats, the recorded inbox through
 * `checkEventLog`, per-task events) is compared with a {@link ReferenceModel}.
 *
 * @example
 * await fc.assert(
 *   fc.asyncProperty(supervisorCommands(), (cmds) => runSupervisorModel(cmds)),
 *   { numRuns: 1000 },
 * );
 */
export function supervisorCommands(
  options: SupervisorCommandsOptions = {},
): FC.Arbitrary<Iterable<SupervisorCommand>> {
  const threads = options.threads ?? DEFAULT_THREADS;
  const runs = options.runs ?? ['r1', 'r2'];
  const w = { ...DEFAULT_WEIGHTS, ...options.weights };
  const thread = fc.constantFrom(...threads);
  const pick = fc.nat(63);
  const make: Record<CommandKind, () => FC.Arbitrary<SupervisorCommand>> = {
    spawn: () =>
      fc
        .tuple(
          arbSpec(fc.constant(false)),
          thread,
          fc.option(fc.oneof(pick, fc.constant('unknown' as const)), { freq: 2 }),
          fc.option(fc.constantFrom(...runs), { freq: 2 }),
        )
        .map(([spec, th, parent, run]) => new SpawnCommand(spec, th, parent ?? undefined, run ?? undefined)),
    spawnAgent: () =>
      fc
        .tuple(
          arbSpec(fc.constant(true)),
          thread,
          fc.option(pick, { freq: 3 }),
          fc.option(fc.constantFrom(...runs), { freq: 2 }),
        )
        .map(([spec, th, parent, run]) => new SpawnCommand(spec, th, parent ?? undefined, run ?? undefined)),
    spawnChild: () =>
      fc.tuple(arbSpec(fc.boolean()), pick).map(([spec, p]) => new SpawnChildCommand(spec, p)),
    emit: () =>
      fc
        .tuple(pick, fc.constantFrom('progress', 'log', 'data_ready'), arbPayload)
        .map(([p, type, payload]) => new EmitCommand(p, type, payload)),
    settle: () => fc.tuple(pick, arbOutcome).map(([p, o]) => new SettleCommand(p, o)),
    cancel: () => fc.oneof(pick, fc.constant('bg_404')).map((t) => new CancelCommand('cancel', t)),
    cancelTree: () => fc.oneof(pick, fc.constant('bg_404')).map((t) => new CancelCommand('cancelTree', t)),
    cancelAll: () => thread.map((t) => new CancelCommand('cancelAll', t)),
    cancelDescendantsForRun: () =>
      fc.constantFrom(...runs, 'r-none').map((run) => new CancelCommand('cancelDescendantsForRun', run)),
    sendTaskInboxMessage: () =>
      fc
        .tuple(
          fc.oneof({ weight: 5, arbitrary: pick }, { weight: 1, arbitrary: fc.constant('unknown' as const) }),
          fc.boolean(),
          fc.string({ maxLength: 5 }),
        )
        .map(([p, wrong, content]) => new SendCommand(p, wrong, content, threads)),
    prune: () =>
      fc
        .tuple(fc.option(thread), fc.constantFrom(0, 2, 5))
        .map(([th, older]) => new PruneCommand(th ?? undefined, older)),
    tick: () => fc.integer({ min: 1, max: 4 }).map((ms) => new TickCommand(ms)),
    restart: () => fc.constant(new RestartCommand(threads)),
    storeFault: () => fc.integer({ min: 1, max: 4 }).map((n) => new StoreFaultCommand(n)),
  };
  const arbs = (Object.keys(make) as CommandKind[])
    .filter((k) => w[k] > 0)
    .map((k) => ({ weight: w[k], arbitrary: make[k]() }));
  return fc.commands([fc.oneof(...arbs)], {
    maxCommands: options.maxCommands ?? 25,
    size: options.size ?? 'medium',
  });
}

/** Options of {@link runSupervisorModel}. */
export interface ModelRunOptions {
  /** Threads the run uses (must match `supervisorCommands`' `threads`). */
  threads?: readonly string[];
  /** Swaps in another supervisor around the real one (to plant a bug, or to test a wrapper of yours). */
  wrap?: SupervisorWrapper;
  /** Options of the {@link ReferenceModel}. */
  model?: ReferenceModelOptions;
  /**
   * Runs over a {@link FaultyTaskStore} with these options (records it rejects forever); draw
   * `storeFault` commands for transient faults, and leave out `restart`. Each step then also
   * checks the store against memory, and at the end the store heals, `stop()` must resolve and
   * the store must hold exactly what memory holds.
   */
  storeFaults?: FaultyTaskStoreOptions;
}

/**
 * Runs one command sequence: a fresh model and harness, `fc.asyncModelRun`, then every body is
 * released and the supervisor stopped. Rejects with the first divergence.
 *
 * @example
 * fc.asyncProperty(supervisorCommands(), (cmds) => runSupervisorModel(cmds));
 */
export async function runSupervisorModel(
  cmds: Iterable<SupervisorCommand>,
  options: ModelRunOptions = {},
): Promise<void> {
  const real = new SupervisorHarness({
    threads: options.threads ?? DEFAULT_THREADS,
    ...(options.wrap ? { wrap: options.wrap } : {}),
    ...(options.storeFaults ? { storeFaults: options.storeFaults } : {}),
  });
  const model = new ReferenceModel(options.model);
  try {
    await fc.asyncModelRun(() => ({ model, real }), cmds);
    await real.healAndStop(model);
  } finally {
    await real.dispose();
  }
}
