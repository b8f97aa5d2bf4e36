import { describe, expect, it } from 'vitest';
import { BACKGROUND_TASKS_PLUGIN_ID, createBackgroundTasksPlugin } from '../../src/agent/index.js';
import { MemoryTaskStore, createTaskSupervisor } from '../../src/index.js';
import type { PersistedTaskMeta } from '../../src/index.js';
import { parked, freshSupervisors } from './helpers.js';

const { fresh, defer } = freshSupervisors();

describe('background tasks plugin (K)', () => {
  it('K1 the plugin id is "background_tasks"', () => {
    const plugin = createBackgroundTasksPlugin(fresh());
    expect(plugin.id).toBe('background_tasks');
    expect(BACKGROUND_TASKS_PLUGIN_ID).toBe('background_tasks');
  });

  it('S10 P9 the plugin registers cancel_task, send_message and recover_failed_messages, with or without a sink', () => {
    const names = ['cancel_task', 'send_message', 'recover_failed_messages'];
    expect(createBackgroundTasksPlugin(fresh()).tools.map((t) => t.name)).toEqual(names);
    const sink = { sendAgentMessage: async () => 'd' };
    expect(createBackgroundTasksPlugin(fresh(), { durableSink: sink }).tools.map((t) => t.name)).toEqual(
      names,
    );
  });

  it('S10 gap 9: the host can switch recover_failed_messages off', () => {
    const plugin = createBackgroundTasksPlugin(fresh(), { recoverFailedMessages: false });
    expect(plugin.tools.map((t) => t.name)).toEqual(['cancel_task', 'send_message']);
  });

  it('S10 stepEnd runs the dispatcher first, then the pending-work check (a delivery that ends the last task reports no pending work)', async () => {
    const supervisor = fresh();
    const id = await supervisor.spawn({ threadId: 'child', taskType: 't', description: 'd' }, parked);
    const delivered: string[] = [];
    const sink = {
      async sendAgentMessage(req: { message: string }) {
        delivered.push(req.message);
        supervisor.cancel(id);
        await supervisor.wait(id, { timeoutMs: 5_000 });
        return 'd';
      },
    };
    const plugin = createBackgroundTasksPlugin(supervisor, { durableSink: sink });
    const send = plugin.tools.find((t) => t.name === 'send_message')!;
    expect(
      await send.execute(
        { to: { relation: 'parent' }, message: 'done' },
        { threadId: 'child', parentThreadId: 'parent' },
      ),
    ).toMatchObject({ ok: true, data: { status: 'queued' } });
    expect(await plugin.hooks.stepEnd({ threadId: 'child' })).toEqual({ has_pending: false });
    expect(delivered).toEqual(['done']);
  });

  it('K4 run start, step end and run end hooks exist', () => {
    const { hooks } = createBackgroundTasksPlugin(fresh());
    expect(typeof hooks.runStart).toBe('function');
    expect(typeof hooks.stepEnd).toBe('function');
    expect(typeof hooks.runEnd).toBe('function');
  });

  it('K5 creating the plugin mutates nothing', async () => {
    const supervisor = fresh();
    const before = supervisor.stats();
    createBackgroundTasksPlugin(supervisor);
    expect(supervisor.stats()).toEqual(before);
    expect(supervisor.persistedSnapshot()).toEqual({});
  });

  it('K7 stepEnd reports has_pending from hasRunning of the run thread', async () => {
    const supervisor = fresh();
    const { hooks } = createBackgroundTasksPlugin(supervisor);
    expect(await hooks.stepEnd({ threadId: 'thread-1' })).toEqual({ has_pending: false });
    const id = await supervisor.spawn({ threadId: 'thread-1', taskType: 't', description: 'd' }, parked);
    expect(await hooks.stepEnd({ threadId: 'thread-1' })).toEqual({ has_pending: true });
    expect(await hooks.stepEnd({ threadId: 'thread-2' })).toEqual({ has_pending: false });
    supervisor.cancel(id);
    await supervisor.wait(id, { timeoutMs: 5_000 });
    expect(await hooks.stepEnd({ threadId: 'thread-1' })).toEqual({ has_pending: false });
  });

  it('K7 runStart restores the thread from the store, I14 terminal records kept', async () => {
    const store = new MemoryTaskStore();
    const done: PersistedTaskMeta = {
      task_id: 'bg_restored',
      owner_thread_id: 'thread-restore',
      task_type: 'shell',
      description: 'old',
      status: 'completed',
      created_at_ms: 100,
      completed_at_ms: 200,
      parent_context: {},
    };
    await store.put([done]);
    const supervisor = createTaskSupervisor({ store });
    defer(() => supervisor.stop());
    await createBackgroundTasksPlugin(supervisor).hooks.runStart({ threadId: 'thread-restore' });
    expect(supervisor.list('thread-restore').map((s) => [s.task_id, s.status])).toEqual([
      ['bg_restored', 'completed'],
    ]);
  });

  it('K7 runStart detects orphans (§6 item 18): a persisted running task becomes failed and is not pending', async () => {
    const store = new MemoryTaskStore();
    await store.put([
      {
        task_id: 'bg_3',
        owner_thread_id: 'thread-1',
        task_type: 'shell',
        description: 'was running at crash',
        status: 'running',
        created_at_ms: 100,
        parent_context: {},
      },
    ]);
    const supervisor = createTaskSupervisor({ store });
    defer(() => supervisor.stop());
    const plugin = createBackgroundTasksPlugin(supervisor);
    await plugin.hooks.runStart({ threadId: 'thread-1' });
    const s = supervisor.get('bg_3');
    expect(s?.status).toBe('failed');
    expect(s?.error).toBe('task orphaned: runtime restarted while running');
    expect(await plugin.hooks.stepEnd({ threadId: 'thread-1' })).toEqual({ has_pending: false });
  });

  it('K7 runEnd is a no-op that resolves; I13 the supervisor persisted the state itself', async () => {
    const store = new MemoryTaskStore();
    const supervisor = createTaskSupervisor({ store });
    defer(() => supervisor.stop());
    const id = await supervisor.spawn(
      { threadId: 'thread-persist', taskType: 'shell', description: 'd' },
      () => 1,
    );
    await supervisor.wait(id, { timeoutMs: 5_000 });
    const before = supervisor.stats();
    await expect(
      createBackgroundTasksPlugin(supervisor).hooks.runEnd({ threadId: 'thread-persist' }),
    ).resolves.toBeUndefined();
    expect(supervisor.stats()).toEqual(before);
    await expect.poll(async () => (await store.load('thread-persist'))[0]?.status).toBe('completed');
    expect((await store.load('thread-persist'))[0]?.task_type).toBe('shell');
  });
});
