import { describe, expect, it } from 'vitest';
import { CANCEL_TASK_PARAMETERS, SEND_MESSAGE_PARAMETERS } from '../src/agent/index.js';
import { main } from './vercel-ai.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('examples/vercel-ai (Vercel AI SDK v6 with MockLanguageModelV3)', () => {
  it('the SDK calls both tools, which really act on the supervisor', async () => {
    const lines: string[] = [];
    const report = await main((l) => lines.push(l));
    expect(report.modelCalls).toBe(2);
    // The provider received our JSON Schemas unchanged.
    expect(report.offeredTools).toEqual({
      send_message: SEND_MESSAGE_PARAMETERS,
      cancel_task: CANCEL_TASK_PARAMETERS,
    });
    expect(report.text).toBe('Briefed the researcher and stopped the crawl.');
    expect(report.toolResults).toEqual([
      {
        toolName: 'send_message',
        output: { message_id: expect.stringMatching(UUID_V7), status: 'queued' },
      },
      {
        toolName: 'cancel_task',
        output: { status: 'accepted', root_task_id: report.crawler.task_id, cancelled_count: 1 },
      },
    ]);
    // The message reached the sub-agent's own inbox; the crawl was cancelled.
    expect(report.researcher.status).toBe('completed');
    expect(report.researcher.result).toEqual({
      instructions: {
        kind: 'custom',
        task_id: report.researcher.task_id,
        event_type: 'agent_message',
        payload: { from: 'assistant', content: 'Focus on 2024 papers.' },
      },
    });
    expect(report.crawler.status).toBe('cancelled');
    expect(lines).toContain('researcher completed, crawler cancelled');
  });
});
