import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePersistedTaskMeta, parseTaskEvent } from '../../src/wire/parse.js';
import { legacyRecord } from '../helpers/records.js';

const roundTrip = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

const valid = {
  task_id: 'bg_1',
  owner_thread_id: 't',
  task_type: 'http',
  name: 'researcher',
  description: 'fetch data',
  status: 'failed',
  error: 'timeout',
  result: { rows: [1, 2] },
  created_at_ms: 100,
  completed_at_ms: 200,
  parent_context: { task_id: 'bg_0', run_id: 'run-1', call_id: 'c', agent_id: 'a' },
};

describe('parsePersistedTaskMeta', () => {
  it('I4 accepts a legacy record: owner "" and parent_context {}, result omitted', () => {
    const legacy = legacyRecord();
    expect(parsePersistedTaskMeta(legacy)).toEqual({ ...legacy, owner_thread_id: '', parent_context: {} });
  });

  it('I2 keeps every field of a full record, in wire key order', () => {
    const m = parsePersistedTaskMeta(valid);
    expect(m).toEqual(valid);
    expect(Object.keys(m)).toEqual(Object.keys(valid));
  });

  it('drops unknown fields and treats null optional fields as absent', () => {
    const m = parsePersistedTaskMeta({
      ...valid,
      extra: 1,
      owner_thread_id: null,
      name: null,
      error: null,
      result: null,
      completed_at_ms: null,
      parent_context: { run_id: null, agent_id: 'a', other: 2 },
    });
    expect(m).toEqual({
      task_id: 'bg_1',
      owner_thread_id: '',
      task_type: 'http',
      description: 'fetch data',
      status: 'failed',
      created_at_ms: 100,
      parent_context: { agent_id: 'a' },
    });
    expect(Object.values(m)).not.toContain(undefined);
    expect(parsePersistedTaskMeta({ ...valid, parent_context: null }).parent_context).toEqual({});
  });

  it.each([
    ['task_id', 7, 'Expected `task_id` to be a string, got 7'],
    ['task_type', undefined, 'Expected `task_type` to be a string, got undefined'],
    ['description', null, 'Expected `description` to be a string, got null'],
    ['status', 'done', 'Expected `status` to be one of running, completed, failed, cancelled, got "done"'],
    ['status', null, 'Expected `status` to be one of running, completed, failed, cancelled, got null'],
    ['created_at_ms', 1.5, 'Expected `created_at_ms` to be a non-negative integer, got 1.5'],
    ['created_at_ms', '100', 'Expected `created_at_ms` to be a non-negative integer, got "100"'],
    ['created_at_ms', -1, 'Expected `created_at_ms` to be a non-negative integer, got -1'],
    ['completed_at_ms', Number.NaN, 'Expected `completed_at_ms` to be a non-negative integer, got NaN'],
    ['owner_thread_id', 1, 'Expected `owner_thread_id` to be a string, got 1'],
    ['name', {}, 'Expected `name` to be a string, got an object'],
    ['error', [], 'Expected `error` to be a string, got an array'],
    ['parent_context', 'x', 'Expected `parent_context` to be an object, got "x"'],
    ['parent_context', [], 'Expected `parent_context` to be an object, got an array'],
    ['parent_context', { run_id: 5 }, 'Expected `parent_context.run_id` to be a string, got 5'],
    ['parent_context', { call_id: true }, 'Expected `parent_context.call_id` to be a string, got true'],
    ['result', { n: 1n }, 'Expected `result` to be JSON-safe, got result.n is a BigInt'],
    ['result', () => 1, 'Expected `result` to be JSON-safe, got result is a function'],
  ])('names the bad field %s (%s)', (field, value, message) => {
    const bad = { ...valid, [field]: value };
    expect(() => parsePersistedTaskMeta(bad)).toThrow(TypeError);
    expect(() => parsePersistedTaskMeta(bad)).toThrow(message);
  });

  it('rejects non-objects, naming the input', () => {
    for (const v of [null, undefined, 1, 'x', [], true]) {
      expect(() => parsePersistedTaskMeta(v)).toThrow(TypeError);
      expect(() => parsePersistedTaskMeta(v)).toThrow(/^Expected `json` to be an object, got /);
    }
  });

  it('ignores inherited members and copies toJSON results to plain JSON', () => {
    const proto = { task_id: 'inherited' };
    const rec = Object.assign(Object.create(proto) as object, { ...valid, task_id: undefined });
    expect(() => parsePersistedTaskMeta(rec)).toThrow('Expected `task_id` to be a string, got undefined');
    const m = parsePersistedTaskMeta({ ...valid, result: { at: new Date(0) } });
    expect(m.result).toEqual({ at: '1970-01-01T00:00:00.000Z' });
  });

  it('turns a failing toJSON into a TypeError naming the field', () => {
    expect(() => parsePersistedTaskMeta({ ...valid, result: { toJSON: () => undefined } })).toThrow(
      TypeError,
    );
    const throwing = {
      toJSON() {
        throw new RangeError('nope');
      },
    };
    expect(() => parsePersistedTaskMeta({ ...valid, result: throwing })).toThrow(/`result`.*nope/);
  });

  it('normalises -0 times to 0', () => {
    expect(Object.is(parsePersistedTaskMeta({ ...valid, created_at_ms: -0 }).created_at_ms, 0)).toBe(true);
  });
});

