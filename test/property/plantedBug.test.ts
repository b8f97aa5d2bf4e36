import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InboxSender, TaskEvent } from '../../src/index.js';
import { runSupervisorModel, type SupervisorWrapper, supervisorCommands } from '../../src/testing/index.js';
import { SEED } from './seed.js';
import { withMethod } from '../helpers/withMethod.js';

/** Planted bug 1: `cancelTree` cancels the root and its children but skips grandchildren. */
const skipsGrandchildren: SupervisorWrapper = (real) =>
  withMethod(real, 'cancelTree', (id) => {
    let n = real.cancel(id) ? 1 : 0;
    for (const s of [...real.list('t1'), ...real.list('t2')]) {
      if (s.parent_context?.task_id === id && real.cancel(s.task_id)) n++;
    }
    return n;
  });

/** Planted bug 2: the terminal event of a task that emitted something is lost on the way to the inbox. */
const dropsTerminalAfterEmit: SupervisorWrapper = (real, { ownerInbox }) => {
  const emitted = new Set<string>();
  const lossy: InboxSender = {
    ...ownerInbox,
    send(msg) {
      const e = msg as TaskEvent;
      if (e.kind === 'custom') emitted.add(e.task_id);
      else if (emitted.has(e.task_id)) return true; // claims delivery, delivers nothing
      return ownerInbox.send(msg);
    },
  };
  real.setOwnerInbox(lossy);
  return real;
};

/** Runs the model suite against a broken supervisor; returns the shrunk counterexample's commands. */
async function findBug(
  name: string,
  wrap: SupervisorWrapper,
  weights: Parameters<typeof supervisorCommands>[0],
): Promise<string[]> {
  console.log(`[planted ${name}] fast-check seed ${SEED} (replay: FC_SEED=${SEED})`);
  const out = await fc.check(
    fc.asyncProperty(supervisorCommands(weights), (cmds) => runSupervisorModel(cmds, { wrap })),
    { numRuns: 3_000, seed: SEED },
  );
  expect(out.failed, `the model suite did not notice planted bug '${name}'`).toBe(true);
  const cmds = out.counterexample![0] as Iterable<{ hasRan: boolean; toString(): string }>;
  const ran = [...cmds].filter((c) => c.hasRan).map(String);
  console.log(
    `[planted ${name}] found after ${out.numRuns} runs, shrunk ${out.numShrinks} times to:\n  ${ran.join('\n  ')}\n  ${String(out.errorInstance)}`,
  );
  return ran;
}

describe('planted bugs are found and shrunk to short counterexamples', () => {
  it('cancelTree that skips grandchildren: found, shrunk to a small tree and the cascade (a handful of commands)', async () => {
    const ran = await findBug('skipsGrandchildren', skipsGrandchildren, {
      weights: { spawnChild: 6, cancelTree: 4, restart: 0, prune: 0, sendTaskInboxMessage: 0 },
    });
    // Typically 4 (spawn, spawnChild, spawnChild, cancelTree); shrinking can stop in a local minimum.
    expect(ran.length).toBeLessThanOrEqual(8);
    // Spawns making a tree, then the cascade. Two levels can suffice: the planted walk cancels the
    // children with `cancel`, so their `stop_reason` says 'user' where the model says 'parent'.
    expect(ran.filter((c) => c.startsWith('spawn')).length).toBeGreaterThanOrEqual(2);
    // The cascade is among them; it need not be last, since a child's wrong `stop_reason` can
    // first show when that child settles after it.
    expect(ran.some((c) => /^cancel(Tree|DescendantsForRun)\(/.test(c))).toBe(true);
  }, 300_000);

  it('a supervisor that drops the terminal event after a custom event: found, shrunk to at most 4 commands', async () => {
    // Typically `spawn` + `emit` + `settle`, or `spawn` (cooperative, emits final words) + a cancel.
    // Since spawns may carry deadlines, a deadline plus the `tick` that fires it is another way to
    // the cancel, and shrinking can stop in that local minimum of 4.
    const ran = await findBug('dropsTerminalAfterEmit', dropsTerminalAfterEmit, { weights: { restart: 0 } });
    expect(ran.length).toBeLessThanOrEqual(4);
    expect(ran[0]).toMatch(/^spawn/);
  }, 300_000);
});
