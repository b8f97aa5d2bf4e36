import { describe, expect, it, vi } from 'vitest';

// The same scenario on AI SDK 7 (installed as the `ai7` alias): every import of `ai` in this
// file's module graph — the adapter's included — is AI SDK 7.
vi.mock('ai', () => import('ai7'));
vi.mock('ai/test', () => import('ai7/test'));

const major = Number(process.versions.node.split('.')[0]);
const SKIP_REASON = `AI SDK 7 needs Node >= 22; this is Node ${process.version}`;
if (major < 22) console.log(`test/adapters/streamUntilIdle.ai7: skipped — ${SKIP_REASON}`);

describe.skipIf(major < 22)('streamUntilIdle on AI SDK 7 (Node >= 22)', () => {
  it('one data-task part per task updated in place, and one continuation turn per task end', async () => {
    const ai = await import('ai');
    const ai7 = await import('ai7');
    expect(ai.createUIMessageStream).toBe(ai7.createUIMessageStream);
    // The adapter loads its peer through its own module: that is AI SDK 7 too.
    const peer = await import('../../src/adapters/ai-sdk/peer.js');
    expect(peer.ai.createUIMessageStream).toBe(ai7.createUIMessageStream);
    const { runTwoTaskScenario, cards } = await import('./streamUntilIdleScenario.js');
    const { expectTwoTaskScenario } = await import('./streamUntilIdleExpect.js');
    const report = await runTwoTaskScenario();
    expectTwoTaskScenario(report);
    expect(cards(report)).toHaveLength(2);
    expectTwoTaskScenario(await runTwoTaskScenario('agent'));
  });
});
