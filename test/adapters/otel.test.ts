import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { beforeEach, describe, expect, it } from 'vitest';
import { TASK_ATTRIBUTES, TASK_SPAN_NAME, traceTasks } from '../../src/adapters/otel/index.js';
import { createTaskSupervisor, defineTask, TaskResult, withToolLineage } from '../../src/index.js';
import { gate, until } from '../helpers/async.js';
import { inMemoryTracing } from './otelTracing.js';

const { exporter, tracer } = inMemoryTracing();
beforeEach(() => exporter.reset());

const taskSpans = () => exporter.getFinishedSpans().filter((s) => s.name === TASK_SPAN_NAME);
const byTask = (id: string): ReadableSpan => {
  const span = taskSpans().find((s) => s.attributes[TASK_ATTRIBUTES.id] === id);
  if (span === undefined) throw new Error(`no span for ${id}`);
  return span;
};
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('awaken-tasks/otel traceTasks (R4, R5, gaps 15/16)', () => {
  it('R4/R6: a 3-level tree gives 3 levels of spans under the span active at spawn, with attributes and OK status', async () => {
    const supervisor = createTaskSupervisor({ now: () => 5_000 });
    const tracing = traceTasks(supervisor, { tracer });
    const ids: Record<string, string> = {};
    const root = await tracer.startActiveSpan('execute_tool start_research', async (toolSpan) => {
      const id = await withToolLineage({ run_id: 'run-1', call_id: 'call-bg', agent_id: 'assistant' }, () =>
        supervisor.spawn({ threadId: 't1', taskType: 'research', description: 'root' }, async (ctx) => {
          const child = await supervisor.spawn(
            { threadId: 't1', taskType: 'fetch', description: 'child' },
            async () => {
              const leaf = await supervisor.spawn(
                { threadId: 't1', taskType: 'parse', description: 'leaf' },
                () => ({
                  parsed: true,
                }),
              );
              ids.leaf = leaf;
              await supervisor.wait(leaf);
              return 'child done';
            },
          );
          ids.child = child;
          ctx.emit('progress', { pct: 50 });
          await supervisor.wait(child);
          return { ok: true };
        }),
      );
      toolSpan.end();
      return { id, toolSpan };
    });
    await supervisor.wait(root.id);
    await until(() => taskSpans().length === 3);
    const [childId, leafId] = [ids.child!, ids.leaf!];
    const rootSpan = byTask(root.id);
    const childSpan = byTask(childId);
    const leafSpan = byTask(leafId);
    // Structure: tool span → root → child → leaf, all in one trace.
    expect(parentOf(rootSpan)).toBe(root.toolSpan.spanContext().spanId);
    expect(parentOf(childSpan)).toBe(rootSpan.spanContext().spanId);
    expect(parentOf(leafSpan)).toBe(childSpan.spanContext().spanId);
    const traceIds = new Set([rootSpan, childSpan, leafSpan].map((s) => s.spanContext().traceId));
    expect(traceIds).toEqual(new Set([root.toolSpan.spanContext().traceId]));
    expect(rootSpan.kind).toBe(0); // SpanKind.INTERNAL
    expect(rootSpan.attributes).toMatchObject({
      'awaken.operation.name': 'background_task',
      'awaken.background_task.id': root.id,
      'awaken.background_task.type': 'research',
      'awaken.background_task.status': 'completed',
      'awaken.background_task.description': 'root',
      'awaken.thread.id': 't1',
      'awaken.run.id': 'run-1',
      'awaken.agent.id': 'assistant',
      'awaken.background_task.parent_run_id': 'run-1',
      'awaken.background_task.parent_tool_call_id': 'call-bg',
    });
    expect(childSpan.attributes['awaken.parent_task.id']).toBe(root.id);
    expect(leafSpan.attributes['awaken.parent_task.id']).toBe(childId);
    for (const s of [rootSpan, childSpan, leafSpan]) expect(s.status.code).toBe(SpanStatusCode.OK);
    // Times are the task's own clock.
    expect(rootSpan.startTime).toEqual([5, 0]);
    // The custom event became a span event with its payload.
    expect(rootSpan.events.map((e) => [e.name, e.attributes])).toEqual([
      ['progress', { 'awaken.background_task.event.payload': '{"pct":50}' }],
    ]);
    expect(tracing.openSpans).toBe(0);
    await supervisor.stop();
  });

  it('a cancelled subtree shows why: error status, cancelled_by names the task whose cancellation cascaded', async () => {
    const supervisor = createTaskSupervisor();
    traceTasks(supervisor, { tracer });
    const started = gate<string>();
    const root = await supervisor.spawn(
      { threadId: 't1', taskType: 'a', description: 'root' },
      async (ctx) => {
        const child = await supervisor.spawn(
          { threadId: 't1', taskType: 'b', description: 'child' },
          async (c) => {
            await c.cancelled();
            return TaskResult.cancelled();
          },
        );
        started.open(child);
        await ctx.cancelled();
        return TaskResult.cancelled();
      },
    );
    const sibling = await supervisor.spawn({ threadId: 't1', taskType: 'c', description: 'other' }, () => 1);
    const child = await started.promise;
    expect(supervisor.cancelTree(root)).toBe(2);
    await supervisor.wait(root);
    await supervisor.wait(child);
    await until(() => taskSpans().length === 3);
    for (const id of [root, child]) {
      const s = byTask(id);
      expect(s.attributes['awaken.background_task.status']).toBe('cancelled');
      expect(s.attributes[TASK_ATTRIBUTES.cancelledBy]).toBe(root);
      expect(s.status.code).toBe(SpanStatusCode.ERROR);
    }
    expect(byTask(child).status.message).toBe(`cancelled with task ${root}`);
    expect(byTask(root).status.message).toBe('cancelled');
    expect(byTask(sibling).status.code).toBe(SpanStatusCode.OK);
    await supervisor.stop();
  });

  it('R5: a failed task records error.type, error.message and an error status', async () => {
    const supervisor = createTaskSupervisor();
    traceTasks(supervisor, { tracer });
    const id = await supervisor.spawn({ threadId: 't1', taskType: 'x', description: 'd' }, () => {
      throw new Error('boom');
    });
    await supervisor.wait(id);
    await until(() => taskSpans().length === 1);
    const s = byTask(id);
    expect(s.attributes).toMatchObject({
      'awaken.background_task.status': 'failed',
      'error.type': 'background_task_error',
      'error.message': 'boom',
    });
    expect(s.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    await supervisor.stop();
  });

  it('span events are bounded: later custom events are counted, not recorded', async () => {
    const supervisor = createTaskSupervisor();
    traceTasks(supervisor, { tracer, maxEventsPerSpan: 2, maxPayloadChars: 6 });
    const id = await supervisor.spawn({ threadId: 't1', taskType: 'x', description: 'd' }, (ctx) => {
      for (let i = 0; i < 5; i++) ctx.emit('step', { i, pad: 'xxxxxxxx' });
      return null;
    });
    await supervisor.wait(id);
    await until(() => taskSpans().length === 1);
    const s = byTask(id);
    expect(s.events.map((e) => e.attributes?.['awaken.background_task.event.payload'])).toEqual([
      '{"i":0…',
      '{"i":1…',
    ]);
    expect(s.attributes[TASK_ATTRIBUTES.eventsDropped]).toBe(3);
    await supervisor.stop();
  });

  it('gap 15/16: stop() gives tasks it cancels close_reason shutdown; close() ends open spans with an error status', async () => {
    const supervisor = createTaskSupervisor();
    traceTasks(supervisor, { tracer });
    const id = await supervisor.spawn({ threadId: 't1', taskType: 'x', description: 'd' }, async (ctx) => {
      await ctx.cancelled();
      return TaskResult.cancelled();
    });
    await supervisor.stop();
    await until(() => taskSpans().length === 1);
    expect(byTask(id).attributes[TASK_ATTRIBUTES.closeReason]).toBe('shutdown');
    expect(byTask(id).status.code).toBe(SpanStatusCode.ERROR);

    exporter.reset();
    const other = createTaskSupervisor();
    const tracing = traceTasks(other, { tracer });
    const parked = await other.spawn({ threadId: 't1', taskType: 'x', description: 'd' }, async (ctx) => {
      await ctx.cancelled();
      return TaskResult.cancelled();
    });
    expect(tracing.openSpans).toBe(1);
    tracing.close();
    expect(tracing.openSpans).toBe(0);
    const s = byTask(parked);
    expect(s.attributes[TASK_ATTRIBUTES.closeReason]).toBe('shutdown');
    expect(s.attributes[TASK_ATTRIBUTES.status]).toBe('running');
    expect(s.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'background task closed before terminal status: shutdown',
    });
    // Detached: later tasks are not traced.
    const late = await other.spawn({ threadId: 't1', taskType: 'x', description: 'd' }, () => 1);
    await other.wait(late);
    expect(taskSpans().some((x) => x.attributes[TASK_ATTRIBUTES.id] === late)).toBe(false);
    await other.stop();
  });

  it('without an SDK the no-op tracer records nothing and tracing still works', async () => {
    const supervisor = createTaskSupervisor();
    const tracing = traceTasks(supervisor, { tracer: trace.getTracer('noop') });
    const id = await supervisor.spawn({ threadId: 't1', taskType: 'x', description: 'd' }, () => 1);
    expect((await supervisor.wait(id)).status).toBe('completed');
    expect(tracing.openSpans).toBe(0);
    expect(exporter.getFinishedSpans()).toEqual([]);
    await supervisor.stop();
  });

  it('the no-op tracer keeps no span for a task with no trace to continue, and keeps those that continue a trace', async () => {
    const supervisor = createTaskSupervisor();
    const tracing = traceTasks(supervisor, { tracer: trace.getTracer('noop') });
    const release = gate();
    const park = async () => {
      await release.promise;
      return 1;
    };
    const opts = { threadId: 't1', taskType: 'x', description: 'd' };
    const inert = await supervisor.spawn(opts, park);
    expect(tracing.openSpans).toBe(0);
    // Spawned where a trace is active (an incoming request's): the no-op span carries it on, and a
    // child task's span continues it from its parent's.
    const remote = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
    });
    const parent = await context.with(remote, () => supervisor.spawn(opts, park));
    await supervisor.spawn({ ...opts, parentContext: { task_id: parent } }, park);
    expect(tracing.openSpans).toBe(2);
    release.open();
    for (const t of supervisor.list('t1')) await supervisor.wait(t.task_id);
    expect(supervisor.get(inert)?.status).toBe('completed');
    expect(tracing.openSpans).toBe(0);
    await supervisor.stop();
  });

  it('bad arguments are TypeErrors', () => {
    expect(() => traceTasks(null as never)).toThrow(TypeError);
    const supervisor = createTaskSupervisor();
    expect(() => traceTasks(supervisor, { maxEventsPerSpan: -1 })).toThrow(
      'Expected `options.maxEventsPerSpan` to be a non-negative integer, got -1',
    );
  });
});

