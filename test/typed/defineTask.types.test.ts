/**
 * Type tests for typed tasks: checked by `tsc --noEmit -p .` (test/ is in the project) and run by
 * vitest. Each `@ts-expect-error` is a mistake the checker must catch: if it stopped catching it,
 * the directive itself would fail the type check.
 */
import { afterAll, describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  type CancelTaskReceipt,
  cancelTaskTool,
  type SendMessageReceipt,
  sendMessageTool,
  type ToolDefinition,
  type ToolOutcome,
} from '../../src/agent/index.js';
import {
  createTaskSupervisor,
  defineTask,
  type JsonCompatible,
  type TaskEvent,
  type TaskId,
  TaskResult,
  type TypedTaskContext,
  type TypedTaskEvent,
  type TypedTaskSummary,
} from '../../src/index.js';

interface CrawlInput {
  url: string;
  depth?: number;
}
interface PageEvent {
  n: number;
  title: string;
}
interface CrawlResult {
  pages: number;
  urls: string[];
}
type CrawlEvents = { page: PageEvent; log: string };

const crawl = defineTask<CrawlInput, CrawlEvents, CrawlResult>({
  taskType: 'crawl',
  run: async (ctx, input) => {
    expectTypeOf(input).toEqualTypeOf<CrawlInput>();
    expectTypeOf(ctx).toEqualTypeOf<TypedTaskContext<CrawlEvents>>();
    ctx.emit('page', { n: 1, title: 'home' });
    ctx.emit('log', 'fetched');
    // @ts-expect-error an event type the task type does not declare
    ctx.emit('progress', { n: 1 });
    // @ts-expect-error a payload of the wrong shape
    ctx.emit('page', { n: '1', title: 'home' });
    // @ts-expect-error a payload missing a field
    ctx.emit('page', { n: 1 });
    if (ctx.isCancelled()) return TaskResult.cancelled();
    return { pages: 1, urls: [input.url] };
  },
});

const sup = createTaskSupervisor();
const opts = { threadId: 't', description: 'd' };
afterAll(() => sup.stop());

