import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SpawnOptions } from '../../src/index.js';
import {
  CancelCommand,
  ManualTimers,
  runSupervisorModel,
  type SpawnSpec,
  SettleCommand,
  SpawnChildCommand,
  SpawnCommand,
  type SupervisorWrapper,
  supervisorCommands,
  TickCommand,
} from '../../src/testing/index.js';
import { assertWithSeed, SEED } from './seed.js';
import { withMethod } from '../helpers/withMethod.js';

const spec = (extra: Partial<SpawnSpec> = {}): SpawnSpec => ({
  agent: false,
  name: undefined,
  cooperative: true,
  reaction: 'cancelled',
  ...extra,
});

/** A runtime that ignores `timeoutMs` (deadlines never fire). */
const ignoresDeadlines: SupervisorWrapper = (real) =>
  withMethod(real, 'spawn', (opts: SpawnOptions, body) => {
    const { timeoutMs: _dropped, ...rest } = opts;
    return real.spawn(rest, body);
  });

describe('model-based suite: deadlines (the after:deadline transition)', () => {
  it('a deadline due in a tick cancels the task and its subtree; ties fire in spawn order', async () => {
    await runSupervisorModel([
      new SpawnCommand(spec({ timeoutMs: 3 }), 't1', undefined, 'r1'),
      new SpawnChildCommand(spec({ timeoutMs: 2 }), 0),
      new SpawnCommand(spec({ timeoutMs: 5, cooperative: false }), 't2', undefined, undefined),
      new TickCommand(2),
      new TickCommand(1),
      new TickCommand(4),
      new SettleCommand(0, { kind: 'throw', message: 'late' }),
    ]);
    // Parent and child due at the same instant: the parent (spawned first) fires first and takes
    // the child along, so only the parent says it timed out.
    await runSupervisorModel([
      new SpawnCommand(spec({ timeoutMs: 2 }), 't1', undefined, undefined),
      new SpawnChildCommand(spec({ timeoutMs: 2 }), 0),
      new TickCommand(2),
    ]);
    // Cancelled before its deadline: no timeout error.
    await runSupervisorModel([
      new SpawnCommand(spec({ timeoutMs: 2 }), 't1', undefined, undefined),
      new CancelCommand('cancel', 0),
      new TickCommand(4),
    ]);
  });

  it('the model suite notices a runtime that ignores timeoutMs', async () => {
    console.log(`[ignoresDeadlines] fast-check seed ${SEED} (replay: FC_SEED=${SEED})`);
    const out = await fc.check(
      fc.asyncProperty(supervisorCommands({ weights: { tick: 6, restart: 0, spawnAgent: 0 } }), (cmds) =>
        runSupervisorModel(cmds, { wrap: ignoresDeadlines }),
      ),
      // A runtime that ignores deadlines can leave a run waiting forever for a task the model
      // says has ended: such a run fails by its time limit, and that first counterexample is
      // kept unshrunk (shrinking through hanging runs would take minutes). The limit is far above a
      // run's few milliseconds so that a healthy run slowed by a loaded machine is never the
      // "counterexample" (it would then lack the deadline and tick the checks below look for).
      { numRuns: 2_000, seed: SEED, timeout: 10_000, endOnFailure: true },
    );
    expect(out.failed, 'a runtime without deadlines passed the model suite').toBe(true);
    const ran = [...(out.counterexample![0] as Iterable<{ hasRan: boolean; toString(): string }>)]
      .filter((c) => c.hasRan)
      .map(String);
    expect(ran.some((c) => /"timeoutMs":\d/.test(c))).toBe(true);
    expect(ran.some((c) => c.startsWith('tick('))).toBe(true);
  }, 300_000);

  it('random command sequences with deadlines and frequent ticks agree with the model', async () => {
    await assertWithSeed(
      'deadlines',
      fc.asyncProperty(supervisorCommands({ weights: { tick: 5, spawnChild: 5 } }), (cmds) =>
        runSupervisorModel(cmds),
      ),
      500,
    );
  }, 300_000);

  it('ManualTimers fires due timers earliest first, ties in the order they were set, ones set while firing too', () => {
    const t = new ManualTimers(100);
    const log: string[] = [];
    t.setTimeout(() => log.push('b@5'), 5);
    t.setTimeout(() => log.push('a@2'), 2);
    t.setTimeout(() => log.push('c@5'), 5);
    const gone = t.setTimeout(() => log.push('never'), 1);
    t.clearTimeout(gone);
    t.setTimeout(() => {
      log.push('d@3');
      t.setTimeout(() => log.push('e@4'), 1);
    }, 3);
    t.advance(4);
    expect(log).toEqual(['a@2', 'd@3', 'e@4']);
    expect(t.now()).toBe(104);
    t.advance(1);
    expect(log).toEqual(['a@2', 'd@3', 'e@4', 'b@5', 'c@5']);
  });
});
