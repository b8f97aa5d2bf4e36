import { describe, expect, it } from 'vitest';
import { TASK_ATTRIBUTES, TASK_SPAN_NAME, traceTasks } from '../../src/adapters/otel/index.js';
import { createTaskSupervisor, TaskResult } from '../../src/index.js';
import { inMemoryTracing } from './otelTracing.js';

const { exporter, tracer } = inMemoryTracing();

describe('awaken-tasks/otel: usage and stop reasons on task spans', () => {
  it('a task span carries its summed usage and, when it was stopped, why', async () => {
    const supervisor = createTaskSupervisor();
    const tracing = traceTasks(supervisor, { tracer });
    const id = await supervisor.spawn(
      { threadId: 't', taskType: 'llm', description: 'd', budget: { tokens: 10 } },
      async (ctx) => {
        ctx.reportUsage({ tokens: 6, costUsd: 0.25, toolCalls: 1 });
        ctx.reportUsage({ tokens: 6 });
        await ctx.cancelled();
        return TaskResult.cancelled();
      },
    );
    await supervisor.wait(id);
    const span = exporter.getFinishedSpans().find((s) => s.name === TASK_SPAN_NAME)!;
    expect(span.attributes[TASK_ATTRIBUTES.stopReason]).toBe('budget');
    expect(span.attributes[TASK_ATTRIBUTES.usageTokens]).toBe(12);
    expect(span.attributes[TASK_ATTRIBUTES.usageCostUsd]).toBe(0.25);
    expect(span.attributes[TASK_ATTRIBUTES.usageToolCalls]).toBe(1);
    tracing.close();
    await supervisor.stop();
  });
});
