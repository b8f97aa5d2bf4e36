import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolResultSchema, CreateTaskResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../test/helpers/async.js';
import { createServer } from './mcp-server.js';

const dir = mkdtempSync(join(tmpdir(), 'awaken-mcp-example-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('examples/mcp-server (SQLite-backed MCP tasks)', () => {
  it('a research call runs as a task: progress in order, polled to completion, then one cancelled', async () => {
    const { server, taskStore } = await createServer({ path: join(dir, 'research.db'), stepMs: 5 });
    const client = new Client(
      { name: 'client', version: '1.0.0' },
      { capabilities: { tasks: { requests: { tools: { call: {} } }, list: {}, cancel: {} } } },
    );
    const [a, b] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(b), client.connect(a)]);

    const progress: string[] = [];
    const { task } = await client.request(
      {
        method: 'tools/call',
        params: { name: 'research', arguments: { topic: 'otters', sources: 3 }, task: {} },
      },
      CreateTaskResultSchema,
      { onprogress: (p) => progress.push(`${p.progress}/${p.total}: ${p.message}`) },
    );
    // Each step is a durable SQLite write (an fsync): a busy disk, not the code, sets the pace.
    await until(
      async () => (await client.experimental.tasks.getTask(task.taskId)).status === 'completed',
      10_000,
      'the research task to complete',
      10,
    );
    expect(progress).toEqual(['1/3: read source 1/3', '2/3: read source 2/3', '3/3: read source 3/3']);
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    expect(result.structuredContent).toEqual({
      topic: 'otters',
      notes: ['source 1 on otters', 'source 2 on otters', 'source 3 on otters'],
    });

    const long = await client.request(
      {
        method: 'tools/call',
        params: { name: 'research', arguments: { topic: 'x', sources: 20 }, task: {} },
      },
      CreateTaskResultSchema,
    );
    expect((await client.experimental.tasks.cancelTask(long.task.taskId)).status).toBe('cancelled');
    await client.close();
    await taskStore.close();
  });
});
