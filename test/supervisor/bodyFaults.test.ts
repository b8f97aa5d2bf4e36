import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTaskSupervisor } from '../../src/index.js';
import type { TaskEvent } from '../../src/index.js';
import { errorMessage, outcomeOf } from '../../src/supervisor/lifecycle.js';
import { assertWithSeed, runsFor } from '../property/seed.js';
import { opts } from '../helpers/async.js';

const trap = (): never => {
  throw new Error('trap');
};

/** Values built to break whoever inspects them. */
function hostileValues(): Record<string, () => unknown> {
  return {
    nullProto: () => Object.assign(Object.create(null), { code: 'E_QUOTA', bytes: 10n }),
    proxyAllTraps: () =>
      new Proxy(
        {},
        { getPrototypeOf: trap, get: trap, ownKeys: trap, has: trap, getOwnPropertyDescriptor: trap },
      ),
    proxyOfError: () => new Proxy(new Error('x'), { getPrototypeOf: trap, get: trap }),
    revoked: () => {
      const r = Proxy.revocable({}, {});
      r.revoke();
      return r.proxy;
    },
    revokedFunction: () => {
      const r = Proxy.revocable(() => 1, {});
      r.revoke();
      return r.proxy;
    },
    symbol: () => Symbol('boom'),
    bigint: () => 10n,
    throwingGetters: () => ({
      get message() {
        throw new Error('m');
      },
      toString: trap,
      toJSON: trap,
    }),
    errorWithThrowingMessage: () => {
      const e = new Error('x');
      Object.defineProperty(e, 'message', { get: trap });
      Object.defineProperty(e, 'name', { get: trap });
      return e;
    },
    throwsThrowingValue: () => ({
      toJSON() {
        throw Symbol('inner');
      },
      toString() {
        throw Symbol('inner');
      },
    }),
    undefined: () => undefined,
    null: () => null,
  };
}

/** Returned, these are still JSON (an Error serialises as `{}`), so the task completes. */
const SERIALISABLE = new Set(['undefined', 'null', 'errorWithThrowingMessage']);

// fast-check inspects the values it generates (`in` checks), which a revoked Proxy refuses: it
// generates a recipe, and the property builds the hostile value itself.
type Recipe = { hostile: string } | { plain: unknown };
const arbRecipe: fc.Arbitrary<Recipe> = fc.oneof(
  fc
    .anything({ withBigInt: true, withMap: true, withSet: true, withNullPrototype: true })
    .map((plain) => ({ plain })),
  fc.constantFrom(...Object.keys(hostileValues())).map((hostile) => ({ hostile })),
);
const build = (r: Recipe): unknown => ('plain' in r ? r.plain : hostileValues()[r.hostile]!());

describe('body faults: any thrown value', () => {
  it('errorMessage is total: a non-empty-or-readable string for anything, never a throw', async () => {
    await assertWithSeed(
      'errorMessage total',
      fc.asyncProperty(arbRecipe, async (r) => {
        expect(typeof errorMessage(build(r))).toBe('string');
      }),
      runsFor(300),
    );
    const values = hostileValues();
    expect(errorMessage(values.nullProto!())).toBe('{"code":"E_QUOTA","bytes":"10n"}');
    expect(errorMessage(values.symbol!())).toBe('Symbol(boom)');
    expect(errorMessage(values.bigint!())).toBe('"10n"');
    expect(errorMessage(values.revoked!())).toBe('a thrown object that cannot be described');
    expect(errorMessage(values.proxyAllTraps!())).toBe('a thrown object that cannot be described');
    expect(errorMessage(new Error('plain'))).toBe('plain');
  });

  it('outcomeOf is total on hostile return values: they fail the task, with why', () => {
    for (const [k, make] of Object.entries(hostileValues())) {
      const o = outcomeOf(make());
      expect(o.type, k).toBe('returned');
      if (SERIALISABLE.has(k)) expect(o).toMatchObject({ result: { status: 'completed' } });
      else expect(o, k).toMatchObject({ result: { status: 'failed', error: expect.any(String) } });
    }
  });

  it('each hostile value thrown, rejected or returned ends the task failed exactly once; spawn resolves', async () => {
    const sup = createTaskSupervisor();
    const terminals: TaskEvent[] = [];
    sup.onEvent((e) => {
      if (e.kind !== 'custom') terminals.push(e);
    });
    const ids: string[] = [];
    let returnsError = '';
    for (const [k, make] of Object.entries(hostileValues())) {
      if (k === 'undefined' || k === 'null') continue;
      ids.push(
        await sup.spawn(opts(), () => {
          throw make();
        }),
        await sup.spawn(opts(), () => Promise.reject(make())),
        await sup.spawn(opts(), () => make()),
      );
      if (k === 'errorWithThrowingMessage') returnsError = ids.at(-1)!;
    }
    // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is the point
    ids.push(await sup.spawn(opts(), () => ({ then: trap })));
    ids.push(
      await sup.spawn(opts(), () => ({
        // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is the point
        get then() {
          throw new Error('then getter');
        },
      })),
    );
    for (const id of ids) {
      const s = await sup.wait(id);
      // The one returned value that is still JSON completes (an Error serialises as {}).
      expect(s.status, id).toBe(id === returnsError ? 'completed' : 'failed');
      if (s.status === 'failed') expect(s.error).toMatch(/./);
    }
    expect(sup.get(ids.at(-2)!)?.error).toBe('trap');
    expect(sup.get(ids.at(-1)!)?.error).toBe('then getter');
    await sup.stop();
    expect(terminals.map((e) => e.task_id).sort()).toEqual([...ids].sort());
  });

  it('fuzz: fc.anything() and hostile values, thrown, rejected or returned: one terminal event, failed or completed, host intact', async () => {
    const sup = createTaskSupervisor();
    const terminals = new Map<string, number>();
    sup.onEvent((e) => {
      if (e.kind !== 'custom') terminals.set(e.task_id, (terminals.get(e.task_id) ?? 0) + 1);
    });
    await assertWithSeed(
      'body faults fuzz',
      fc.asyncProperty(arbRecipe, fc.constantFrom('throw', 'reject', 'return', 'resolve'), async (r, how) => {
        const v = build(r);
        const id = await sup.spawn(opts(), () => {
          if (how === 'throw') throw v;
          if (how === 'reject') return Promise.reject(v);
          if (how === 'resolve') return Promise.resolve().then(() => v);
          return v;
        });
        const s = await sup.wait(id);
        expect(['failed', 'completed']).toContain(s.status);
        if (how === 'throw' || how === 'reject') expect(s.status).toBe('failed');
        if (s.status === 'failed') expect(typeof s.error).toBe('string');
        expect(terminals.get(id)).toBe(1);
        expect(sup.hasRunning('t')).toBe(false);
      }),
      runsFor(300),
    );
    await sup.stop();
  });
});
