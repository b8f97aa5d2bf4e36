import { describe, expect, it } from 'vitest';
import { answerInputTool } from '../../src/agent/index.js';
import { createTaskSupervisor, type Json } from '../../src/index.js';
import { until } from '../helpers/async.js';

describe('answer_input: a model answers a waiting sub-agent', () => {
  it('the model sees input_required and answers it; the sub-agent goes on with the answer', async () => {
    const sup = createTaskSupervisor();
    const seen: Json[] = [];
    sup.onEvent((e) => {
      if (e.kind === 'custom' && e.event_type === 'input_required') seen.push(e.payload);
    });
    const agent = await sup.spawnAgent({ threadId: 'chat', description: 'researcher' }, async (ctx) => {
      const answer = await ctx.requestInput({ question: 'Which year?', choices: [2024, 2025] });
      return { researched: answer };
    });
    await until(() => seen.length === 1);
    expect(seen).toEqual([{ request: { question: 'Which year?', choices: [2024, 2025] } }]);
    const tool = answerInputTool(sup);
    expect(tool.name).toBe('answer_input');
    expect(await tool.execute({ task_id: agent, response: 2025 }, { threadId: 'other' })).toEqual({
      ok: true,
      data: { status: 'failed', task_id: agent, error: 'task_not_found' },
    });
    expect(await tool.execute({ task_id: agent, response: 2025 }, { threadId: 'chat' })).toEqual({
      ok: true,
      data: { status: 'accepted', task_id: agent },
    });
    expect(await tool.execute({ task_id: agent, response: 2024 }, { threadId: 'chat' })).toMatchObject({
      data: { status: 'failed', error: 'not_waiting' },
    });
    expect((await sup.wait(agent)).result).toEqual({ researched: 2025 });
    await sup.stop();
  });

  it('a parent task answers its child in another thread; bad arguments and refused answers are receipts', async () => {
    const sup = createTaskSupervisor();
    const child = await sup.spawn(
      { threadId: 'elsewhere', taskType: 'x', description: 'c', parentContext: { task_id: 'bg_parent' } },
      (ctx) => ctx.requestInput('ok?', { validate: (r) => typeof r === 'boolean' }),
    );
    await until(() => sup.get(child)?.phase === 'waiting');
    const tool = answerInputTool(sup);
    expect(await tool.execute({ task_id: child }, { threadId: 't' })).toMatchObject({ ok: false });
    expect(
      await tool.execute({ task_id: child, response: 'yes' }, { threadId: 't', currentTaskId: 'bg_parent' }),
    ).toMatchObject({ data: { status: 'failed', error: 'invalid_response' } });
    expect(
      await tool.execute({ task_id: child, response: true }, { threadId: 't', currentTaskId: 'bg_parent' }),
    ).toMatchObject({ data: { status: 'accepted' } });
    expect((await sup.wait(child)).result).toBe(true);
    await sup.stop();
  });
});
