import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TaskEvent } from '../../src/index.js';
import { checkEventLog } from '../../src/testing/index.js';
import { assertWithSeed } from '../property/seed.js';

const custom = (id: string, n = 0): TaskEvent => ({
  kind: 'custom',
  task_id: id,
  event_type: 'tick',
  payload: { n },
});
const done = (id: string): TaskEvent => ({ kind: 'completed', task_id: id, result: null });

describe('checkEventLog', () => {
  it('accepts a valid interleaving, tasks with no terminal event yet, and the empty log', () => {
    expect(checkEventLog([])).toEqual({ ok: true });
    expect(
      checkEventLog([
        custom('a'),
        custom('b'),
        done('a'),
        custom('b', 1),
        { kind: 'failed', task_id: 'c', error: 'x' },
      ]),
    ).toEqual({ ok: true });
  });

  it('names a second terminal event and where it is', () => {
    const r = checkEventLog([custom('a'), done('a'), { kind: 'cancelled', task_id: 'a' }]);
    expect(r).toMatchObject({ ok: false, index: 2 });
    expect(!r.ok && r.violation).toMatch(
      /^exactly one terminal event per task: task 'a' has a second terminal event \('cancelled'\) after its 'completed' event at 1/,
    );
  });

  it('names a custom event after the terminal one', () => {
    const r = checkEventLog([done('a'), custom('b'), custom('a')]);
    expect(r).toMatchObject({ ok: false, index: 2 });
    expect(!r.ok && r.violation).toMatch(/^no custom event after the terminal one: task 'a' emitted 'tick'/);
  });

  it.each([
    ['null', null, /not an object/],
    ['an unknown kind', { kind: 'done', task_id: 'a' }, /kind "done"/],
    ['an empty task_id', { kind: 'cancelled', task_id: '' }, /task_id/],
    ['completed without result', { kind: 'completed', task_id: 'a' }, /always has 'result'/],
    ['failed with a number', { kind: 'failed', task_id: 'a', error: 3 }, /error is not a string/],
    ['custom without payload', { kind: 'custom', task_id: 'a', event_type: 'x' }, /always has 'payload'/],
    [
      'a BigInt payload',
      { kind: 'custom', task_id: 'a', event_type: 'x', payload: 1n },
      /payload is not JSON/,
    ],
    ['an extra field', { kind: 'cancelled', task_id: 'a', error: 'x' }, /has no 'error' field/],
  ])('rejects a malformed event: %s', (_label, bad, why) => {
    const r = checkEventLog([custom('z'), bad]);
    expect(r).toMatchObject({ ok: false, index: 1 });
    expect(!r.ok && r.violation).toMatch(/^every event is a well-formed TaskEvent: event 1 is not, /);
    expect(!r.ok && r.violation).toMatch(why);
  });

  it('expectTerminal: a listed task without a terminal event is a violation at the end', () => {
    expect(checkEventLog([custom('a')], { expectTerminal: ['a'] })).toMatchObject({ ok: false, index: 1 });
    expect(checkEventLog([custom('a'), done('a')], { expectTerminal: ['a'] })).toEqual({ ok: true });
  });

  it('property: valid logs pass; one injected violation is found exactly where it was injected', async () => {
    const log = fc
      .array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.nat(3)), { maxLength: 20 })
      .map((steps) => {
        const ended = new Set<string>();
        const out: TaskEvent[] = [];
        for (const [id, n] of steps) {
          if (ended.has(id)) continue;
          if (n === 0) {
            ended.add(id);
            out.push(done(id));
          } else out.push(custom(id, n));
        }
        return out;
      });
    await assertWithSeed(
      'checkEventLog',
      fc.asyncProperty(log, fc.nat(), fc.boolean(), async (events, at, asCustom) => {
        expect(checkEventLog(events)).toEqual({ ok: true });
        const terminals = events.map((e, i) => [e, i] as const).filter(([e]) => e.kind !== 'custom');
        if (terminals.length === 0) return;
        const [t, i] = terminals[at % terminals.length]!;
        const extra = asCustom ? custom(t.task_id, 9) : t;
        const bad = [...events, extra];
        const r = checkEventLog(bad);
        expect(r).toMatchObject({ ok: false, index: bad.length - 1 });
        expect(!r.ok && r.violation).toContain(`event at ${i}`);
      }),
      1_000,
    );
  });
});
