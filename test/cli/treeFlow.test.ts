import { describe, expect, it } from 'vitest';
import { renderTextTree } from '../../src/cli/textTree.js';
import type { TaskSummary } from '../../src/index.js';

const base = { task_type: 'work', description: 'd', created_at_ms: 1_000 };

describe('tree view: queued and waiting tasks, usage, stop reasons', () => {
  it('a queued task, a waiting task with usage, and a task stopped over budget each say so', () => {
    const tasks: TaskSummary[] = [
      { ...base, task_id: 'bg_0', status: 'running', phase: 'queued' },
      { ...base, task_id: 'bg_1', status: 'running', phase: 'waiting', usage: { tokens: 40 } },
      {
        ...base,
        task_id: 'bg_2',
        status: 'cancelled',
        completed_at_ms: 1_500,
        stop_reason: 'budget',
        usage: { tokens: 120, cost_usd: 0.01, tool_calls: 2 },
      },
    ];
    expect(renderTextTree(tasks)).toEqual([
      '◌ bg_0 work d queued',
      '? bg_1 work d waiting [40 tokens]',
      '⊘ bg_2 work d [120 tokens, $0.0100, 2 tool calls] cancelled 500ms (budget)',
    ]);
  });
});
