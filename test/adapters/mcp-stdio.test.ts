import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResultSchema, CreateTaskResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORPHAN_ERROR } from '../../src/index.js';
import { until } from '../helpers/async.js';
import { buildDist } from '../fixtures/childProcess.js';

const CAPABILITIES = { tasks: { requests: { tools: { call: {} } }, list: {}, cancel: {} } };
const fixture = resolve(import.meta.dirname, '../fixtures/mcp-server-child.mjs');
const dir = mkdtempSync(join(tmpdir(), 'awaken-mcp-'));
let dist = '';
const clients: Client[] = [];

beforeAll(() => {
  dist = buildDist('mcp');
}, 120_000);
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function connect(dbFile: string): Promise<{ client: Client; transport: StdioClientTransport }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [fixture],
    env: { ...(process.env as Record<string, string>), AWAKEN_DIST: dist, DB_FILE: dbFile },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'client', version: '1.0.0' }, { capabilities: CAPABILITIES });
  clients.push(client);
  await client.connect(transport);
  return { client, transport };
}

describe('awaken-tasks/mcp over stdio, server killed mid-task and restarted', () => {
  it('the waiting client is released, and after the restart the task reports failed (orphaned), not a hang', async () => {
    const dbFile = join(dir, 'tasks.db');
    const first = await connect(dbFile);
    const progress: string[] = [];
    const { task } = await first.client.request(
      { method: 'tools/call', params: { name: 'crawl', arguments: { pages: 3 }, task: { ttl: 60_000 } } },
      CreateTaskResultSchema,
      { onprogress: (p) => progress.push(p.message ?? '') },
    );
    expect(task.status).toBe('working');
    // From the server process: every 10 ms, up to 10 s (a spin would take a core from it).
    await until(() => progress.length === 1, 10_000, 'the first progress', 10);
    expect(progress).toEqual(['started']);
    // A client blocked on tasks/result when the server dies gets an error, not a hang.
    const pending = first.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    const pid = first.transport.pid;
    expect(pid).toBeTypeOf('number');
    process.kill(pid!, 'SIGKILL');
    await expect(pending).rejects.toThrow(/closed/i);

    const second = await connect(dbFile);
    expect(await second.client.experimental.tasks.getTask(task.taskId)).toMatchObject({
      taskId: task.taskId,
      status: 'failed',
      statusMessage: ORPHAN_ERROR,
    });
    expect(
      await second.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema),
    ).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: ORPHAN_ERROR }],
    });
    const { tasks } = await second.client.experimental.tasks.listTasks();
    expect(tasks.map((t) => [t.taskId, t.status])).toEqual([[task.taskId, 'failed']]);
    // The restarted server still runs new tasks (and cancels them through their signal).
    const next = await second.client.request(
      { method: 'tools/call', params: { name: 'crawl', arguments: { pages: 1 }, task: {} } },
      CreateTaskResultSchema,
    );
    expect(next.task.taskId).not.toBe(task.taskId);
    expect((await second.client.experimental.tasks.cancelTask(next.task.taskId)).status).toBe('cancelled');
    await second.client.close();
  });
});
