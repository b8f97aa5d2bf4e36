import { describe, expect, it } from 'vitest';
import { jsonSafetyProblem, toJson } from '../../src/wire/jsonSafe.js';

describe('jsonSafetyProblem (section 6 item 29)', () => {
  it('accepts plain JSON', () => {
    expect(jsonSafetyProblem({ a: [1, 'x', true, null, { b: -2.5 }] })).toBeUndefined();
    expect(jsonSafetyProblem('s')).toBeUndefined();
    expect(jsonSafetyProblem(null)).toBeUndefined();
  });

  it.each([
    [{ n: 1n }, '$.n is a BigInt'],
    [[() => 1], '$[0] is a function'],
    [{ s: Symbol('x') }, '$.s is a symbol'],
    [{ n: Number.NaN }, '$.n is a non-finite number (NaN)'],
    [[Number.POSITIVE_INFINITY], '$[0] is a non-finite number (Infinity)'],
    [[undefined], '$[0] is undefined'],
    [undefined, '$ is undefined'],
  ])('names the problem in %s', (value, problem) => {
    expect(jsonSafetyProblem(value)).toBe(problem);
  });

  it('detects cycles but allows shared, non-cyclic references', () => {
    const cyclic: Record<string, unknown> = { a: {} };
    (cyclic.a as Record<string, unknown>).back = cyclic;
    expect(jsonSafetyProblem(cyclic)).toBe('$.a.back is a cycle');
    const shared = { x: 1 };
    expect(jsonSafetyProblem({ a: shared, b: [shared, shared] })).toBeUndefined();
  });

  it('allows undefined object members and toJSON', () => {
    expect(jsonSafetyProblem({ a: undefined, b: { c: undefined } })).toBeUndefined();
    expect(jsonSafetyProblem({ at: new Date(0) })).toBeUndefined();
  });

  it('uses the given path', () => {
    expect(jsonSafetyProblem({ n: 1n }, 'payload')).toBe('payload.n is a BigInt');
  });
});

describe('toJson (section 6 item 29)', () => {
  it('top-level undefined becomes null', () => {
    expect(toJson(undefined, 'result')).toBeNull();
  });

  it('drops nested undefined members, as JSON does', () => {
    const out = toJson({ a: 1, b: undefined, c: { d: undefined, e: [1] } }, 'payload');
    expect(out).toEqual({ a: 1, c: { e: [1] } });
    expect(Object.keys(out as object)).toEqual(['a', 'c']);
    expect(Object.keys((out as { c: object }).c)).toEqual(['e']);
  });

  it('honours toJSON', () => {
    expect(toJson({ at: new Date(0) }, 'payload')).toEqual({ at: '1970-01-01T00:00:00.000Z' });
    expect(toJson({ toJSON: () => ({ x: 1 }) }, 'payload')).toEqual({ x: 1 });
  });

  it('returns a copy of plain JSON, so later changes to the original cannot reach it', () => {
    const v = { a: [1, { b: 'c' }] };
    const out = toJson(v, 'payload');
    expect(out).toEqual(v);
    expect(out).not.toBe(v);
    v.a.push(2);
    expect(out).toEqual({ a: [1, { b: 'c' }] });
    expect(toJson(3, 'payload')).toBe(3);
  });

  it('allows shared, non-cyclic references', () => {
    const shared = { x: 1 };
    expect(toJson({ a: shared, b: shared }, 'payload')).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  it.each([
    [{ n: 1n }, 'Expected `payload` to be JSON-safe, got payload.n is a BigInt'],
    [{ f: () => 1 }, 'Expected `payload` to be JSON-safe, got payload.f is a function'],
    [{ s: Symbol('x') }, 'Expected `payload` to be JSON-safe, got payload.s is a symbol'],
    [Number.NaN, 'Expected `payload` to be JSON-safe, got payload is a non-finite number (NaN)'],
    [[undefined], 'Expected `payload` to be JSON-safe, got payload[0] is undefined'],
  ])('throws TypeError for %s', (value, message) => {
    expect(() => toJson(value, 'payload')).toThrow(TypeError);
    expect(() => toJson(value, 'payload')).toThrow(message);
  });

  it('copies plain objects member for member: keys in JSON order, null prototypes, own keys only', () => {
    const v = { b: 1, a: 'x', 2: true, 1: null, n: { m: [0.5, -0] } };
    const out = toJson(v, 'payload');
    expect(JSON.stringify(out)).toBe(JSON.stringify(v));
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    const bare = Object.assign(Object.create(null) as object, { k: 1 });
    expect(toJson(bare, 'payload')).toEqual({ k: 1 });
    // Inherited enumerable members are not the object's: JSON.stringify skips them, so does the copy.
    const child = Object.assign(Object.create({ inherited: 1 }) as object, { own: 2 });
    expect(toJson(child, 'payload')).toEqual(JSON.parse(JSON.stringify(child)));
    // Symbol-keyed and non-enumerable members are not JSON.
    const hidden = { shown: 1, [Symbol('s')]: 2 };
    Object.defineProperty(hidden, 'secret', { value: 3, enumerable: false });
    expect(Reflect.ownKeys(toJson(hidden, 'payload') as object)).toEqual(['shown']);
  });

  it('keeps an own `__proto__` key as a key, and a `toJSON` member that is not a function as data', () => {
    const v = JSON.parse('{"__proto__":{"x":1},"y":2}') as object;
    const out = toJson(v, 'payload') as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"x":1},"y":2}');
    expect(toJson({ toJSON: 5, a: 1 }, 'payload')).toEqual({ toJSON: 5, a: 1 });
  });

  it('rejects a non-finite number wherever it is, and copies -0, huge and tiny finite numbers', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => toJson({ a: { b: [1, bad] } }, 'payload')).toThrow(
        `Expected \`payload\` to be JSON-safe, got payload.a.b[1] is a non-finite number (${bad})`,
      );
    }
    expect(toJson([Number.MAX_VALUE, Number.MIN_VALUE, -0], 'payload')).toEqual([
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      -0,
    ]);
  });

  it('throws TypeError for a cycle', () => {
    const a: unknown[] = [];
    a.push(a);
    expect(() => toJson(a, 'payload')).toThrow(
      'Expected `payload` to be JSON-safe, got payload[0] is a cycle',
    );
  });
});
