import fc from 'fast-check';
import { describe, it } from 'vitest';
import { runSupervisorModel, supervisorCommands } from '../../src/testing/index.js';
import { assertWithSeed, runsFor } from './seed.js';

const RUNS = runsFor(2_000);
// findings.test.ts: a child naming an already-pruned parent is not reached by cancelTree (open).
const MODEL = {};

describe('model-based: every operation mixed', () => {
  it(`${RUNS} command sequences agree with the reference model at every step`, async () => {
    await assertWithSeed(
      'mixed',
      fc.asyncProperty(supervisorCommands({}), (cmds) => runSupervisorModel(cmds, MODEL)),
      RUNS,
    );
  }, 600_000);
});