describe('awaken-tasks/otel: durable tasks (issue 21)', () => {
  it('one attempt span per attempt under the task span; failed attempts carry their error', async () => {
    const supervisor = createTaskSupervisor();
    traceTasks(supervisor, { tracer });
    const flaky = defineTask({
      taskType: 'flaky',
      durable: { retry: { initialIntervalMs: 1, jitter: 0, maximumAttempts: 3 } },
      run: async (ctx) => {
        if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
        return 'ok';
      },
    });
    const id = await flaky.spawn(supervisor, { threadId: 't', description: 'f' });
    await supervisor.wait(id);
    const task = byTask(id);
    const attempts = exporter
      .getFinishedSpans()
      .filter((s) => s.name === 'awaken.background_task.attempt')
      .sort(
        (a, b) =>
          Number(a.attributes['awaken.background_task.attempt']) -
          Number(b.attributes['awaken.background_task.attempt']),
      );
    expect(attempts.map((a) => a.attributes['awaken.background_task.attempt'])).toEqual([1, 2, 3]);
    for (const a of attempts) expect(parentOf(a)).toBe(task.spanContext().spanId);
    expect(attempts.map((a) => a.status.code)).toEqual([
      SpanStatusCode.ERROR,
      SpanStatusCode.ERROR,
      SpanStatusCode.OK,
    ]);
    expect(attempts.map((a) => a.status.message)).toEqual(['boom 1', 'boom 2', undefined]);
    expect(task.status.code).toBe(SpanStatusCode.OK);
    await supervisor.stop();
  });
});
