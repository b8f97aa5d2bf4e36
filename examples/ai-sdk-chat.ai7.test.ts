import { describe, expect, it, vi } from 'vitest';

// The same chat, with the adapter and the example running on AI SDK 7 (installed as the `ai7`
// alias): every import of `ai` in this file's module graph — the adapter's included — is AI SDK 7.
vi.mock('ai', () => import('ai7'));
vi.mock('ai/test', () => import('ai7/test'));

const major = Number(process.versions.node.split('.')[0]);
const SKIP_REASON = `AI SDK 7 needs Node >= 22; this is Node ${process.version}`;
if (major < 22) console.log(`examples/ai-sdk-chat.ai7: skipped — ${SKIP_REASON}`);

describe.skipIf(major < 22)('examples/ai-sdk-chat on AI SDK 7 (Node >= 22)', () => {
  it('the adapter works with AI SDK 7: start, merged progress, cancel', async () => {
    const ai = await import('ai');
    expect(ai.tool).toBe((await import('ai7')).tool);
    const { main } = await import('./ai-sdk-chat.js');
    const report = await main(() => {});
    const id = report.crawl.task_id;
    expect(report.replies).toEqual([
      `Started ${id}; I'll report back.`,
      'Crawled 3 pages so far.',
      'Stopped the crawl.',
    ]);
    expect(report.crawl.status).toBe('cancelled');
    expect(report.injected[0]).toHaveLength(1);
    expect(report.injected[0]![0]!.content).toContain(
      `<background-task-progress task_id="${id}" events="3">`,
    );
  });
});
