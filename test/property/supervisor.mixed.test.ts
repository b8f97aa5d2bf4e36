import fc from 'fast-check';
import { describe, it } from 'vitest';
import { runSupervisorModel, supervisorCommands } from '../../src/testing/index.js';
import { assertWithSeed, runsFor } from './seed.js';

const RUNS = runsFor(2_000);

describe('model-based: every operation mixed', () => {
  it(`${RUNS} command sequences agree with the reference model at every step`, async () => {
    await assertWithSeed(
      'mixed',
      fc.asyncProperty(supervisorCommands({}), (cmds) =>
        runSupervisorModel(cmds, { model: { pruneForgetsLinks: true } }),
      ),
      RUNS,
    );
  }, 600_000);
});
