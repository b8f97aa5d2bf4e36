import { expect, it } from 'vitest';
import { inspectDemo } from '../../examples/inspect.js';

it('examples/inspect.ts: task actors appear and finish in the XState inspection stream', async () => {
  const lines = await inspectDemo(() => {});
  expect(lines).toContain('actor bg_0 started');
  expect(lines).toContain('actor bg_1 started');
  expect(lines).toContain('bg_0 → completed (done)');
  expect(lines).toContain('bg_1 → running.cancelling');
  expect(lines).toContain('bg_1 → cancelled (done)');
  expect(lines.indexOf('actor bg_1 started')).toBeLessThan(lines.indexOf('bg_1 → cancelled (done)'));
});
