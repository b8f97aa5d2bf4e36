import { describe, expect, it } from 'vitest';
import { cards, runTwoTaskScenario } from './streamUntilIdleScenario.js';
import { expectTwoTaskScenario } from './streamUntilIdleExpect.js';

describe('streamUntilIdle on AI SDK 6', () => {
  it('one data-task part per task updated in place, and one continuation turn per task end', async () => {
    const report = await runTwoTaskScenario();
    expectTwoTaskScenario(report);
    expect(cards(report)).toHaveLength(2);
  });

  it('the same with a ToolLoopAgent: each turn is agent.stream({ messages, abortSignal })', async () => {
    const report = await runTwoTaskScenario('agent');
    expectTwoTaskScenario(report);
  });
});