describe('parseTaskEvent', () => {
  it('parses events of every kind, dropping unknown fields', () => {
    expect(parseTaskEvent({ kind: 'completed', task_id: 'bg_0', result: { answer: 42 }, x: 1 })).toEqual({
      kind: 'completed',
      task_id: 'bg_0',
      result: { answer: 42 },
    });
    expect(parseTaskEvent({ kind: 'failed', task_id: 'bg_0', error: 'disk full', result: 1 })).toEqual({
      kind: 'failed',
      task_id: 'bg_0',
      error: 'disk full',
    });
    expect(parseTaskEvent({ kind: 'cancelled', task_id: 'bg_0', error: 'x' })).toEqual({
      kind: 'cancelled',
      task_id: 'bg_0',
    });
    const custom = { kind: 'custom', task_id: 'bg_0', event_type: 'progress', payload: { percent: 75 } };
    expect(parseTaskEvent(custom)).toEqual(custom);
    expect(parseTaskEvent({ ...custom, payload: null })).toEqual({ ...custom, payload: null });
  });

  it('a completed event without result (or with null) has result null', () => {
    expect(parseTaskEvent({ kind: 'completed', task_id: 'bg_2' })).toEqual({
      kind: 'completed',
      task_id: 'bg_2',
      result: null,
    });
    expect(parseTaskEvent({ kind: 'completed', task_id: 'bg_2', result: null })).toHaveProperty(
      'result',
      null,
    );
  });

  it.each([
    [
      { kind: 'done', task_id: 'x' },
      'Expected `kind` to be one of completed, failed, cancelled, custom, got "done"',
    ],
    [{ task_id: 'x' }, 'Expected `kind` to be one of completed, failed, cancelled, custom, got undefined'],
    [{ kind: 'cancelled' }, 'Expected `task_id` to be a string, got undefined'],
    [{ kind: 'failed', task_id: 'x' }, 'Expected `error` to be a string, got undefined'],
    [{ kind: 'failed', task_id: 'x', error: null }, 'Expected `error` to be a string, got null'],
    [{ kind: 'custom', task_id: 'x', payload: 1 }, 'Expected `event_type` to be a string, got undefined'],
    [
      { kind: 'custom', task_id: 'x', event_type: 'e' },
      'Expected `payload` to be a JSON value, got undefined',
    ],
    [{ kind: 'custom', task_id: 'x', event_type: 'e', payload: [Number.NaN] }, 'payload[0] is a non-finite'],
    [{ kind: 'completed', task_id: 'x', result: Symbol('s') }, 'Expected `result` to be JSON-safe'],
    [[], 'Expected `json` to be an object, got an array'],
  ])('names the bad field in %j', (input, message) => {
    expect(() => parseTaskEvent(input)).toThrow(TypeError);
    expect(() => parseTaskEvent(input)).toThrow(message);
  });

  it('rejects a cyclic payload', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => parseTaskEvent({ kind: 'custom', task_id: 'x', event_type: 'e', payload: cyclic })).toThrow(
      'Expected `payload` to be JSON-safe, got payload.self is a cycle',
    );
  });
});

