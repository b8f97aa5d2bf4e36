/**
 * A chat page where background tasks show as live cards: the route handler answers each message
 * with `streamUntilIdle` (awaken-tasks/ai-sdk), so the model starts two research tasks, the page
 * shows one card per task that fills in place, and each task's end wakes the model for a
 * continuation turn that reports it — all in one streamed reply. The model is a scripted
 * `MockLanguageModelV3` (offline); swap in any provider's model.
 *
 * Run it through its test (`npx vitest run examples/task-cards.test.ts`), or after `npm run build`
 * with Node ≥ 22.6: `node --experimental-strip-types examples/task-cards/server.ts` and open the
 * printed URL.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  convertToModelMessages,
  jsonSchema,
  pipeUIMessageStreamToResponse,
  stepCountIs,
  streamText,
  type UIMessage,
} from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV3 } from 'ai/test';
import { createInbox, createTaskSupervisor, type TaskSupervisor } from 'awaken-tasks';
import { backgroundTaskTool, createTaskTools, streamUntilIdle } from 'awaken-tasks/ai-sdk';

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};
const finish = (unified: 'stop' | 'tool-calls') => ({
  type: 'finish' as const,
  finishReason: { unified, raw: undefined },
  usage,
});

/**
 * The scripted model: asked to research, it starts one `research` task per topic; after the tool
 * results it says so; woken by a task's end it reports that task's findings.
 */
function scriptedModel(): MockLanguageModelV3 {
  let n = 0;
  return new MockLanguageModelV3({
    doStream: async ({ prompt }) => {
      const last = prompt.at(-1);
      const lastText =
        last?.role === 'user'
          ? last.content.map((part) => (part.type === 'text' ? part.text : '')).join('')
          : '';
      const id = `s${++n}`;
      const say = (words: string) => [
        { type: 'text-start' as const, id },
        { type: 'text-delta' as const, id, delta: words },
        { type: 'text-end' as const, id },
        finish('stop'),
      ];
      let parts: unknown[];
      // A continuation turn: the woken task's end is the last message.
      const ended = /<background-task-event kind="completed"[^>]*>\n(.*)\n<\/background-task-event>/s.exec(
        lastText,
      );
      if (last?.role === 'tool')
        parts = say("I started two research tasks; I'll report each as it finishes.");
      else if (ended !== null) {
        const { result } = JSON.parse(ended[1]!) as { result: { topic: string; findings: string } };
        parts = say(`Research on ${result.topic} is done: ${result.findings}.`);
      } else {
        parts = [
          ...['docs', 'blog'].map((topic, i) => ({
            type: 'tool-call' as const,
            toolCallId: `call-${n}-${i}`,
            toolName: 'research',
            input: JSON.stringify({ topic }),
          })),
          finish('tool-calls'),
        ];
      }
      return {
        stream: convertArrayToReadableStream([{ type: 'stream-start', warnings: [] }, ...parts] as never),
      };
    },
  });
}

/** The browser script, bundled once with Vite (the `ai` package runs in the page too). */
let clientBundle: Promise<string> | undefined;
function bundleClient(): Promise<string> {
  clientBundle ??= (async () => {
    const { build } = await import('vite');
    const out = await build({
      configFile: false,
      logLevel: 'silent',
      root: fileURLToPath(new URL('../..', import.meta.url)),
      build: {
        write: false,
        minify: false,
        target: 'es2022',
        rollupOptions: {
          input: fileURLToPath(new URL('./client.ts', import.meta.url)),
          output: { format: 'es', codeSplitting: false },
        },
      },
    });
    const [result] = Array.isArray(out) ? out : [out];
    const chunk = (result as { output: Array<{ type: string; code?: string }> }).output.find(
      (o) => o.type === 'chunk',
    );
    if (chunk?.code === undefined) throw new Error('the client bundle has no code');
    return chunk.code;
  })();
  return clientBundle;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

/** The running example: its URL, its supervisor, and how to stop it. */
export interface TaskCardsApp {
  url: string;
  supervisor: TaskSupervisor;
  close(): Promise<void>;
}

/**
 * Serves the page on `127.0.0.1:port` (0: any free port). `stepMs` paces the tasks' progress.
 *
 * @example
 * const app = await startTaskCardsApp();
 * console.log(`open ${app.url}`);
 */
export async function startTaskCardsApp({ port = 0, stepMs = 150 } = {}): Promise<TaskCardsApp> {
  const inbox = createInbox();
  const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
  const threadId = 'chat-1';
  const html = readFileSync(new URL('./index.html', import.meta.url), 'utf8');
  const server = createServer(async (req, res) => {
    try {
      if (req.method === 'GET' && req.url === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
      } else if (req.method === 'GET' && req.url === '/client.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(await bundleClient());
      } else if (req.method === 'POST' && req.url === '/api/chat') {
        const { messages } = JSON.parse(await bodyOf(req)) as { messages: UIMessage[] };
        const context = { threadId, runId: `run-${messages.length}`, agentId: 'assistant' };
        const research = backgroundTaskTool({
          supervisor,
          context,
          name: 'research',
          description: 'Research a topic in the background; reports progress in percent.',
          inputSchema: jsonSchema<{ topic: string }>({
            type: 'object',
            properties: { topic: { type: 'string' } },
            required: ['topic'],
          }),
          taskDescription: ({ topic }) => `research ${topic}`,
          run: async ({ topic }, task) => {
            // The two topics advance at different paces, so they end one after the other.
            const pace = topic === 'docs' ? stepMs : stepMs * 2;
            for (let percent = 20; percent <= 100; percent += 20) {
              await new Promise((resolve) => setTimeout(resolve, pace));
              task.emit('progress', { percent });
            }
            return { topic, findings: `${topic === 'docs' ? 12 : 7} relevant pages` };
          },
        });
        const model = scriptedModel();
        const tools = { ...createTaskTools(supervisor, context), research };
        const stream = streamUntilIdle({
          supervisor,
          threadId,
          inbox: inbox.receiver,
          messages: await convertToModelMessages(messages),
          stream: ({ messages, abortSignal }) =>
            streamText({ model, tools, messages, abortSignal, stopWhen: stepCountIs(3) }),
          maxTurns: 5,
          maxIdleMs: 60_000,
        });
        pipeUIMessageStreamToResponse({ response: res, stream });
      } else {
        res.writeHead(404).end();
      }
    } catch (e) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(e));
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/`,
    supervisor,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await supervisor.stop();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = await startTaskCardsApp({ port: 4478 });
  console.log(`task cards: open ${app.url}`);
}
