import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolResultSchema, CreateTaskResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { createSupervisedTaskStore, registerBackgroundTool } from '../../src/adapters/mcp/index.js';
import { MemoryTaskStore } from '../../src/index.js';
import { until } from '../helpers/async.js';

const CAPABILITIES = { tasks: { requests: { tools: { call: {} } }, list: {}, cancel: {} } };

describe('awaken-tasks/mcp: ctx.requestInput is input_required', () => {
  it('a tool body waiting in requestInput is input_required; provideInput makes it working, then completed', async () => {
    const taskStore = await createSupervisedTaskStore({ store: new MemoryTaskStore(), sweepIntervalMs: 0 });
    const server = new McpServer(
      { name: 'test', version: '1.0.0' },
      { capabilities: CAPABILITIES, taskStore },
    );
    registerBackgroundTool(server, 'deploy', { taskStore }, async (_args, ctx) => {
      const answer = await ctx.requestInput({ question: 'Deploy to production?' });
      return { deployed: answer === 'yes' };
    });
    const client = new Client({ name: 'client', version: '1.0.0' }, { capabilities: CAPABILITIES });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    try {
      const { task } = await client.request(
        { method: 'tools/call', params: { name: 'deploy', arguments: {}, task: { ttl: 60_000 } } },
        CreateTaskResultSchema,
      );
      await until(
        async () => (await client.experimental.tasks.getTask(task.taskId)).status === 'input_required',
      );
      const sup = taskStore.supervisor;
      const id = sup.list('mcp').find((s) => s.phase === 'waiting')!.task_id;
      expect(sup.get(id)?.input_request).toEqual({ question: 'Deploy to production?' });
      expect(sup.provideInput(id, 'yes')).toBe(true);
      await until(async () => (await client.experimental.tasks.getTask(task.taskId)).status === 'completed');
      expect(
        (await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema)).structuredContent,
      ).toEqual({ deployed: true });
    } finally {
      await client.close();
      await taskStore.close();
    }
  });
});
