import { describe, expect, it } from 'vitest';
import { keepPayloadShape, keptPayloadShapes } from '../../src/supervisor/payloadShapes.js';
import { opts, setup } from '../helpers/async.js';

const newest = (): object | undefined => keptPayloadShapes().at(-1);

describe('payload shapes kept for the emit path', () => {
  it("a task's end keeps its latest event's payload shape with every value blanked", async () => {
    const { sup, events } = setup();
    const payload = {
      secret: 'token-123',
      n: 42.5,
      i: 7,
      ok: true,
      nested: { s: 'x', list: [1, 2] },
      nil: null,
    };
    const id = await sup.spawn(opts(), (ctx) => {
      ctx.emit('progress', payload);
    });
    await sup.wait(id);
    // A number keeps its kind (small integer or not), not its value.
    expect(newest()).toEqual({ secret: '', n: 0.5, i: 0, ok: false, nested: { s: '', list: [] }, nil: null });
    expect(JSON.stringify(keptPayloadShapes())).not.toContain('token-123');
    expect(JSON.stringify(keptPayloadShapes())).not.toContain('42.5');
    // The delivered event is the payload's copy, untouched.
    expect(events()[0]).toMatchObject({ kind: 'custom', payload });
    await sup.stop();
  });

  it("only a task's end keeps a shape, its latest event's; a running task keeps none", async () => {
    const { sup } = setup();
    keepPayloadShape({ marker: 1 });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let emitted: () => void = () => {};
    const emittedAll = new Promise<void>((resolve) => {
      emitted = resolve;
    });
    const id = await sup.spawn(opts(), async (ctx) => {
      ctx.emit('a', { first: 1 });
      ctx.emit('b', { second: 'x' });
      ctx.emit('a', { third: true });
      emitted();
      await gate;
    });
    await emittedAll;
    // While the task runs, its latest event holds the shape: nothing is kept yet.
    expect(newest()).toEqual({ marker: 0 });
    release();
    await sup.wait(id);
    expect(newest()).toEqual({ third: false });
    const other = await sup.spawn(opts(), (ctx) => {
      ctx.emit('c', { other: 'y' });
    });
    await sup.wait(other);
    expect(newest()).toEqual({ other: '' });
    await sup.stop();
  });

  it('an emit that throws or returns false keeps nothing', async () => {
    const { sup } = setup();
    keepPayloadShape({ marker: 1 });
    const id = await sup.spawn(opts(), (ctx) => {
      expect(() => ctx.emit('bad', { n: 1n } as never)).toThrow(TypeError);
    });
    await sup.wait(id);
    let late: ((type: string, payload: object) => boolean) | undefined;
    const done = await sup.spawn(opts(), (ctx) => {
      late = (type, payload) => ctx.emit(type, payload as never);
    });
    await sup.wait(done);
    expect(late?.('late', { after: 'end' })).toBe(false);
    expect(newest()).toEqual({ marker: 0 });
    await sup.stop();
  });

  it('keeps at most 16 shapes, the newest last, and ignores arrays and primitives', () => {
    for (let i = 0; i < 40; i++) keepPayloadShape({ [`k${i}`]: i });
    const kept = keptPayloadShapes();
    expect(kept).toHaveLength(16);
    expect(kept[0]).toEqual({ k24: 0 });
    expect(kept.at(-1)).toEqual({ k39: 0 });
    keepPayloadShape([{ a: 1 }]);
    keepPayloadShape('text');
    keepPayloadShape(null);
    expect(keptPayloadShapes().at(-1)).toEqual({ k39: 0 });
  });

  it('keeps no shape wider than 64 keys in all, nor one with an own __proto__ key', () => {
    keepPayloadShape({ marker: 1 });
    const wide: Record<string, number> = {};
    for (let i = 0; i < 65; i++) wide[`user${i}@example.com`] = i;
    keepPayloadShape(wide);
    const nested: Record<string, unknown> = { a: {} as Record<string, number> };
    for (let i = 0; i < 64; i++) (nested.a as Record<string, number>)[`k${i}`] = i;
    keepPayloadShape(nested as never);
    keepPayloadShape(JSON.parse('{"__proto__": {"x": 1}}'));
    expect(newest()).toEqual({ marker: 0 });
    const exactly: Record<string, number> = {};
    for (let i = 0; i < 64; i++) exactly[`k${i}`] = i;
    keepPayloadShape(exactly);
    expect(Object.keys(newest() as object)).toHaveLength(64);
  });

  it('blanks nested objects to a bounded depth', () => {
    let deep: Record<string, unknown> = { leaf: 'v' };
    for (let i = 0; i < 12; i++) deep = { d: deep };
    keepPayloadShape(deep as never);
    let shape = newest() as Record<string, unknown>;
    let depth = 0;
    while (shape !== null && typeof shape === 'object' && 'd' in shape) {
      shape = shape.d as Record<string, unknown>;
      depth++;
    }
    expect(depth).toBeLessThanOrEqual(9);
    expect(JSON.stringify(newest())).not.toContain('"v"');
  });
});
