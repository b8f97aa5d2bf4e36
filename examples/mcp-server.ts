/**
 * An MCP server (stdio) whose `research` tool runs as a supervised background task: clients call
 * it task-augmented, poll `tasks/get`, read `tasks/result`, cancel with `tasks/cancel`, and get a
 * progress notification per step. Tasks live in a SQLite file, so after a restart a task that was
 * running reports `failed` (orphaned) instead of vanishing.
 *
 * After `npm run build`, with Node ≥ 22.6: `node --experimental-strip-types examples/mcp-server.ts`.
 * Its test (`examples/mcp-server.test.ts`) drives `createServer` with the SDK's Client in memory.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { TaskResult } from 'awaken-tasks';
import { createSupervisedTaskStore, registerBackgroundTool } from 'awaken-tasks/mcp';
import { z } from 'zod';

/** Stands in for real I/O: resolves after `ms`, rejects when the task is cancelled. */
const step = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/**
 * The server and its task store (close the store on shutdown).
 *
 * @example
 * const { server, taskStore } = await createServer({ path: 'research-tasks.db' });
 * await server.connect(new StdioServerTransport());
 */
export async function createServer(options: { path?: string; stepMs?: number } = {}) {
  const taskStore = await createSupervisedTaskStore({ path: options.path ?? 'research-tasks.db' });
  const server = new McpServer(
    { name: 'research', version: '1.0.0' },
    { capabilities: { tasks: { requests: { tools: { call: {} } }, list: {}, cancel: {} } }, taskStore },
  );
  registerBackgroundTool(
    server,
    'research',
    {
      taskStore,
      description: 'Research a topic in the background (several minutes in real life).',
      inputSchema: { topic: z.string(), sources: z.number().int().min(1).max(20) },
    },
    async ({ topic, sources }, ctx) => {
      const notes: string[] = [];
      for (let i = 1; i <= sources; i++) {
        try {
          await step(options.stepMs ?? 1_000, ctx.signal);
        } catch {
          return TaskResult.cancelled();
        }
        notes.push(`source ${i} on ${topic}`);
        ctx.emit('progress', { message: `read source ${i}/${sources}`, total: sources });
      }
      return { content: [{ type: 'text', text: notes.join('\n') }], structuredContent: { topic, notes } };
    },
  );
  return { server, taskStore };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { server } = await createServer();
  await server.connect(new StdioServerTransport());
}
