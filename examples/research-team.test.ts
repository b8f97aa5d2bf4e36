import { describe, expect, it } from 'vitest';
import { main } from './research-team.js';

const bodyOf = (content: string) => JSON.parse(content.split('\n')[1] ?? 'null') as Record<string, unknown>;

describe('examples/research-team (end to end)', () => {
  it('E2E spawn three researchers, message one, one self-cancels its subtree, wait, resume, done', async () => {
    const lines: string[] = [];
    const report = await main((line) => lines.push(line));

    // Run 1: three spawns and a live message, then waiting on the researchers.
    expect(report.run1).toMatchObject({
      termination: 'natural_end',
      status: 'waiting',
      status_reason: 'awaiting_tasks',
    });
    const toolResults = report.run1.messages
      .filter((m) => m.role === 'tool')
      .map((m) => JSON.parse(m.content));
    expect(toolResults.slice(0, 3).map((r) => r.name)).toEqual(['alpha', 'beta', 'gamma']);
    expect(toolResults[3]).toMatchObject({ status: 'queued' });

    // alpha took another turn for the lead's message and reported.
    expect(report.researchers.alpha).toMatchObject({
      status: 'completed',
      result: { report: 'alpha report: sodium-ion cells are 30% cheaper.' },
    });
    expect(report.researchers.alpha?.parent_context).toMatchObject({
      run_id: 'run-team-1',
      call_id: 'c1',
      agent_id: 'lead',
    });
    const alphaMessages = report.researcherRuns.alpha?.messages ?? [];
    const note = alphaMessages.find((m) => m.content.includes('agent_message'));
    expect(bodyOf(note?.content ?? '')).toMatchObject({
      kind: 'custom',
      event_type: 'agent_message',
      payload: { from: 'lead', content: 'Focus on sodium-ion.' },
    });

    // beta cancelled itself and both crawls (Task scope: 3 tasks).
    expect(report.researchers.beta?.status).toBe('cancelled');
    expect(report.researcherRuns.beta).toMatchObject({ termination: 'cancelled', status: 'done' });
    const betaCancel = report.researcherRuns.beta?.messages.filter((m) => m.role === 'tool').at(-1);
    expect(JSON.parse(betaCancel?.content ?? '')).toEqual({
      status: 'accepted',
      root_task_id: report.researchers.beta?.task_id,
      cancelled_count: 3,
    });
    const crawls = report.tasks.slice(3); // the team thread's three researchers come first
    expect(crawls).toEqual([
      [expect.any(String), 'cancelled'],
      [expect.any(String), 'cancelled'],
    ]);

    expect(report.researchers.gamma?.status).toBe('completed');

    // Run 2 on the same thread saw the three terminal events and ended done.
    const events = report.run2.messages
      .filter((m) => m.visibility === 'internal')
      .map((m) => bodyOf(m.content))
      .map((e) => [e.task_id, e.kind]);
    expect(events).toEqual(
      expect.arrayContaining([
        [report.researchers.alpha?.task_id, 'completed'],
        [report.researchers.beta?.task_id, 'cancelled'],
        [report.researchers.gamma?.task_id, 'completed'],
      ]),
    );
    expect(events).toHaveLength(3);
    expect(report.run2).toMatchObject({
      termination: 'natural_end',
      status: 'done',
      status_reason: 'natural',
      steps: 1,
    });
    expect(report.run2.response).toContain('Final report');
    expect(lines.at(-1)).toContain('run 2 ended done/natural');
  });
});
