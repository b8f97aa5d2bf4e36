import fc from 'fast-check';
import { describe, it } from 'vitest';
import { runSupervisorModel, supervisorCommands } from '../../src/testing/index.js';
import { assertWithSeed, runsFor } from './seed.js';

const RUNS = runsFor(2_000);
// findings.test.ts: a child naming an already-pruned parent is not reached by cancelTree (open).
const MODEL = {};

describe('model-based: sub-agents: sendTaskInboxMessage, children reporting to the inbox of a sub-agent', () => {
  it(`${RUNS} command sequences agree with the reference model at every step`, async () => {
    await assertWithSeed(
      'agents',
      fc.asyncProperty(
        supervisorCommands({
          weights: { spawnAgent: 5, sendTaskInboxMessage: 5, spawnChild: 5, prune: 0, tick: 0, restart: 0 },
        }),
        (cmds) => runSupervisorModel(cmds, MODEL),
      ),
      RUNS,
    );
  }, 600_000);
});
