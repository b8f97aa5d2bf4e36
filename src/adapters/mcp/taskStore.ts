import type {
  CreateTaskOptions,
  TaskStore as McpTaskStore,
} from '@modelcontextprotocol/sdk/experimental/tasks';
import type { Request, RequestId, Result, Task } from '@modelcontextprotocol/sdk/types.js';
import type { TaskContext, TaskSupervisor } from '../../supervisor/types.js';
import type { TaskStore } from '../../stores/types.js';
import { TaskResult } from '../../wire/taskResult.js';
import type { TaskId, TaskSummary } from '../../wire/types.js';
import { mcpStatus, textOf, toolResultOf } from './mapping.js';
import type { StartTaskOptions, SupervisedTaskStoreOptions } from './options.js';
import { grantTtl, type Meta, newMeta } from './taskMeta.js';

const PAGE_SIZE = 50;
const MCP_TASK_TYPE = 'mcp_task';

/**
 * The MCP SDK's `TaskStore` (experimental tasks, spec 2025-11-25) backed by a task supervisor:
 * every MCP task is a supervised task, so it is persisted (SQLite by default), cancellable through
 * its whole tree, and restored after a restart — a task that was running when the server died
 * reports `failed` (orphaned) instead of vanishing.
 *
 * Status mapping: `running` → `working` (`input_required` while the SDK says the task waits for
 * the client), `completed`, `failed` (with the error as `statusMessage`) and `cancelled` as
 * themselves. `tasks/cancel` cancels the task's tree; the body sees its signal. TTLs count from a
 * task's end (as the SDK's in-memory store does), are capped at `maxTtlMs`, and expired tasks are
 * answered as not found and pruned from the supervisor and the store. Sessions are kept apart in
 * memory; after a restart a task is visible to every session.
 *
 * @example
 * import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
 * import { createSupervisedTaskStore } from 'awaken-tasks/mcp';
 * const taskStore = await createSupervisedTaskStore({ path: 'tasks.db' });
 * const server = new McpServer({ name: 'demo', version: '1.0.0' }, {
 *   capabilities: { tasks: { requests: { tools: { call: {} } }, list: {}, cancel: {} } },
 *   taskStore,
 * });
 */
export class SupervisedTaskStore implements McpTaskStore {
  /** The supervisor the tasks run on. */
  readonly supervisor: TaskSupervisor;
  /** The supervisor thread that owns the MCP tasks. */
  readonly threadId: string;
  readonly #store: TaskStore | undefined;
  readonly #owned: boolean;
  readonly #now: () => number;
  readonly #poll: number;
  readonly #defaultTtl: number;
  readonly #maxTtl: number;
  readonly #cancelWait: number;
  readonly #meta = new Map<TaskId, Meta>();
  readonly #stopObserving: () => void;
  readonly #timer: ReturnType<typeof setInterval> | undefined;

