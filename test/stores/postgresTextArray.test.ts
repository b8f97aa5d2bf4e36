import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { textArray } from '../../src/stores/postgres/arrays.js';

const pgUtils = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue(v: unknown): unknown };

describe('textArray (the fenced put’s array parameters)', () => {
  it('builds exactly the literal node-postgres builds for the same strings', () => {
    const values = [
      'bg_1',
      '',
      'NULL',
      'a "q" b',
      'back\\slash',
      '\\"',
      '{x,y}',
      'é 😀 \u2028',
      ' lead',
      null,
      undefined,
    ];
    const expected = pgUtils.prepareValue(values);
    expect(textArray(values)).toBe(expected);
    expect(textArray([])).toBe('{}');
  });
});
