import fc from 'fast-check';
import { describe, it } from 'vitest';
import { assertWithSeed, runsFor } from './seed.js';
import { flowScenario, runFlowModel } from '../../src/testing/index.js';

const RUNS = runsFor(10_000);

describe('model-based: limits / queue / cancel / cancelTree / input request and answer / usage and budgets / settle / stop', () => {
  it(`${RUNS} command sequences keep every invariant`, async () => {
    await assertWithSeed(
      'flow',
      fc.asyncProperty(flowScenario, ({ limits, cmds }) => runFlowModel(limits, cmds)),
      RUNS,
    );
  }, 600_000);
});
