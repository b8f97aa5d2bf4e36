import { expect, it, vi } from 'vitest';
import { startInspectorExample } from '../../examples/inspector.js';
import type { InspectorSnapshot } from '../../src/graph/inspector/model.js';
import { http, listenerCount } from './inspectorHelpers.js';

it('examples/inspector.ts serves a research tree whose readers report page_read events', async () => {
  const { supervisor, inspector, stop } = await startInspectorExample();
  try {
    const before = listenerCount(supervisor);
    await vi.waitFor(
      async () => {
        const snap = JSON.parse((await http(`${inspector.url}api/threads`)).body) as InspectorSnapshot;
        const nodes = snap.threads[0]?.nodes ?? [];
        expect(nodes).toHaveLength(4);
        expect(nodes.filter((n) => n.latest?.event.kind === 'custom')).toHaveLength(3);
      },
      // The example's readers emit after a real 1 s sleep; a loaded CI machine fires it late.
      { timeout: 15_000, interval: 100 },
    );
    expect(listenerCount(supervisor)).toBe(before);
  } finally {
    await stop();
  }
  expect(supervisor.list('chat-1').every((s) => s.status === 'cancelled')).toBe(true);
});
