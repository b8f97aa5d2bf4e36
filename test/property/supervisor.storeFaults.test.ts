import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PersistedTaskMeta } from '../../src/index.js';
import { runSupervisorModel, type SupervisorWrapper, supervisorCommands } from '../../src/testing/index.js';
import { assertWithSeed, runsFor, SEED } from './seed.js';
import { withMethod } from '../helpers/withMethod.js';

const RUNS = runsFor(1_000);

/**
 * Records this store rejects on every attempt, as a per-record limit would: a completed task whose
 * result is a multiple of 7, a failed one whose error is 'bad input'. Spawns' `running` records
 * always pass, so the model expects every spawn the supervisor's rules allow to succeed.
 */
const poisoned = (r: PersistedTaskMeta): string | undefined =>
  (r.status === 'completed' && typeof r.result === 'number' && r.result % 7 === 0) ||
  (r.status === 'failed' && r.error === 'bad input')
    ? 'record over the per-record limit'
    : undefined;

const commands = () => supervisorCommands({ weights: { restart: 0, storeFault: 4, settle: 6 } });

describe('model-based over a faulty store: transient failures and records rejected forever', () => {
  it(`${RUNS} command sequences: memory truthful at every step, healthy spawns go through, store = memory after stop()`, async () => {
    const seen = { failures: 0, backlogged: 0 };
    const count: SupervisorWrapper = (real) =>
      withMethod(real, 'storeBacklog', () => {
        const b = real.storeBacklog();
        seen.backlogged += b.length;
        seen.failures = Math.max(seen.failures, real.stats().storeFailures);
        return b;
      });
    await assertWithSeed(
      'store faults',
      fc.asyncProperty(commands(), (cmds) =>
        runSupervisorModel(cmds, { storeFaults: { rejects: poisoned }, wrap: count }),
      ),
      RUNS,
    );
    // The faults did happen: records sat in the backlog at some checked steps.
    expect(seen.backlogged).toBeGreaterThan(0);
    expect(seen.failures).toBeGreaterThan(0);
  }, 120_000);

  it('the suite notices a supervisor that hides its backlog, and a stop() that does not wait for writes', async () => {
    const hidesBacklog: SupervisorWrapper = (real) => withMethod(real, 'storeBacklog', () => []);
    const stopsEarly: SupervisorWrapper = (real) =>
      withMethod(real, 'stop', () => {
        real.stop().catch(() => {});
        return Promise.resolve();
      });
    for (const [name, wrap] of [
      ['hides backlog', hidesBacklog],
      ['stops early', stopsEarly],
    ] as const) {
      console.log(`[planted ${name}] fast-check seed ${SEED} (replay: FC_SEED=${SEED})`);
      const out = await fc.check(
        fc.asyncProperty(commands(), (cmds) =>
          runSupervisorModel(cmds, { storeFaults: { rejects: poisoned }, wrap }),
        ),
        // Only whether it is noticed matters here: no shrinking (some shrink paths replay runs that
        // wait out the store's retry bound, one after another).
        { numRuns: 1_000, seed: SEED, endOnFailure: true },
      );
      expect(out.failed, `the suite did not notice planted bug '${name}'`).toBe(true);
    }
  }, 120_000);
});