  /** Use `createSupervisedTaskStore`, which also restores the thread. */
  constructor(
    supervisor: TaskSupervisor,
    options: Omit<SupervisedTaskStoreOptions, 'store'> & { owned: boolean; store: TaskStore | undefined },
  ) {
    this.supervisor = supervisor;
    this.threadId = options.threadId ?? 'mcp';
    this.#store = options.store;
    this.#owned = options.owned;
    this.#now = options.now ?? Date.now;
    this.#poll = options.pollIntervalMs ?? 1_000;
    this.#defaultTtl = options.defaultTtlMs ?? 3_600_000;
    this.#maxTtl = options.maxTtlMs ?? 86_400_000;
    this.#cancelWait = options.cancelWaitMs ?? 5_000;
    this.#stopObserving = supervisor.onEvent(
      (event) => {
        const meta = this.#meta.get(event.task_id);
        if (meta === undefined) return;
        if (event.kind !== 'custom') {
          // Terminal: the record is durable by now, so `getTask` already shows the final status.
          meta.onEnd?.(event.task_id);
          return;
        }
        const message = (event.payload as { message?: unknown } | null)?.message;
        meta.statusMessage = typeof message === 'string' ? message : event.event_type;
        meta.updatedAt = this.#now();
        meta.onEvent?.(event);
      },
      { threadId: this.threadId },
    );
    const sweepEvery = options.sweepIntervalMs ?? 60_000;
    if (sweepEvery > 0) {
      this.#timer = setInterval(() => void this.sweep(), sweepEvery);
      this.#timer.unref();
    }
  }

  /**
   * Starts `body` as a supervised task and returns its MCP task (`working`). The body gets the
   * task's context: `signal` aborts on `tasks/cancel`, `emit` reports progress. What it returns
   * is the result `tasks/result` serves; a throw makes the task `failed`.
   *
   * @example
   * const task = await store.startTask({ description: 'crawl' }, async (ctx) => ({ pages: 3 }));
   */
  async startTask(options: StartTaskOptions, body: (ctx: TaskContext) => unknown): Promise<Task> {
    if (typeof body !== 'function')
      throw new TypeError(`Expected \`body\` to be a function, got ${typeof body}`);
    const meta = newMeta(this.#grantTtl(options.ttl), options.sessionId);
    meta.onEvent = options.onEvent;
    meta.onEnd = options.onEnd;
    // The meta must exist before the body runs: it may emit synchronously.
    let id: TaskId | undefined;
    const taskId = await this.supervisor.spawn(
      { threadId: this.threadId, taskType: MCP_TASK_TYPE, description: options.description },
      (ctx) => {
        id = ctx.taskId;
        this.#meta.set(ctx.taskId, meta);
        return body(ctx);
      },
    );
    if (id === undefined) this.#meta.set(taskId, meta);
    return this.#toTask(this.supervisor.get(taskId)!, meta);
  }

  /**
   * The SDK's generic task creation (tools registered with `registerToolTask`): a supervised task
   * that ends when `storeTaskResult` (or a terminal `updateTaskStatus`) is called, or on cancel.
   *
   * @example
   * const task = await store.createTask({ ttl: 60_000 }, 1, { method: 'tools/call', params: { name: 'x' } });
   */
  async createTask(
    taskParams: CreateTaskOptions,
    _requestId: RequestId,
    request: Request,
    sessionId?: string,
  ): Promise<Task> {
    const tool = (request.params as { name?: unknown } | undefined)?.name;
    const description = typeof tool === 'string' ? `${request.method} ${tool}` : request.method;
    let settle: Meta['settle'];
    const result = new Promise<{ status: 'completed' | 'failed'; result: Result }>((resolve) => {
      settle = resolve;
    });
    const task = await this.startTask({ description, ttl: taskParams.ttl, sessionId }, async (ctx) => {
      const outcome = await Promise.race([result, ctx.cancelled().then(() => undefined)]);
      if (outcome === undefined) return TaskResult.cancelled();
      if (outcome.status === 'failed') throw new Error(textOf(outcome.result));
      return outcome.result;
    });
    this.#meta.get(task.taskId)!.settle = settle;
    return task;
  }

  /**
   * The task as MCP shows it, or `null` when unknown, expired, or another session's.
   *
   * @example
   * (await store.getTask('bg_0'))?.status; // 'working'
   */
  async getTask(taskId: string, sessionId?: string): Promise<Task | null> {
    const found = this.#lookup(taskId, sessionId);
    return found === undefined ? null : this.#toTask(found.summary, found.meta);
  }

  /**
   * Ends a task made by `createTask` with `result` (`failed`: its text becomes the error). Tasks
   * started with a body end with what the body returns, so this throws for them.
   *
   * @example
   * await store.storeTaskResult(task.taskId, 'completed', { content: [{ type: 'text', text: 'ok' }] });
   */
  async storeTaskResult(
    taskId: string,
    status: 'completed' | 'failed',
    result: Result,
    sessionId?: string,
  ): Promise<void> {
    const found = this.#lookup(taskId, sessionId);
    if (found === undefined) throw new Error(`Task with ID ${taskId} not found`);
    if (found.summary.status !== 'running') {
      throw new Error(`Cannot store result for task ${taskId} in terminal status '${found.summary.status}'`);
    }
    const settle = found.meta.settle;
    if (settle === undefined) {
      throw new Error(`Task ${taskId} is run by its body; its result is what the body returns`);
    }
    found.meta.settle = undefined;
    settle({ status, result });
    await this.supervisor.wait(taskId);
  }

  /**
   * What `tasks/result` returns for a terminal (or cancel-requested) task; throws while it runs.
   *
   * @example
   * await store.getTaskResult('bg_0'); // { content: [{ type: 'text', text: '{"pages":3}' }], structuredContent: { pages: 3 } }
   */
  async getTaskResult(taskId: string, sessionId?: string): Promise<Result> {
    const found = this.#lookup(taskId, sessionId);
    if (found === undefined) throw new Error(`Task with ID ${taskId} not found`);
    const { summary, meta } = found;
    if (summary.status === 'running' && !meta.cancelRequested)
      throw new Error(`Task ${taskId} has no result yet`);
    return toolResultOf(summary.status === 'running' ? { ...summary, status: 'cancelled' } : summary);
  }

  /**
   * `cancelled` cancels the task's tree and waits up to `cancelWaitMs` for it to stop;
   * `input_required`/`working` mark whether it waits for the client; `completed`/`failed` end a
   * `createTask` task. Throws for an unknown or terminal task.
   *
   * @example
   * await store.updateTaskStatus('bg_0', 'cancelled');
   */
  async updateTaskStatus(
    taskId: string,
    status: Task['status'],
    statusMessage?: string,
    sessionId?: string,
  ): Promise<void> {
    const found = this.#lookup(taskId, sessionId);
    if (found === undefined) throw new Error(`Task with ID ${taskId} not found`);
    const { summary, meta } = found;
    if (summary.status !== 'running') {
      throw new Error(`Cannot update task ${taskId} from terminal status '${summary.status}' to '${status}'`);
    }
    meta.updatedAt = this.#now();
    if (statusMessage !== undefined) meta.statusMessage = statusMessage;
    if (status === 'input_required' || status === 'working') {
      meta.inputRequired = status === 'input_required';
    } else if (status === 'cancelled') {
      meta.cancelRequested = true;
      this.supervisor.cancelTree(taskId);
      // Answer once the body has stopped (or the wait ran out: the task is reported cancelled anyway).
      await this.supervisor.wait(taskId, { timeoutMs: this.#cancelWait }).catch(() => undefined);
    } else {
      await this.storeTaskResult(
        taskId,
        status,
        { content: [{ type: 'text', text: statusMessage ?? status }], isError: status === 'failed' },
        sessionId,
      );
    }
  }

  /**
   * The visible MCP tasks, oldest first, 50 a page; `nextCursor` is the last task id of the page.
   *
   * @example
   * const { tasks, nextCursor } = await store.listTasks();
   */
  async listTasks(cursor?: string, sessionId?: string): Promise<{ tasks: Task[]; nextCursor?: string }> {
    const visible: Task[] = [];
    for (const s of this.supervisor.list(this.threadId)) {
      if (s.task_type !== MCP_TASK_TYPE) continue;
      const found = this.#lookup(s.task_id, sessionId);
      if (found !== undefined) visible.push(this.#toTask(found.summary, found.meta));
    }
    let start = 0;
    if (cursor !== undefined) {
      const at = visible.findIndex((t) => t.taskId === cursor);
      if (at < 0) throw new Error(`Invalid cursor: ${cursor}`);
      start = at + 1;
    }
    const tasks = visible.slice(start, start + PAGE_SIZE);
    const last = tasks.at(-1);
    return start + PAGE_SIZE < visible.length && last !== undefined
      ? { tasks, nextCursor: last.taskId }
      : { tasks };
  }

  /**
   * Reports the task `input_required` while `waiting` resolves (a sub-agent waiting for a message,
   * an elicitation the client must answer), then `working` again. Resolves or rejects as `waiting`.
   *
   * @example
   * const answer = await store.waitingForInput(taskId, agent.inboxReceiver.recv(signal));
   */
  async waitingForInput<T>(taskId: string, waiting: PromiseLike<T>): Promise<T> {
    const meta = this.#meta.get(taskId);
    if (meta === undefined) return waiting;
    meta.inputWaits++;
    meta.updatedAt = this.#now();
    try {
      return await waiting;
    } finally {
      meta.inputWaits--;
      meta.updatedAt = this.#now();
    }
  }

  /**
   * Prunes tasks whose TTL ran out: forgets them here, deletes their records from the store (when
   * it supports `delete`), and prunes the supervisor's thread of tasks older than `maxTtlMs`.
   * Resolves with the number of expired tasks. Runs every `sweepIntervalMs` on its own.
   *
   * @example
   * await store.sweep(); // 3
   */
  async sweep(): Promise<number> {
    const expired: TaskId[] = [];
    for (const s of this.supervisor.list(this.threadId)) {
      if (s.task_type === MCP_TASK_TYPE && this.#expired(s, this.#metaOf(s.task_id))) expired.push(s.task_id);
    }
    for (const id of expired) this.#meta.delete(id);
    if (expired.length > 0) await this.#store?.delete?.(expired);
    this.supervisor.prune({ threadId: this.threadId, olderThanMs: this.#maxTtl });
    return expired.length;
  }

  /**
   * Stops the sweep timer and the event observer; stops the supervisor if this store created it.
   *
   * @example
   * await store.close();
   */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#stopObserving();
    if (this.#owned) await this.supervisor.stop();
  }

  #grantTtl(ttl: number | null | undefined): number {
    return grantTtl(ttl, this.#defaultTtl, this.#maxTtl);
  }

  #metaOf(taskId: TaskId): Meta {
    let meta = this.#meta.get(taskId);
    if (meta === undefined) {
      // A task restored from the store: its TTL and session were not persisted.
      meta = newMeta(this.#grantTtl(undefined), undefined);
      this.#meta.set(taskId, meta);
    }
    return meta;
  }

  #lookup(taskId: string, sessionId: string | undefined): { summary: TaskSummary; meta: Meta } | undefined {
    if (typeof taskId !== 'string') return undefined;
    const summary = this.supervisor.get(taskId);
    if (summary === undefined || !this.#ownsTask(taskId)) return undefined;
    const meta = this.#metaOf(taskId);
    if (sessionId !== undefined && meta.sessionId !== undefined && meta.sessionId !== sessionId)
      return undefined;
    if (this.#expired(summary, meta)) return undefined;
    return { summary, meta };
  }

  #ownsTask(taskId: TaskId): boolean {
    if (this.#meta.has(taskId)) return true;
    // Restored tasks: only the MCP tasks of the thread, not tasks their bodies spawned.
    return this.supervisor
      .list(this.threadId)
      .some((s) => s.task_id === taskId && s.task_type === MCP_TASK_TYPE);
  }

  #expired(summary: TaskSummary, meta: Meta): boolean {
    if (summary.status === 'running') return false;
    return this.#now() >= (summary.completed_at_ms ?? summary.created_at_ms) + meta.ttl;
  }

  #toTask(summary: TaskSummary, meta: Meta): Task {
    const status =
      summary.status === 'running' && meta.cancelRequested
        ? 'cancelled'
        : mcpStatus(summary.status, meta.inputRequired || meta.inputWaits > 0 || summary.phase === 'waiting');
    const updated = summary.completed_at_ms ?? meta.updatedAt ?? summary.created_at_ms;
    const task: Task = {
      taskId: summary.task_id,
      status,
      ttl: meta.ttl,
      createdAt: new Date(summary.created_at_ms).toISOString(),
      lastUpdatedAt: new Date(updated).toISOString(),
      pollInterval: this.#poll,
    };
    const message =
      summary.status === 'failed' ? summary.error : status === 'cancelled' ? undefined : meta.statusMessage;
    if (message !== undefined) task.statusMessage = message;
    return task;
  }
}