/** Runs a property with a logged, replayable seed (`FC_SEED=<n>` replays). */
function check<Ts extends unknown[]>(prop: fc.IProperty<Ts>): void {
  const seed = Number(process.env.FC_SEED ?? Date.now());
  try {
    fc.assert(prop, { numRuns: 1000, seed });
  } catch (e) {
    console.log(`fast-check failed with seed ${seed}; replay with FC_SEED=${seed}`);
    throw new Error(`seed ${seed}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const META_KEYS = Object.keys(valid);
const EVENT_KEYS = ['kind', 'task_id', 'result', 'error', 'event_type', 'payload'];

/** Either a TypeError, or a value with only known, defined members that is a fixed point of JSON + parse. */
function totalAndStable(parse: (v: unknown) => unknown, known: readonly string[], input: unknown): void {
  let out: unknown;
  try {
    out = parse(input);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return;
  }
  const rec = out as Record<string, unknown>;
  for (const [k, v] of Object.entries(rec)) {
    if (!known.includes(k)) throw new Error(`unknown member ${k}`);
    if (v === undefined) throw new Error(`undefined member ${k}`);
  }
  const again = parse(roundTrip(out));
  expect(again).toEqual(roundTrip(out));
  expect(JSON.stringify(again)).toBe(JSON.stringify(out));
}

const validMeta = fc.record(
  {
    task_id: fc.string(),
    owner_thread_id: fc.option(fc.string()),
    task_type: fc.string(),
    name: fc.option(fc.string()),
    description: fc.string(),
    status: fc.constantFrom('running', 'completed', 'failed', 'cancelled'),
    error: fc.option(fc.string()),
    result: fc.option(fc.jsonValue()),
    created_at_ms: fc.nat(),
    completed_at_ms: fc.option(fc.nat()),
    parent_context: fc.option(
      fc.record(
        { task_id: fc.string(), run_id: fc.string(), call_id: fc.option(fc.string()), agent_id: fc.string() },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: ['task_id', 'task_type', 'description', 'status', 'created_at_ms'] },
);

const validEvent = fc.oneof(
  fc.record(
    { kind: fc.constant('completed'), task_id: fc.string(), result: fc.jsonValue() },
    { requiredKeys: ['kind', 'task_id'] },
  ),
  fc.record({ kind: fc.constant('failed'), task_id: fc.string(), error: fc.string() }),
  fc.record({ kind: fc.constant('cancelled'), task_id: fc.string() }),
  fc.record({
    kind: fc.constant('custom'),
    task_id: fc.string(),
    event_type: fc.string(),
    payload: fc.jsonValue(),
  }),
);

/** A record with one member replaced by arbitrary JSON, deleted, or a nested field broken. */
function mutated(
  base: fc.Arbitrary<Record<string, unknown>>,
  keys: readonly string[],
): fc.Arbitrary<unknown> {
  return fc
    .tuple(base, fc.constantFrom(...keys, 'parent_context.run_id', 'extra'), fc.option(fc.jsonValue()))
    .map(([rec, key, value]) => {
      const copy: Record<string, unknown> = { ...rec };
      const [head, tail] = key.split('.') as [string, string | undefined];
      if (tail !== undefined) copy[head] = { ...(copy[head] as object), [tail]: value };
      else if (value === null) delete copy[head];
      else copy[head] = value;
      return copy;
    });
}

describe('fuzz: parsers are total and stable', () => {
  it('parsePersistedTaskMeta on any JSON value', () => {
    check(fc.property(fc.jsonValue(), (v) => totalAndStable(parsePersistedTaskMeta, META_KEYS, v)));
  });

  it('parsePersistedTaskMeta on valid and mutated records', () => {
    const input = fc.oneof(validMeta, mutated(validMeta, META_KEYS));
    check(fc.property(input, (v) => totalAndStable(parsePersistedTaskMeta, META_KEYS, v)));
  });

  it('valid records always parse', () => {
    check(fc.property(validMeta, (v) => void parsePersistedTaskMeta(v)));
  });

  it('parseTaskEvent on any JSON value and on mutated events', () => {
    const input = fc.oneof(fc.jsonValue(), validEvent, mutated(validEvent, EVENT_KEYS));
    check(fc.property(input, (v) => totalAndStable(parseTaskEvent, EVENT_KEYS, v)));
  });

  it('valid events always parse', () => {
    check(fc.property(validEvent, (v) => void parseTaskEvent(v)));
  });
});
