import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CallToolResultSchema,
  CreateTaskResultSchema,
  type Progress,
  TaskStatusNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createSupervisedTaskStore,
  registerBackgroundTool,
  type SupervisedTaskStore,
} from '../../src/adapters/mcp/index.js';
import { createTaskSupervisor, MemoryTaskStore, ORPHAN_ERROR, TaskResult } from '../../src/index.js';
import { type Gate, gate, until } from '../helpers/async.js';

const CAPABILITIES = { tasks: { requests: { tools: { call: {} } }, list: {}, cancel: {} } };

class DeletingStore extends MemoryTaskStore {
  deleted: string[] = [];
  override async delete(ids: readonly string[]): Promise<void> {
    this.deleted.push(...ids);
  }
}

interface Harness {
  client: Client;
  taskStore: SupervisedTaskStore;
  release: Gate;
  bodySignal: { aborted?: boolean; childId?: string };
  clock: { now: number };
  store: DeletingStore;
  close(): Promise<void>;
}

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

async function harness(store = new DeletingStore()): Promise<Harness> {
  const clock = { now: 1_000_000 };
  const taskStore = await createSupervisedTaskStore({ store, sweepIntervalMs: 0, now: () => clock.now });
  const server = new McpServer({ name: 'test', version: '1.0.0' }, { capabilities: CAPABILITIES, taskStore });
  const release = gate();
  const bodySignal: Harness['bodySignal'] = {};
  registerBackgroundTool(
    server,
    'crawl',
    {
      taskStore,
      description: 'crawl pages',
      inputSchema: { pages: z.number(), fail: z.boolean().optional() },
    },
    async ({ pages, fail }, ctx) => {
      for (let page = 1; page <= pages; page++)
        ctx.emit('progress', { message: `page ${page}`, total: pages });
      await Promise.race([release.promise, ctx.cancelled()]);
      if (fail) throw new Error('crawl exploded');
      return { pages };
    },
  );
  registerBackgroundTool(server, 'tree', { taskStore }, async (_args, ctx) => {
    // A child task: tasks/cancel must reach it too.
    bodySignal.childId = await taskStore.supervisor.spawn(
      { threadId: 'mcp', taskType: 'child', description: 'child' },
      async (c) => {
        await c.cancelled();
        return TaskResult.cancelled();
      },
    );
    await ctx.cancelled();
    bodySignal.aborted = ctx.signal.aborted;
    return TaskResult.cancelled();
  });
  registerBackgroundTool(server, 'ask', { taskStore }, async (_args, ctx) => {
    // A sub-agent-like body waiting for a message: input_required while it waits.
    const answer = await ctx.waitingForInput(release.promise.then(() => 'the answer'));
    return { answer };
  });
  const client = new Client({ name: 'client', version: '1.0.0' }, { capabilities: CAPABILITIES });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  const h: Harness = {
    client,
    taskStore,
    release,
    bodySignal,
    clock,
    store,
    close: async () => {
      taskStore.supervisor.cancelAll('mcp');
      await client.close();
      await taskStore.close();
    },
  };
  open.push(h);
  return h;
}

async function callAsTask(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  onprogress?: (p: Progress) => void,
) {
  const created = await client.request(
    { method: 'tools/call', params: { name, arguments: args, task: { ttl: 60_000 } } },
    CreateTaskResultSchema,
    onprogress === undefined ? {} : { onprogress },
  );
  return created.task;
}

