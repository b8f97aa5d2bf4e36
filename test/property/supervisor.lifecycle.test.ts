import fc from 'fast-check';
import { describe, it } from 'vitest';
import { runSupervisorModel, supervisorCommands } from '../../src/testing/index.js';
import { assertWithSeed, runsFor } from './seed.js';

const RUNS = runsFor(2_000);
// findings.test.ts: a child naming an already-pruned parent is not reached by cancelTree (open).
const MODEL = {};

describe('model-based: spawn / emit / settle / cancel / cancelTree / cancelAll interleavings', () => {
  it(`${RUNS} command sequences agree with the reference model at every step`, async () => {
    await assertWithSeed(
      'lifecycle',
      fc.asyncProperty(
        supervisorCommands({
          weights: { spawnAgent: 0, sendTaskInboxMessage: 0, prune: 0, tick: 0, restart: 0 },
        }),
        (cmds) => runSupervisorModel(cmds, MODEL),
      ),
      RUNS,
    );
  }, 600_000);
});
