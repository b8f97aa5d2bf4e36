import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/supervisor/concurrency.js';
import { flowScenario, type FlowPlant, runFlowModel } from '../../src/testing/index.js';
import { SEED } from './seed.js';

const proto = ConcurrencyGate.prototype;
const realRelease = proto.release;
const realResume = proto.resume;

afterEach(() => {
  proto.release = realRelease;
  proto.resume = realResume;
});

/** Runs the flow suite against a broken supervisor; returns the failure's message. */
async function findBug(name: string, plant: FlowPlant = {}): Promise<string> {
  console.log(`[planted ${name}] fast-check seed ${SEED} (replay: FC_SEED=${SEED})`);
  const out = await fc.check(
    fc.asyncProperty(flowScenario, ({ limits, cmds }) => runFlowModel(limits, cmds, plant)),
    { numRuns: 5_000, seed: SEED },
  );
  expect(out.failed, `the flow suite did not notice planted bug '${name}'`).toBe(true);
  const message = String(out.errorInstance);
  console.log(
    `[planted ${name}] found after ${out.numRuns} runs, shrunk ${out.numShrinks} times: ${message}`,
  );
  return message;
}

describe('planted bugs in queues and waiting are caught by the flow suite', () => {
  it('an off-by-one slot (the gate allows one more than the limit)', async () => {
    const message = await findBug('offByOne', {
      configure: (o) => ({
        ...o,
        concurrency: { ...o.concurrency, global: (o.concurrency?.global ?? 1) + 1 },
      }),
    });
    expect(message).toMatch(/running, global limit/);
  }, 120_000);

  it('a lost wake-up (a freed slot is not handed to the queue)', async () => {
    proto.release = function (this: ConcurrencyGate, entry) {
      const pump = this.pump;
      this.pump = () => {};
      try {
        realRelease.call(this, entry);
      } finally {
        this.pump = pump;
      }
    };
    expect(await findBug('lostWakeUp')).toMatch(/lost wake-up/);
  }, 120_000);

  it('a double resume (an answered task is handed a slot twice)', async () => {
    proto.resume = function (this: ConcurrencyGate, entry) {
      realResume.call(this, entry);
      realResume.call(this, entry);
    };
    expect(await findBug('doubleResume')).toMatch(/lost wake-up|running|resumed/);
  }, 120_000);
});
