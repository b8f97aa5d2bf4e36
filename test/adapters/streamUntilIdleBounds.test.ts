/**
 * `streamUntilIdle`'s bounds and edges on AI SDK 6: max turns, max idle time, abort (tasks are
 * never cancelled by stopping), a failed task, events left from before the call, bad options.
 */
import { jsonSchema, readUIMessageStream, streamText, stepCountIs, type UIMessageChunk } from 'ai';
import { describe, expect, it } from 'vitest';
import {
  backgroundTaskTool,
  type StreamUntilIdleOutcome,
  streamUntilIdle,
} from '../../src/adapters/ai-sdk/index.js';
import {
  createInbox,
  createTaskSupervisor,
  type InboxReceiver,
  type Json,
  type TaskSupervisor,
} from '../../src/index.js';
import { type Gate, gate } from '../helpers/async.js';
import { scriptedStreamingModel, streamToEnd } from './streamUntilIdleScenario.js';

type Setup = {
  supervisor: TaskSupervisor;
  inbox: ReturnType<typeof createInbox<Json>>;
  gates: Gate<Json>[];
  run: (
    steps: Parameters<typeof scriptedStreamingModel>[0],
    extra?: Partial<Parameters<typeof streamUntilIdle>[0]>,
    onCall?: Parameters<typeof scriptedStreamingModel>[1],
  ) => Promise<{ outcome: StreamUntilIdleOutcome; prompts: string[]; chunks: UIMessageChunk[] }>;
};

/** A thread whose `job` tool starts task n, which ends when `gates[n]` opens (or fails). */
function setup(): Setup {
  const inbox = createInbox();
  const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
  const gates: Gate<Json>[] = [gate<Json>(), gate<Json>(), gate<Json>()];
  const job = backgroundTaskTool({
    supervisor,
    context: { threadId: 't', runId: 'r' },
    name: 'job',
    description: 'a job',
    inputSchema: jsonSchema<{ n: number }>({ type: 'object', properties: { n: { type: 'number' } } }),
    run: ({ n }, task) =>
      Promise.race([
        gates[n]!.promise,
        task.cancelled().then(() => {
          throw task.signal.reason;
        }),
      ]),
  });
  const run: Setup['run'] = async (steps, extra = {}, onCall) => {
    const { model, prompts } = scriptedStreamingModel(steps, onCall);
    const { outcome, chunks } = await streamToEnd(
      model,
      { job },
      {
        supervisor,
        threadId: 't',
        inbox: inbox.receiver,
        messages: [{ role: 'user', content: 'go' }],
        ...extra,
      },
    );
    return { outcome: outcome!, prompts, chunks };
  };
  return { supervisor, inbox, gates, run };
}

const start =
  (...ns: number[]) =>
  () => ({ calls: ns.map((n) => ({ name: 'job', input: { n } })) });
const say = (text: string) => () => ({ text });

