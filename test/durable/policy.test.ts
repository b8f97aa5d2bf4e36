import { describe, expect, it } from 'vitest';
import { defineTask } from '../../src/index.js';

const withAttempts = (maximumAttempts: number) => () =>
  defineTask({ taskType: 'job', durable: { retry: { maximumAttempts } }, run: async () => 'ok' });

describe('durable.retry.maximumAttempts is finite (durable-tasks.md, choices and limits)', () => {
  it('Infinity, 0, 1.5 and NaN are TypeErrors naming the field; a positive integer is accepted', () => {
    // Infinity would be sent as JSON null in the summary and refused by PostgreSQL's integer column.
    for (const bad of [Number.POSITIVE_INFINITY, 0, 1.5, Number.NaN]) {
      expect(withAttempts(bad)).toThrow(
        new TypeError(
          `Expected \`durable.retry.maximumAttempts\` to be a positive integer, got ${String(bad)}`,
        ),
      );
    }
    expect(withAttempts(1)).not.toThrow();
    expect(withAttempts(1_000)).not.toThrow();
  });
});
