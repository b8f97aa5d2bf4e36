import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createTaskSupervisor, defineTask, SpawnError, type TaskContext } from '../../src/index.js';
import { type Gate, gate, until } from '../helpers/async.js';

const MINUTE = 60_000;

describe('maxQueued and a durable retry that waits for a slot (flow.md, backpressure)', () => {
  it('the due retry counts among the queued but is never refused; a spawn past the bound is; every task completes', async () => {
    const clock = new SimulatedClock();
    const sup = createTaskSupervisor({
      clock,
      now: () => clock.now(),
      concurrency: { global: 1, maxQueued: 1 },
    });
    const started: string[] = [];
    const gates = new Map<string, Gate>();
    const gateOf = (key: string): Gate => {
      let g = gates.get(key);
      if (g === undefined) gates.set(key, (g = gate()));
      return g;
    };
    const job = defineTask<Record<string, never>, Record<never, never>, string>({
      taskType: 'job',
      durable: { retry: { maximumAttempts: 2, initialIntervalMs: MINUTE, jitter: 0 } },
      run: async (ctx) => {
        const key = `d#${ctx.attempt}`;
        started.push(key);
        await gateOf(key).promise;
        if (ctx.attempt === 1) throw new Error('d failed once');
        return key;
      },
    });
    const plain = (name: string) => async (_ctx: TaskContext) => {
      started.push(name);
      await gateOf(name).promise;
      return name;
    };

    const d = await job.spawn(sup, { threadId: 't', description: 'd' }, {});
    await until(() => started.includes('d#1'), 2_000, 'attempt 1 of d');
    gateOf('d#1').open();
    await until(() => sup.get(d)?.phase === 'retrying', 2_000, 'd backing off');
    // d holds no slot while it backs off: p1 runs, p2 fills the queue (maxQueued 1).
    const p1 = await sup.spawn({ threadId: 't', taskType: 'plain', description: 'p1' }, plain('p1'));
    await until(() => started.includes('p1'), 2_000, 'p1 running');
    const p2 = await sup.spawn({ threadId: 't', taskType: 'plain', description: 'p2' }, plain('p2'));
    expect(sup.get(p2)?.phase).toBe('queued');

    // d's retry comes due with the queue full: it queues anyway (it was accepted at its spawn).
    clock.increment(MINUTE);
    await until(() => sup.get(d)?.phase === 'queued', 2_000, 'd queued for a slot');
    expect(sup.get(d)?.status).toBe('running');
    // It counts among the queued: a new spawn is refused, consuming no id.
    const refused = await sup
      .spawn({ threadId: 't', taskType: 'plain', description: 'p3' }, plain('p3'))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(refused).toBeInstanceOf(SpawnError);
    expect((refused as SpawnError).code).toBe('queue_full');

    // The slot frees: d (spawned before p2) goes first, then p2.
    gateOf('p1').open();
    await until(() => started.includes('d#2'), 2_000, 'attempt 2 of d');
    gateOf('d#2').open();
    const end = await sup.wait(d);
    expect(end).toMatchObject({ status: 'completed', result: 'd#2', attempt_errors: ['d failed once'] });
    await until(() => started.includes('p2'), 2_000, 'p2 running');
    gateOf('p2').open();
    expect((await sup.wait(p1)).status).toBe('completed');
    expect((await sup.wait(p2)).status).toBe('completed');
    expect(started).toEqual(['d#1', 'p1', 'd#2', 'p2']);
    // The refused spawn consumed no id: the next spawn gets the one after p2.
    const next = await sup.spawn({ threadId: 't', taskType: 'plain', description: 'p4' }, async () => 'p4');
    expect(Number(next.slice(3))).toBe(Number(p2.slice(3)) + 1);
    await sup.stop();
  });
});