describe('typed tasks: what the type checker allows and refuses', () => {
  it('JSON types accept interfaces whose fields are JSON, and refuse non-JSON members', () => {
    const ok = <T extends JsonCompatible<T>>(v: T): T => v;
    ok<CrawlInput>({ url: 'x' });
    ok<PageEvent[]>([{ n: 1, title: 't' }]);
    ok<{ nested: { deep: CrawlResult | null } }>({ nested: { deep: null } });
    // @ts-expect-error a Date is not JSON
    ok<{ at: Date }>({ at: new Date() });
    // @ts-expect-error a function member is not JSON
    ok<{ f: () => void }>({ f: () => {} });
    // @ts-expect-error a bigint member is not JSON
    ok<{ n: bigint }>({ n: 1n });
    // @ts-expect-error a Map is not JSON
    ok<{ m: Map<string, string> }>({ m: new Map() });
    interface WithMethod {
      name: string;
      greet(): string;
    }
    // @ts-expect-error an interface with a method is not JSON
    ok<WithMethod>({ name: 'x', greet: () => 'hi' });
  });

  it('a task type cannot be declared with non-JSON input, events or result', () => {
    // @ts-expect-error input with a Date
    defineTask<{ at: Date }, Record<never, never>, null>({ taskType: 'x', run: () => null });
    // @ts-expect-error an event payload with a function
    defineTask<undefined, { e: { f: () => void } }, null>({ taskType: 'x', run: () => null });
    // @ts-expect-error a result holding a Map, inferred from the body
    defineTask({ taskType: 'x', run: async () => ({ m: new Map<string, number>() }) });
  });

  it('spawn takes exactly the declared input; opts cannot set taskType', async () => {
    expectTypeOf(crawl.spawn).parameter(2).toEqualTypeOf<CrawlInput>();
    expectTypeOf(crawl.spawn(sup, opts, { url: 'https://example.com' })).resolves.toEqualTypeOf<TaskId>();
    // @ts-expect-error the input is required
    void crawl.spawn(sup, opts).catch(() => {});
    // @ts-expect-error a wrong input field type
    void crawl.spawn(sup, opts, { url: 1 }).catch(() => {});
    // @ts-expect-error an unknown input field
    void crawl.spawn(sup, opts, { url: 'x', extra: true }).catch(() => {});
    // @ts-expect-error the task type fixes taskType
    void crawl.spawn(sup, { ...opts, taskType: 'other' }, { url: 'x' }).catch(() => {});
    const noInput = defineTask({ taskType: 'tick', run: () => 1 });
    expectTypeOf(noInput.spawn).toBeCallableWith(sup, opts);
  });

  it('get and wait have the typed result; match narrows inbox events by event_type', () => {
    expectTypeOf(crawl.wait).returns.resolves.toEqualTypeOf<TypedTaskSummary<CrawlResult>>();
    expectTypeOf(crawl.get).returns.toEqualTypeOf<TypedTaskSummary<CrawlResult> | undefined>();
    expectTypeOf<TypedTaskSummary<CrawlResult>['result']>().toEqualTypeOf<CrawlResult | undefined>();
    const handle = (event: TaskEvent): void => {
      const e = crawl.match(sup, event);
      expectTypeOf(e).toEqualTypeOf<TypedTaskEvent<CrawlEvents, CrawlResult> | undefined>();
      if (e === undefined) return;
      if (e.kind === 'custom' && e.event_type === 'page') expectTypeOf(e.payload).toEqualTypeOf<PageEvent>();
      if (e.kind === 'custom' && e.event_type === 'log') expectTypeOf(e.payload).toEqualTypeOf<string>();
      if (e.kind === 'completed') expectTypeOf(e.result).toEqualTypeOf<CrawlResult>();
      // @ts-expect-error there is no such event type
      if (e.kind === 'custom' && e.event_type === 'progress') return;
    };
    void handle;
  });

  it('latest and events are typed by the task type events', () => {
    expectTypeOf(crawl.latest(sup, 'bg_0', 'page')).toEqualTypeOf<
      { kind: 'custom'; task_id: string; event_type: 'page'; payload: PageEvent } | undefined
    >();
    // @ts-expect-error not an event type of crawl
    crawl.latest(sup, 'bg_0', 'progress');
    expectTypeOf(crawl.events(sup)).toEqualTypeOf<
      AsyncIterableIterator<TypedTaskEvent<CrawlEvents, CrawlResult>>
    >();
  });

  it('inference: types come from Standard Schemas (zod) and the body, no type arguments needed', () => {
    const resize = defineTask({
      taskType: 'resize',
      input: z.object({ src: z.string(), width: z.number() }),
      events: { progress: z.object({ percent: z.number() }) },
      run: async (ctx, input) => {
        expectTypeOf(input).toEqualTypeOf<{ src: string; width: number }>();
        ctx.emit('progress', { percent: 50 });
        // @ts-expect-error the schema says percent is a number
        ctx.emit('progress', { percent: 'half' });
        return { out: `${input.src}@${input.width}` };
      },
    });
    expectTypeOf(resize.spawn).parameter(2).toEqualTypeOf<{ src: string; width: number }>();
    expectTypeOf(resize.wait).returns.resolves.toEqualTypeOf<TypedTaskSummary<{ out: string }>>();
    // A function validator infers too.
    const echo = defineTask({
      taskType: 'echo',
      input: (v: unknown) => String(v),
      run: (_ctx, input) => input.length,
    });
    expectTypeOf(echo.spawn).parameter(2).toEqualTypeOf<string>();
    expectTypeOf(echo.get).returns.toEqualTypeOf<TypedTaskSummary<number> | undefined>();
  });

  it('plain untyped spawn keeps its signature', () => {
    expectTypeOf(sup.spawn).parameter(0).toHaveProperty('taskType').toEqualTypeOf<string>();
    expectTypeOf(sup.spawn).toBeCallableWith({ ...opts, taskType: 'plain' }, () => ({ any: 'json' }));
  });
});

describe('typed tool receipts', () => {
  it('cancel_task and send_message outcomes carry their receipt types, and still fit a ToolDefinition[]', async () => {
    const cancel = cancelTaskTool(sup);
    const send = sendMessageTool(sup);
    expectTypeOf(cancel.execute).returns.resolves.toEqualTypeOf<ToolOutcome<CancelTaskReceipt>>();
    expectTypeOf(send.execute).returns.resolves.toEqualTypeOf<ToolOutcome<SendMessageReceipt>>();
    const out = await cancel.execute({ target: { relation: 'self' } }, { threadId: 't' });
    if (out.ok) {
      expectTypeOf(out.data.cancelled_count).toEqualTypeOf<number>();
      expectTypeOf(out.data.status).toEqualTypeOf<'accepted' | 'failed'>();
      // @ts-expect-error a cancel_task receipt has no message_id
      void out.data.message_id;
    }
    const tools: ToolDefinition[] = [cancel, send];
    expectTypeOf(tools).items.toEqualTypeOf<ToolDefinition>();
  });
});
