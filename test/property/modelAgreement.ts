/**
 * The model-based property test of one command mix, shared by the test/property/supervisor.*
 * files (one mix a file, so the mixes run in parallel workers).
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { runSupervisorModel, supervisorCommands } from '../../src/testing/index.js';
import { assertWithSeed, runsFor } from './seed.js';

// findings.test.ts: a child naming an already-pruned parent is not reached by cancelTree (open).
const MODEL = {};

/**
 * Registers `describe(title)` with one test: `runsFor(2 000)` sequences of
 * `supervisorCommands(commands)` agree with the reference model at every step (the seed is logged
 * under `label`; FC_SEED replays).
 */
export function agreesWithModel(
  title: string,
  label: string,
  commands: Parameters<typeof supervisorCommands>[0],
): void {
  const RUNS = runsFor(2_000);
  describe(title, () => {
    it(`${RUNS} command sequences agree with the reference model at every step`, async () => {
      await assertWithSeed(
        label,
        fc.asyncProperty(supervisorCommands(commands), (cmds) => runSupervisorModel(cmds, MODEL)),
        RUNS,
      );
    }, 600_000);
  });
}
