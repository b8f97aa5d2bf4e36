import fc from 'fast-check';
import { describe, it } from 'vitest';
import { runSupervisorModel, supervisorCommands } from '../../src/testing/index.js';
import { assertWithSeed, runsFor } from './seed.js';

const RUNS = runsFor(2_000);
// findings.test.ts: a child naming an already-pruned parent is not reached by cancelTree (open).
const MODEL = {};

describe('model-based: simulated restarts (loadThread, orphans), prune and the clock', () => {
  it(`${RUNS} command sequences agree with the reference model at every step`, async () => {
    await assertWithSeed(
      'restart',
      fc.asyncProperty(supervisorCommands({ weights: { restart: 4, prune: 3, tick: 3 } }), (cmds) =>
        runSupervisorModel(cmds, MODEL),
      ),
      RUNS,
    );
  }, 600_000);
});
