import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createInbox, DEFAULT_INBOX_CAPACITY } from '../../src/inbox/inbox.js';
import type { Json } from '../../src/wire/types.js';
import { assertWithSeed, runsFor } from '../property/seed.js';

const custom = (task: string, n: number): Json => ({
  kind: 'custom',
  task_id: task,
  event_type: 'progress',
  payload: n,
});
const done = (task: string): Json => ({ kind: 'completed', task_id: task, result: null });

describe('bounded inbox (issue 11: an undrained inbox stays within its capacity)', () => {
  it('keeps the newest custom events once full, counting the oldest it drops', () => {
    const { sender, receiver } = createInbox({ capacity: 3 });
    for (let i = 0; i < 10; i++) expect(sender.send(custom('bg_0', i))).toBe(true);
    expect(receiver.size).toBe(3);
    expect(receiver.dropped).toBe(7);
    expect(sender.dropped).toBe(7);
    expect(receiver.drain()).toEqual([custom('bg_0', 7), custom('bg_0', 8), custom('bg_0', 9)]);
  });

  it('never drops terminal events, agent messages or other messages; drops the oldest custom event around them', () => {
    const { sender, receiver } = createInbox({ capacity: 4 });
    const agentMsg: Json = { kind: 'custom', task_id: 'bg_1', event_type: 'agent_message', payload: 'hi' };
    sender.send(done('bg_9'));
    sender.send(custom('bg_0', 1));
    sender.send(agentMsg);
    sender.send('raw');
    sender.send(done('bg_0')); // full: drops custom 1, which sits between undroppable messages
    expect(receiver.dropped).toBe(1);
    expect(receiver.drain()).toEqual([done('bg_9'), agentMsg, 'raw', done('bg_0')]);
  });

  it('with only undroppable messages queued, drops an arriving custom event and lets terminal events exceed the bound', () => {
    const { sender, receiver } = createInbox({ capacity: 2 });
    sender.send(done('a'));
    sender.send(done('b'));
    expect(sender.send(custom('c', 0))).toBe(true);
    sender.send(done('c'));
    expect(receiver.dropped).toBe(1);
    expect(receiver.size).toBe(3);
    expect(receiver.drain()).toEqual([done('a'), done('b'), done('c')]);
  });

  it('defaults to a bound of 10 000; Infinity keeps every message', () => {
    const bounded = createInbox();
    expect(bounded.receiver.capacity).toBe(DEFAULT_INBOX_CAPACITY);
    expect(DEFAULT_INBOX_CAPACITY).toBe(10_000);
    const unbounded = createInbox({ capacity: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 12_000; i++) {
      bounded.sender.send(custom('t', i));
      unbounded.sender.send(custom('t', i));
    }
    expect(bounded.receiver.size).toBe(10_000);
    expect(bounded.receiver.dropped).toBe(2_000);
    expect(bounded.receiver.tryRecv()).toEqual(custom('t', 2_000));
    expect(unbounded.receiver.size).toBe(12_000);
    expect(unbounded.receiver.dropped).toBe(0);
  });

  it('rejects a capacity that is not a positive integer or Infinity with a TypeError', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '10', null]) {
      expect(() => createInbox({ capacity: bad as never })).toThrow(TypeError);
    }
    expect(() => createInbox({ capacity: 0 })).toThrow(
      'Expected `opts.capacity` to be a positive integer or Infinity, got 0',
    );
  });

  it('a pending recv still gets a message handed over directly (no drop on an empty queue)', async () => {
    const { sender, receiver } = createInbox({ capacity: 1 });
    const p = receiver.recv();
    sender.send(custom('a', 1));
    expect(await p).toEqual(custom('a', 1));
    expect(receiver.dropped).toBe(0);
  });

  it('matches a reference model under any mix of sends and receives (property)', async () => {
    type Op = { op: 'custom' | 'terminal' | 'other'; task: number } | { op: 'shift' } | { op: 'drain' };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ op: fc.constant('custom' as const), task: fc.nat(3) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('terminal' as const), task: fc.nat(3) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('other' as const), task: fc.nat(3) }) },
      { weight: 2, arbitrary: fc.constant({ op: 'shift' as const }) },
      { weight: 1, arbitrary: fc.constant({ op: 'drain' as const }) },
    );
    await assertWithSeed(
      'bounded inbox model',
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.array(opArb, { maxLength: 400 }),
        async (cap, ops) => {
          const { sender, receiver } = createInbox({ capacity: cap });
          const model: Json[] = [];
          let dropped = 0;
          let seq = 0;
          const droppable = (m: Json) =>
            typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === 'custom';
          for (const o of ops) {
            if (o.op === 'shift') {
              expect(receiver.tryRecv()).toEqual(model.shift());
            } else if (o.op === 'drain') {
              expect(receiver.drain()).toEqual(model.splice(0));
            } else {
              const msg: Json =
                o.op === 'custom'
                  ? custom(`t${o.task}`, seq++)
                  : o.op === 'terminal'
                    ? done(`t${o.task}`)
                    : seq++;
              if (model.length >= cap) {
                const i = model.findIndex(droppable);
                if (i >= 0) {
                  model.splice(i, 1);
                  dropped++;
                  model.push(msg);
                } else if (droppable(msg)) dropped++;
                else model.push(msg);
              } else model.push(msg);
              expect(sender.send(msg)).toBe(true);
            }
            expect(receiver.size).toBe(model.length);
            expect(receiver.dropped).toBe(dropped);
            // The bound holds whenever a droppable event could have made room.
            if (model.some(droppable)) expect(receiver.size).toBeLessThanOrEqual(cap);
          }
          expect(receiver.drain()).toEqual(model);
        },
      ),
      runsFor(200),
    );
  });
});