describe('streamUntilIdle bounds', () => {
  it('maxTurns: stops after the bound; the unseen task end stays in the inbox for the next call', async () => {
    const { supervisor, inbox, gates, run } = setup();
    const { outcome, prompts } = await run(
      [start(0, 1), say('started'), say('0 done')],
      { maxTurns: 2 },
      (n) => {
        if (n === 2) gates[0]!.open('r0');
        if (n === 3) gates[1]!.open('r1');
      },
    );
    expect(outcome.reason).toBe('max_turns');
    expect(outcome.turns).toBe(2);
    expect(prompts).toHaveLength(3);
    // Task 1 ended during turn 2; no third turn: its terminal event is still queued.
    const [t0, t1] = supervisor.list('t').map((s) => s.task_id);
    await supervisor.wait(t1!);
    expect(inbox.receiver.drain()).toContainEqual({ kind: 'completed', task_id: t1, result: 'r1' });
    expect(prompts[2]).toContain(`kind=\\"completed\\" task_id=\\"${t0}\\"`);
    await supervisor.stop();
  });

  it('maxIdleMs: a task that never ends stops the wait, and the task keeps running', async () => {
    const { supervisor, run } = setup();
    const { outcome } = await run([start(0), say('started')], { maxIdleMs: 50 });
    expect(outcome.reason).toBe('max_idle');
    expect(outcome.turns).toBe(1);
    const [id] = supervisor.list('t').map((s) => s.task_id);
    expect(outcome.running).toEqual([id]);
    expect(supervisor.get(id!)?.status).toBe('running');
    await supervisor.stop();
  });

  it('abortSignal: aborting while waiting ends the stream with a finish; the task is spared', async () => {
    const { supervisor, run } = setup();
    const abort = new AbortController();
    const { outcome, chunks } = await run([start(0), say('started')], { abortSignal: abort.signal }, (n) => {
      if (n === 2) setImmediate(() => abort.abort());
    });
    expect(outcome.reason).toBe('aborted');
    expect(chunks.at(-1)?.type).toBe('finish');
    const [id] = supervisor.list('t').map((s) => s.task_id);
    expect(supervisor.get(id!)?.status).toBe('running');
    expect(outcome.interrupted).toEqual({ tasks: 'spare', stopped: [], left_running: [id] });
    expect(outcome.running).toEqual([id]);
    await supervisor.stop();
  });

  it('a reader that cancels the stream (the client went away) aborts the call; the task is spared', async () => {
    const { supervisor, inbox } = setup();
    const job = backgroundTaskTool({
      supervisor,
      context: { threadId: 't', runId: 'r' },
      name: 'job',
      description: 'a job',
      inputSchema: jsonSchema<Record<string, never>>({ type: 'object', properties: {} }),
      run: (_input, task) => task.cancelled(),
    });
    const { model, prompts } = scriptedStreamingModel([start(0), say('started')]);
    const finished = gate<StreamUntilIdleOutcome>();
    const stream = streamUntilIdle({
      supervisor,
      threadId: 't',
      inbox: inbox.receiver,
      messages: [{ role: 'user', content: 'go' }],
      stream: ({ messages, abortSignal }) =>
        streamText({ model, tools: { job }, messages, stopWhen: stepCountIs(3), abortSignal }),
      onFinish: (o) => finished.open(o),
    });
    const reader = stream.getReader();
    for (;;) {
      const { value } = await reader.read();
      if (value?.type === 'text-end') break; // turn 1 is over: the call now waits for the task
    }
    await reader.cancel('client gone');
    const outcome = await finished.promise;
    const [id] = supervisor.list('t').map((s) => s.task_id);
    expect(outcome).toMatchObject({ reason: 'aborted', turns: 1 });
    expect(outcome.interrupted).toEqual({ tasks: 'spare', stopped: [], left_running: [id] });
    expect(supervisor.get(id!)?.status).toBe('running');
    expect(prompts).toHaveLength(2);
    await supervisor.stop();
  });

  it("abortTasks: 'cancel' cancels the run's tasks on abort and says which", async () => {
    const { supervisor, run } = setup();
    const abort = new AbortController();
    const other = await supervisor.spawn(
      { threadId: 't', taskType: 'cron', description: 'not the run' },
      (ctx) => ctx.cancelled(),
    );
    const { outcome } = await run(
      [start(0), say('started')],
      { abortSignal: abort.signal, abortTasks: 'cancel', runId: 'r' },
      (n) => {
        if (n === 2) setImmediate(() => abort.abort());
      },
    );
    const id = supervisor.list('t').find((s) => s.task_type === 'job')!.task_id;
    expect(outcome.reason).toBe('aborted');
    expect(outcome.interrupted).toEqual({ tasks: 'cancel', stopped: [id], left_running: [other] });
    expect((await supervisor.wait(id)).status).toBe('cancelled');
    expect(supervisor.get(other)?.status).toBe('running');
    expect(outcome.running).toEqual([other]);
    await supervisor.stop();
  });

  it('a turn that starts no task ends idle after one turn; events from before the call open turn 1', async () => {
    const { supervisor, inbox, run } = setup();
    inbox.sender.send({ kind: 'completed', task_id: 'bg_old', result: 'earlier' });
    const { outcome, prompts } = await run([say('nothing to do')]);
    expect(outcome).toMatchObject({ reason: 'idle', turns: 1, running: [], unread: [] });
    expect(prompts[0]).toContain('task_id=\\"bg_old\\"');
    expect(outcome.messages[0]).toMatchObject({ role: 'user' });
    await supervisor.stop();
  });

  it('a failed task: its card says failed with the error, and the continuation sees the failure', async () => {
    const { supervisor, gates, run } = setup();
    const { outcome, prompts, chunks } = await run([start(0), say('started'), say('it failed')], {}, (n) => {
      if (n === 2) gates[0]!.fail(new Error('disk full'));
    });
    expect(outcome).toMatchObject({ reason: 'idle', turns: 2 });
    expect(prompts[2]).toContain('kind=\\"failed\\"');
    const last = chunks.filter((c) => c.type === 'data-task').at(-1) as {
      data: { status: string; error: string };
    };
    expect(last.data).toMatchObject({ status: 'failed', error: expect.stringContaining('disk full') });
    await supervisor.stop();
  });

  it('two tasks that end during one turn get one continuation each; a custom part name; one part per task', async () => {
    const { supervisor, gates, run } = setup();
    const { outcome, chunks } = await run(
      [start(0, 1), say('started'), say('first'), say('second')],
      { dataPartName: 'job' },
      (n) => {
        if (n === 2) {
          gates[0]!.open(0);
          gates[1]!.open(1);
        }
      },
    );
    expect(outcome).toMatchObject({ reason: 'idle', turns: 3, unread: [] });
    // Each continuation's injected messages are one task's events (its progress and its end).
    const injected = outcome.messages.filter((m) => m.role === 'user').map((m) => String(m.content));
    const ids = supervisor.list('t').map((s) => s.task_id);
    expect(injected).toHaveLength(2);
    expect(injected.map((m) => ids.filter((id) => m.includes(`task_id="${id}"`)).length)).toEqual([1, 1]);
    expect(new Set(injected.map((m) => /task_id="([^"]+)"/.exec(m)?.[1]))).toEqual(new Set(ids));
    const stream = new ReadableStream<UIMessageChunk>({
      start(c) {
        for (const chunk of chunks) c.enqueue(chunk);
        c.close();
      },
    });
    let parts: Array<{ type: string }> = [];
    for await (const m of readUIMessageStream({ stream })) parts = m.parts;
    expect(parts.filter((p) => p.type === 'data-job')).toHaveLength(2);
    expect(chunks.filter((c) => c.type === 'data-job').length).toBeGreaterThan(2);
    expect(chunks.filter((c) => c.type === 'data-task')).toEqual([]);
    await supervisor.stop();
  });

  it('a model that fails in a continuation: the stream ends with an error chunk, watchers removed, the task spared', async () => {
    const { supervisor, gates, run } = setup();
    let watching = 0;
    for (const method of ['subscribe', 'onEvent'] as const) {
      const original = supervisor[method].bind(supervisor) as (...args: unknown[]) => () => void;
      (supervisor as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        watching++;
        const off = original(...args);
        return () => {
          watching--;
          off();
        };
      };
    }
    let finished = false;
    const { chunks } = await run(
      [
        start(0, 1),
        say('started'),
        () => {
          throw new Error('model down');
        },
      ],
      {
        onFinish: () => {
          finished = true;
        },
      },
      (n) => {
        if (n === 2) gates[0]!.open('r0');
      },
    );
    expect(chunks.some((c) => c.type === 'error')).toBe(true);
    expect(finished).toBe(false);
    expect(watching).toBe(0);
    const [, t1] = supervisor.list('t');
    expect(t1?.status).toBe('running');
    await supervisor.stop();
  });

  it('a task asking for input wakes a continuation with its request; answered, its end wakes another', async () => {
    const inbox = createInbox();
    const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
    const deploy = backgroundTaskTool({
      supervisor,
      context: { threadId: 't', runId: 'r' },
      name: 'deploy',
      description: 'deploy',
      inputSchema: jsonSchema<Record<string, never>>({ type: 'object', properties: {} }),
      run: async (_input, task) => ({
        answer: await task.requestInput({ question: 'Deploy to production?' }),
      }),
    });
    let id = '';
    const { model, prompts } = scriptedStreamingModel(
      [
        () => ({ calls: [{ name: 'deploy', input: {} }] }),
        () => ({ text: 'started' }),
        () => ({ text: 'It asks: deploy to production?' }),
        () => ({ text: 'Deployed.' }),
      ],
      (n) => {
        // The user's answer arrives while the model relays the question.
        if (n === 3) {
          id = supervisor.list('t')[0]!.task_id;
          expect(supervisor.get(id)?.phase).toBe('waiting');
          expect(supervisor.provideInput(id, 'yes')).toBe(true);
        }
      },
    );
    const { outcome, chunks } = await streamToEnd(
      model,
      { deploy },
      { supervisor, threadId: 't', inbox: inbox.receiver, messages: [{ role: 'user', content: 'deploy' }] },
      true,
    );
    expect(outcome).toMatchObject({ reason: 'idle', turns: 3 });
    expect(prompts[2]).toContain('Deploy to production?');
    expect(prompts[2]).not.toContain('kind=\\"completed\\"');
    expect(prompts[3]).toContain(`kind=\\"completed\\" task_id=\\"${id}\\"`);
    const writes = chunks
      .filter((c) => c.type === 'data-task')
      .map((c) => (c as { data: { phase?: string } }).data);
    expect(writes.some((d) => d.phase === 'waiting')).toBe(true);
    expect(writes.at(-1)).toMatchObject({ status: 'completed', result: { answer: 'yes' } });
    expect(writes.at(-1)).not.toHaveProperty('phase');
    await supervisor.stop();
  });

  it('bad options are TypeErrors', () => {
    const { supervisor, inbox } = setup();
    const base = {
      supervisor,
      threadId: 't',
      inbox: inbox.receiver as InboxReceiver,
      messages: [],
      stream: () => {
        throw new Error('unused');
      },
    };
    expect(() => streamUntilIdle(null as never)).toThrow('Expected `options` to be an object, got null');
    expect(() => streamUntilIdle({ ...base, threadId: 1 as never })).toThrow(
      'Expected `options.threadId` to be a string, got number',
    );
    expect(() => streamUntilIdle({ ...base, maxTurns: 0 })).toThrow(
      'Expected `options.maxTurns` to be a positive integer, got 0',
    );
    expect(() => streamUntilIdle({ ...base, maxIdleMs: -1 })).toThrow(TypeError);
    expect(() => streamUntilIdle({ ...base, dataPartName: 'a b' })).toThrow(TypeError);
    expect(() => streamUntilIdle({ ...base, inbox: {} as never })).toThrow(TypeError);
    expect(() => streamUntilIdle({ ...base, abortTasks: 'cancel' })).toThrow(
      "Expected `options.runId` with `abortTasks: 'cancel'`",
    );
    expect(() => streamUntilIdle({ ...base, abortTasks: 'kill' as never })).toThrow(TypeError);
  });
});