describe('awaken-tasks/mcp over the SDK Client (in-memory transport)', () => {
  it('a long tool call is a working task, polled to completion; tasks/result returns its result', async () => {
    const { client, release } = await harness();
    const task = await callAsTask(client, 'crawl', { pages: 2 });
    expect(task).toMatchObject({ status: 'working', ttl: 60_000, pollInterval: 1_000 });
    expect((await client.experimental.tasks.getTask(task.taskId)).status).toBe('working');
    release.open();
    await until(async () => (await client.experimental.tasks.getTask(task.taskId)).status === 'completed');
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    expect(result).toMatchObject({
      content: [{ type: 'text', text: '{"pages":2}' }],
      structuredContent: { pages: 2 },
    });
    const { tasks } = await client.experimental.tasks.listTasks();
    expect(tasks.map((t) => [t.taskId, t.status])).toEqual([[task.taskId, 'completed']]);
  });

  it('custom events become progress notifications, in order, and the latest one is the statusMessage', async () => {
    const { client, release } = await harness();
    const seen: Progress[] = [];
    const statuses: string[] = [];
    client.setNotificationHandler(TaskStatusNotificationSchema, (n) => {
      statuses.push(`${n.params.taskId} ${n.params.status} after ${seen.length}`);
    });
    const task = await callAsTask(client, 'crawl', { pages: 5 }, (p) => seen.push(p));
    await until(() => seen.length === 5);
    expect(seen.map((p) => [p.progress, p.total, p.message])).toEqual([
      [1, 5, 'page 1'],
      [2, 5, 'page 2'],
      [3, 5, 'page 3'],
      [4, 5, 'page 4'],
      [5, 5, 'page 5'],
    ]);
    expect((await client.experimental.tasks.getTask(task.taskId)).statusMessage).toBe('page 5');
    expect(statuses).toEqual([]);
    release.open();
    // The final status is notified once, after every progress notification.
    await until(() => statuses.length === 1);
    expect(statuses).toEqual([`${task.taskId} completed after 5`]);
  });

  it('tasks/cancel cancels the task tree and the body sees its signal', async () => {
    const h = await harness();
    const task = await callAsTask(h.client, 'tree', {});
    await until(() => h.bodySignal.childId !== undefined);
    const cancelled = await h.client.experimental.tasks.cancelTask(task.taskId);
    expect(cancelled.status).toBe('cancelled');
    expect(h.bodySignal.aborted).toBe(true);
    expect(h.taskStore.supervisor.get(task.taskId)?.status).toBe('cancelled');
    expect((await h.taskStore.supervisor.wait(h.bodySignal.childId!)).status).toBe('cancelled');
    // The body's own child task is not an MCP task: not listed, not found.
    expect((await h.client.experimental.tasks.listTasks()).tasks.map((t) => t.taskId)).toEqual([task.taskId]);
    expect(await h.taskStore.getTask(h.bodySignal.childId!)).toBeNull();
    const result = await h.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    expect(result).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: `task ${task.taskId} was cancelled` }],
    });
  });

  it('a body that throws makes the task failed; tasks/result carries the error', async () => {
    const { client, release } = await harness();
    const task = await callAsTask(client, 'crawl', { pages: 0, fail: true });
    release.open();
    await until(async () => (await client.experimental.tasks.getTask(task.taskId)).status === 'failed');
    expect((await client.experimental.tasks.getTask(task.taskId)).statusMessage).toBe('crawl exploded');
    expect(await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema)).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: 'crawl exploded' }],
    });
  });

  it('TTLs are honoured: an expired task is not found, and sweep deletes it from the store', async () => {
    const h = await harness();
    const task = await callAsTask(h.client, 'crawl', { pages: 0 });
    h.release.open();
    await until(async () => (await h.client.experimental.tasks.getTask(task.taskId)).status === 'completed');
    h.clock.now += 59_999;
    expect((await h.client.experimental.tasks.getTask(task.taskId)).status).toBe('completed');
    h.clock.now += 1;
    await expect(h.client.experimental.tasks.getTask(task.taskId)).rejects.toThrow(/not found/i);
    expect((await h.client.experimental.tasks.listTasks()).tasks).toEqual([]);
    expect(await h.taskStore.sweep()).toBe(1);
    expect(h.store.deleted).toEqual([task.taskId]);
  });

  it('after a restart a task that was running reports failed (orphaned), and its result says so', async () => {
    const store = new DeletingStore();
    const first = await harness(store);
    const task = await callAsTask(first.client, 'crawl', { pages: 1 });
    // The "crashed" process: its store rows stay as they were (running); a new process restores.
    const second = await harness(store);
    expect(await second.client.experimental.tasks.getTask(task.taskId)).toMatchObject({
      status: 'failed',
      statusMessage: ORPHAN_ERROR,
    });
    expect(
      await second.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema),
    ).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: ORPHAN_ERROR }],
    });
    // New ids never collide with restored ones.
    const next = await callAsTask(second.client, 'crawl', { pages: 0 });
    expect(next.taskId).not.toBe(task.taskId);
  });

  it('input_required while the body waits for input, working again after', async () => {
    const { client, release } = await harness();
    const task = await callAsTask(client, 'ask', {});
    await until(
      async () => (await client.experimental.tasks.getTask(task.taskId)).status === 'input_required',
    );
    release.open();
    await until(async () => (await client.experimental.tasks.getTask(task.taskId)).status === 'completed');
    expect(
      (await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema)).structuredContent,
    ).toEqual({
      answer: 'the answer',
    });
  });

  it('the generic TaskStore side: createTask + storeTaskResult, input_required, sessions', async () => {
    const supervisor = createTaskSupervisor();
    const store = await createSupervisedTaskStore({ supervisor, sweepIntervalMs: 0 });
    const request = { method: 'tools/call', params: { name: 'x' } };
    const task = await store.createTask({ ttl: null }, 1, request, 'session-a');
    expect(task).toMatchObject({ status: 'working', ttl: 86_400_000 });
    expect(await store.getTask(task.taskId, 'session-b')).toBeNull();
    await store.updateTaskStatus(task.taskId, 'input_required', undefined, 'session-a');
    expect((await store.getTask(task.taskId))?.status).toBe('input_required');
    await store.storeTaskResult(task.taskId, 'completed', { content: [{ type: 'text', text: 'ok' }] });
    expect((await store.getTask(task.taskId))?.status).toBe('completed');
    expect(await store.getTaskResult(task.taskId)).toEqual({ content: [{ type: 'text', text: 'ok' }] });
    await expect(store.updateTaskStatus(task.taskId, 'working')).rejects.toThrow(
      /terminal status 'completed'/,
    );
    await store.close();
    await supervisor.stop();
  });

  it('bad arguments are TypeErrors', async () => {
    await expect(createSupervisedTaskStore({ maxTtlMs: -1 })).rejects.toThrow(
      'Expected `options.maxTtlMs` to be a non-negative number, got -1',
    );
    const server = new McpServer({ name: 't', version: '1' });
    expect(() => registerBackgroundTool(server, 'x', {} as never, () => 1)).toThrow(
      'Expected `config.taskStore` to be a SupervisedTaskStore, got undefined',
    );
  });
});
