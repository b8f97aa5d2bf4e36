import type { Json } from '../wire/types.js';

/** How many payload shapes are kept (a ring: the oldest goes first). */
const KEPT = 16;
/**
 * The most keys a kept shape may have in all: a payload wider than that (a map keyed by data, a
 * table) is not kept. Its keys would stay in memory, and so wide an object's hidden class is
 * rarely shared by the next payload anyway.
 */
const MAX_KEYS = 64;
const shapes: (object | undefined)[] = new Array(KEPT);
let next = 0;

/**
 * Keeps the hidden class of a payload copy (and of its nested objects) alive after every event of
 * that shape is gone, by holding an object of the same shape whose values are blanked: `''` for a
 * string, `0` for a small integer and `0.5` for any other number, `false` for a boolean, `[]` for
 * an array. V8 holds an object's hidden class only while an object has it, and code optimised for
 * it (the emit path's copy, a consumer reading `event.payload`) is thrown away when it dies. The
 * supervisor calls this once per task,
 * when the task ends, with its latest event's payload (while the task lives, that event keeps the
 * class alive); the last {@link KEPT} shapes are kept, and no payload value is. The keys are
 * kept: a shape with more than {@link MAX_KEYS} keys in all, or an own `__proto__` key, is not
 * (see docs/design.md, fourth and fifth passes on the emit path).
 *
 * @example
 * keepPayloadShape({ percent: 40, stage: 'build' }); // keeps { percent: 0, stage: '' }
 */
export function keepPayloadShape(copy: Json): void {
  if (typeof copy !== 'object' || copy === null || Array.isArray(copy)) return;
  const shape = blank(copy, 0, { keys: 0 });
  if (shape === undefined) return;
  shapes[next] = shape;
  next = (next + 1) % KEPT;
}

/**
 * The shapes kept, oldest first (for tests).
 *
 * @example
 * keptPayloadShapes().length; // at most 16
 */
export function keptPayloadShapes(): object[] {
  const out: object[] = [];
  for (let i = 0; i < KEPT; i++) {
    const shape = shapes[(next + i) % KEPT];
    if (shape !== undefined) out.push(shape);
  }
  return out;
}

/**
 * The same keys, added in the same order as the copy's (so the same hidden classes), with blank
 * values of the same kind (so the same field representations).
 */
function blank(copy: { [key: string]: Json }, depth: number, count: { keys: number }): object | undefined {
  const out: { [key: string]: unknown } = {};
  for (const key in copy) {
    // Too wide to keep; and an assignment to `__proto__` would set the prototype, not a key.
    if (++count.keys > MAX_KEYS || key === '__proto__') return undefined;
    const value = blankValue(copy[key]!, depth, count);
    if (value === undefined) return undefined;
    out[key] = value;
  }
  return out;
}

function blankValue(v: Json, depth: number, count: { keys: number }): unknown {
  if (typeof v === 'string') return '';
  // A small integer and any other number are stored differently (a field's representation):
  // the blank is of the same kind, so code optimised for the payload's fields stays valid.
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) <= 0x3fffffff ? 0 : 0.5;
  if (typeof v === 'boolean') return false;
  if (v === null) return null;
  if (Array.isArray(v)) return [];
  return depth < 8 ? blank(v, depth + 1, count) : null;
}
