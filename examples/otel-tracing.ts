/**
 * OpenTelemetry traces of background tasks with `awaken-tasks/otel`: a tool span starts a research
 * task, which spawns two fetches; one fetch is cancelled. The spans go to the SDK's in-memory
 * exporter here — use your own exporter (OTLP, console, …) in an app.
 *
 * Run it through its test (`npx vitest run examples/otel-tracing.test.ts`), or after `npm run build`
 * with Node ≥ 22.6: `node --experimental-strip-types examples/otel-tracing.ts`.
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createTaskSupervisor, TaskResult } from 'awaken-tasks';
import { traceTasks } from 'awaken-tasks/otel';

/**
 * Runs the traced tasks and returns the finished spans.
 *
 * @example
 * const spans = await main();
 * spans.map((s) => s.name); // ['awaken.background_task', …, 'execute_tool research']
 */
export async function main(log: (line: string) => void = console.log): Promise<ReadableSpan[]> {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('research-agent');

  const supervisor = createTaskSupervisor();
  traceTasks(supervisor, { tracer });

  const rootId = await tracer.startActiveSpan('execute_tool research', async (span) => {
    const id = await supervisor.spawn(
      { threadId: 'chat-1', taskType: 'research', description: 'research otters' },
      async (ctx) => {
        const fast = await supervisor.spawn(
          { threadId: 'chat-1', taskType: 'fetch', description: 'wiki' },
          () => ({
            bytes: 1200,
          }),
        );
        const slow = await supervisor.spawn(
          { threadId: 'chat-1', taskType: 'fetch', description: 'archive' },
          async (c) => {
            await c.cancelled();
            return TaskResult.cancelled();
          },
        );
        ctx.emit('progress', { fetched: 1 });
        await supervisor.wait(fast);
        supervisor.cancel(slow); // too slow: give up on it
        await supervisor.wait(slow);
        return { sources: 1 };
      },
    );
    span.end();
    return id;
  });
  await supervisor.wait(rootId);
  await supervisor.stop();
  const spans = exporter.getFinishedSpans();
  for (const s of spans) {
    log(
      `${s.name} ${s.attributes['awaken.background_task.description'] ?? ''} → ${s.status.code} ${s.status.message ?? ''}`,
    );
  }
  context.disable();
  return spans;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
