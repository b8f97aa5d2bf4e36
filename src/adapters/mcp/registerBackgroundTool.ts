import type {
  CreateTaskRequestHandlerExtra,
  ToolTaskHandler,
} from '@modelcontextprotocol/sdk/experimental/tasks';
import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import type {
  AnySchema,
  ShapeOutput,
  ZodRawShapeCompat,
} from '@modelcontextprotocol/sdk/server/zod-compat.js';
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { TaskContext } from '../../supervisor/types.js';
import type { CustomTaskEvent, Json } from '../../wire/types.js';
import type { SupervisedTaskStore } from './taskStore.js';

/** What `registerBackgroundTool` takes to describe the tool. */
export interface BackgroundToolConfig<Args extends ZodRawShapeCompat> {
  /** The store the server was created with (`new McpServer(info, { taskStore })`). */
  taskStore: SupervisedTaskStore;
  title?: string;
  description?: string;
  /** A zod shape, as `registerTool` takes it. */
  inputSchema?: Args;
  annotations?: ToolAnnotations;
  /**
   * `optional` (default): clients without tasks support get the result as a plain call (the SDK
   * polls for them); `required`: only task-augmented calls are accepted.
   */
  taskSupport?: 'optional' | 'required';
}

/** What a background tool's body gets: the task's context, plus the request's extra. */
export type BackgroundToolContext = TaskContext & {
  /** The `tools/call` request's extra (session, auth info, …). */
  readonly extra: CreateTaskRequestHandlerExtra;
  /**
   * Reports the task `input_required` while `waiting` is pending — a sub-agent waiting for a
   * message, an elicitation the client must answer — then `working` again.
   */
  waitingForInput<T>(waiting: PromiseLike<T>): Promise<T>;
};

/**
 * Registers an MCP tool whose every call is a supervised background task. A task-augmented
 * `tools/call` returns the task at once (`working`); `tasks/get` reports its status, `tasks/result`
 * its result (what `run` returns: a `CallToolResult` as is, other JSON as text and structured
 * content; a throw as `isError`), `tasks/cancel` cancels the task's tree and aborts `ctx.signal`.
 * Each `ctx.emit(type, payload)` becomes a `notifications/progress` for the call's progress token,
 * in order (`progress` counts the events; `payload.message`, else the event, is the message;
 * `payload.total` is passed on when a number), and the task's latest `statusMessage`; the final
 * status is sent as `notifications/tasks/status` after the last progress notification.
 *
 * @example
 * registerBackgroundTool(server, 'crawl', { taskStore, inputSchema: { url: z.string() } }, async ({ url }, ctx) => {
 *   for (let page = 1; page <= 3; page++) ctx.emit('progress', { message: `page ${page}`, total: 3 });
 *   return { pages: 3 };
 * });
 */
export function registerBackgroundTool<Args extends ZodRawShapeCompat>(
  server: McpServer,
  name: string,
  config: BackgroundToolConfig<Args>,
  run: (args: ShapeOutput<Args>, ctx: BackgroundToolContext) => unknown,
): RegisteredTool {
  if (server === null || typeof server !== 'object' || typeof server.experimental !== 'object') {
    throw new TypeError(
      `Expected \`server\` to be an McpServer, got ${server === null ? 'null' : typeof server}`,
    );
  }
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(`Expected \`name\` to be a non-empty string, got ${JSON.stringify(name)}`);
  }
  const taskStore = config?.taskStore;
  if (taskStore === undefined || typeof taskStore.startTask !== 'function') {
    throw new TypeError(`Expected \`config.taskStore\` to be a SupervisedTaskStore, got ${typeof taskStore}`);
  }
  if (typeof run !== 'function') throw new TypeError(`Expected \`run\` to be a function, got ${typeof run}`);

  const start = async (args: unknown, extra: CreateTaskRequestHandlerExtra) => {
    const token = extra._meta?.progressToken;
    let progress = 0;
    // Notifications go out one after another, so the client sees them in the order emitted.
    let chain: Promise<unknown> = Promise.resolve();
    const onEvent =
      token === undefined
        ? undefined
        : (event: CustomTaskEvent) => {
            const p = (event.payload ?? {}) as { message?: Json; total?: Json };
            const params: {
              progressToken: string | number;
              progress: number;
              message: string;
              total?: number;
            } = {
              progressToken: token,
              progress: ++progress,
              message:
                typeof p.message === 'string'
                  ? p.message
                  : `${event.event_type} ${JSON.stringify(event.payload)}`,
            };
            if (typeof p.total === 'number') params.total = p.total;
            chain = chain
              .then(() => extra.sendNotification({ method: 'notifications/progress', params }))
              .catch(() => undefined);
          };
    // The final status as a `notifications/tasks/status`, after every progress notification.
    const onEnd = (taskId: string) => {
      chain = chain
        .then(async () => {
          const task = await taskStore.getTask(taskId, extra.sessionId);
          if (task !== null)
            await extra.sendNotification({ method: 'notifications/tasks/status', params: task });
        })
        .catch(() => undefined);
    };
    const task = await taskStore.startTask(
      {
        description: name,
        ttl: extra.taskRequestedTtl,
        sessionId: extra.sessionId,
        onEnd,
        ...(onEvent ? { onEvent } : {}),
      },
      (ctx) => run(args as ShapeOutput<Args>, withExtra(ctx, extra, taskStore)),
    );
    return { task };
  };

  const handler = {
    createTask:
      config.inputSchema === undefined ? (extra: CreateTaskRequestHandlerExtra) => start({}, extra) : start,
    getTask: async (...a: unknown[]) => {
      const extra = a.at(-1) as { taskId: string; sessionId?: string };
      const task = await taskStore.getTask(extra.taskId, extra.sessionId);
      if (task === null) throw new Error(`Task ${extra.taskId} not found`);
      return task;
    },
    getTaskResult: async (...a: unknown[]) => {
      const extra = a.at(-1) as { taskId: string; sessionId?: string };
      return (await taskStore.getTaskResult(extra.taskId, extra.sessionId)) as never;
    },
  } as unknown as ToolTaskHandler<Args>;

  const base = {
    ...(config.title === undefined ? {} : { title: config.title }),
    ...(config.description === undefined ? {} : { description: config.description }),
    ...(config.annotations === undefined ? {} : { annotations: config.annotations }),
    execution: { taskSupport: config.taskSupport ?? 'optional' },
  };
  return config.inputSchema === undefined
    ? server.experimental.tasks.registerToolTask(name, base, handler as unknown as ToolTaskHandler<undefined>)
    : server.experimental.tasks.registerToolTask(
        name,
        { ...base, inputSchema: config.inputSchema as Args & AnySchema },
        handler,
      );
}

/** The task's context plus the request's extra (a wrapper: the context's methods use private state). */
function withExtra(
  ctx: TaskContext,
  extra: CreateTaskRequestHandlerExtra,
  taskStore: SupervisedTaskStore,
): BackgroundToolContext {
  return {
    waitingForInput: (waiting) => taskStore.waitingForInput(ctx.taskId, waiting),
    taskId: ctx.taskId,
    signal: ctx.signal,
    inbox: ctx.inbox,
    extra,
    emit: (eventType, payload) => ctx.emit(eventType, payload),
    cancelled: () => ctx.cancelled(),
    isCancelled: () => ctx.isCancelled(),
    // A task waiting in `requestInput` is `running.waiting`: `tasks/get` reports it `input_required`.
    requestInput: (request, options) => ctx.requestInput(request, options),
    reportUsage: (usage) => ctx.reportUsage(usage),
  };
}
