import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runAgentLoop, scriptedModel } from '../../src/agent/index.js';
import type { Message, ModelResponse, ToolDefinition } from '../../src/agent/index.js';
import { createInbox, createTaskSupervisor } from '../../src/index.js';
import type { TaskSupervisor } from '../../src/index.js';
import { assertWithSeed, runsFor } from '../property/seed.js';
import { eventKindsIn, gate, parked } from './helpers.js';

/** What each model request added to the conversation since the previous request and its answer. */
function addedPerRequest(requests: ReadonlyArray<{ messages: Message[] }>): Message[][] {
  return requests.map((r, i) =>
    i === 0 ? r.messages : r.messages.slice((requests[i - 1]?.messages.length ?? 0) + 1),
  );
}

/** A tool that spawns one task named `name` whose body runs `body`, reporting to the run's inbox. */
function spawnNamed(
  supervisor: TaskSupervisor,
  toolName: string,
  body: (ctx: { emit(t: string, p?: never): boolean }) => Promise<unknown>,
): ToolDefinition {
  return {
    name: toolName,
    description: 'start a background task',
    parameters: { type: 'object', properties: {} },
    validate: () => undefined,
    async execute(_args, ctx) {
      const id = await supervisor.spawn(
        { threadId: ctx.threadId, taskType: 'worker', description: toolName },
        body as never,
      );
      return { ok: true, data: { task_id: id } };
    },
  };
}

/** Waits a few macrotask turns (`hops` setImmediate), or none. */
async function hop(hops: number): Promise<void> {
  for (let i = 0; i < hops; i++) await new Promise<void>((r) => setImmediate(r));
}

interface Plan {
  /** Per task: how many custom events it emits. */
  emits: number[];
  /** Per task: the model call (1-based) that releases it; a task's trigger call happens before its end. */
  trigger: number[];
  /** Per task: how many macrotask hops after its trigger it is released (0: inside the model call). */
  delay: number[];
}

/**
 * Runs the scenario: turn 1 (two model steps) starts every task and ends awaiting them; each task
 * is released at its planned model call (after its planned delay), so tasks end during turn 1,
 * during continuation turns and while the run waits. Returns the run's outcome and, per
 * continuation turn, the task events it was shown.
 */
async function scenario(plan: Plan, maxTurns = 100) {
  const n = plan.emits.length;
  const inbox = createInbox();
  const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
  const gates = plan.emits.map(() => gate());
  const tools = plan.emits.map((count, i) =>
    spawnNamed(supervisor, `start_${i}`, async (ctx) => {
      await gates[i]!.promise;
      for (let k = 0; k < count; k++) ctx.emit('progress', { k } as never);
      return { task: i };
    }),
  );
  const steps: ModelResponse[] = [
    { toolCalls: tools.map((t, i) => ({ id: `c${i}`, name: t.name, args: {} })) },
    { text: 'started; waiting' },
    ...Array.from({ length: n }, (_, i) => ({ text: `continuation ${i + 1}` })),
  ];
  const scripted = scriptedModel(steps);
  let calls = 0;
  const model = (req: { messages: Message[]; tools: ToolDefinition[] }) => {
    calls++;
    for (let i = 0; i < n; i++) {
      if (plan.trigger[i] !== calls) continue;
      if (plan.delay[i] === 0) gates[i]!.open();
      else void hop(plan.delay[i]!).then(() => gates[i]!.open());
    }
    return scripted(req);
  };
  const outcome = await runAgentLoop({
    model,
    supervisor,
    threadId: 'thread-1',
    runId: 'run-1',
    tools,
    inbox,
    messages: [{ role: 'user', content: 'do the work' }],
    untilIdle: { maxTurns },
  });
  const added = addedPerRequest(scripted.requests);
  const summaries = supervisor.list('thread-1');
  await supervisor.stop();
  return { outcome, added, summaries, requests: scripted.requests };
}

/** A plan whose triggers always come: task order[j] is released at turn 1 or at the turn of an earlier task. */
const planArb = fc.integer({ min: 2, max: 4 }).chain((n) =>
  fc.record({
    emits: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
    order: fc.shuffledSubarray(
      Array.from({ length: n }, (_, i) => i),
      { minLength: n, maxLength: n },
    ),
    // 0 → step 1 of turn 1, 1 → step 2 of turn 1, 2 → the continuation turn of the previous task in order.
    when: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n, maxLength: n }),
    delay: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: n, maxLength: n }),
  }),
);

describe('runAgentLoop untilIdle: one continuation turn per ended task', () => {
  it('turn 1 starts two tasks and ends awaiting them; each end starts exactly one turn that sees exactly its events', async () => {
    // Task 0 ends while the run waits (released in turn 1's last step, after hops); task 1 is
    // released inside task 0's continuation turn, so it ends during that turn and is seen next.
    const { outcome, added, summaries } = await scenario({ emits: [2, 1], trigger: [2, 3], delay: [3, 0] });
    const [t0, t1] = summaries.map((s) => s.task_id);
    expect(added).toHaveLength(4);
    expect(eventKindsIn(added[2]!)).toEqual([
      ['custom', t0],
      ['custom', t0],
      ['completed', t0],
    ]);
    expect(eventKindsIn(added[3]!)).toEqual([
      ['custom', t1],
      ['completed', t1],
    ]);
    expect(eventKindsIn(added[1]!)).toEqual([]);
    expect(outcome).toMatchObject({
      status: 'done',
      status_reason: 'natural',
      until_idle: { turns: 3, stopped_by: 'idle' },
      response: 'continuation 2',
    });
    // Lineage: both tasks carry the run and the tool call that started them.
    expect(summaries.map((s) => [s.parent_context?.run_id, s.parent_context?.call_id])).toEqual([
      ['run-1', 'c0'],
      ['run-1', 'c1'],
    ]);
  });

  it('property: over random completion timings nothing is seen twice or missed, one turn per task', async () => {
    await assertWithSeed(
      'untilIdle turns',
      fc.asyncProperty(planArb, async ({ emits, order, when, delay }) => {
        const n = emits.length;
        const trigger = new Array<number>(n).fill(1);
        // The continuation turn of the task at order[j-1] is model call 2 + j (calls 1, 2 are turn 1)
        // only if tasks end in order; "the previous task's turn" is therefore approximated by a
        // call number that surely happens: at most 2 + (number of tasks released earlier).
        order.forEach((task, j) => {
          const w = when[j]!;
          trigger[task] = w === 0 ? 1 : w === 1 || j === 0 ? 2 : 2 + j;
        });
        const { outcome, added, summaries } = await scenario({ emits, trigger, delay });
        const ids = summaries.map((s) => s.task_id);
        // Turn 1 saw no task events; then exactly one continuation per task.
        expect(eventKindsIn(added[0]!)).toEqual([]);
        expect(eventKindsIn(added[1]!)).toEqual([]);
        expect(added).toHaveLength(2 + n);
        const seen: string[] = [];
        for (const turn of added.slice(2)) {
          const events = eventKindsIn(turn);
          const tasks = new Set(events.map(([, id]) => id));
          expect(tasks.size).toBe(1);
          const [id] = [...tasks];
          const i = ids.indexOf(id!);
          expect(events).toEqual([
            ...Array.from({ length: emits[i]! }, () => ['custom', id]),
            ['completed', id],
          ]);
          seen.push(id!);
        }
        expect([...seen].sort()).toEqual([...ids].sort());
        expect(outcome.until_idle).toEqual({ turns: n + 1, stopped_by: 'idle' });
        expect(eventKindsIn(outcome.messages)).toHaveLength(emits.reduce((a, b) => a + b, 0) + n);
      }),
      runsFor(40),
    );
  });

  it('the turn bound holds: with maxTurns 2 and three tasks the run takes two turns and keeps the rest in its messages', async () => {
    const { outcome, added, requests } = await scenario(
      { emits: [1, 1, 1], trigger: [1, 1, 1], delay: [0, 0, 0] },
      2,
    );
    expect(requests).toHaveLength(3);
    expect(outcome.until_idle).toEqual({ turns: 2, stopped_by: 'max_turns' });
    // Every task ended, and what no turn showed was appended to the returned conversation, once.
    const shown = eventKindsIn(added.flat());
    const all = eventKindsIn(outcome.messages);
    expect(all).toHaveLength(6);
    expect(new Set(all.map(([k, id]) => `${k}:${id}`)).size).toBe(6);
    expect(shown.length).toBe(2);
    expect(outcome.status).toBe('waiting');
    expect(outcome.status_reason).toBe('awaiting_tasks');
  });

  it('maxIdleMs ends a run whose tasks do not end, waiting; the signal ends a waiting run cancelled', async () => {
    const inbox = createInbox();
    const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
    const start = spawnNamed(supervisor, 'start', parked as never);
    const model = scriptedModel([
      { toolCalls: [{ id: 'c0', name: 'start', args: {} }] },
      { text: 'waiting' },
      { toolCalls: [{ id: 'c1', name: 'start', args: {} }] },
      { text: 'waiting again' },
    ]);
    const idle = await runAgentLoop({
      model,
      supervisor,
      threadId: 't',
      tools: [start],
      inbox,
      untilIdle: { maxTurns: 5, maxIdleMs: 20 },
    });
    expect(idle).toMatchObject({
      status: 'waiting',
      status_reason: 'awaiting_tasks',
      until_idle: { turns: 1, stopped_by: 'max_idle' },
    });
    const ac = new AbortController();
    const running = runAgentLoop({
      model,
      supervisor,
      threadId: 't',
      tools: [start],
      inbox,
      signal: ac.signal,
      untilIdle: { maxTurns: 5 },
    });
    while (model.requests.length < 4) await hop(1);
    await hop(3);
    ac.abort();
    const out = await running;
    expect(out).toMatchObject({
      status: 'done',
      termination: 'cancelled',
      until_idle: { stopped_by: 'cancelled' },
    });
    await supervisor.stop();
  });

  it('a message in the inbox (not a task event) wakes the waiting run for a turn of its own; the task end gets the next', async () => {
    const inbox = createInbox();
    const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
    const start = spawnNamed(supervisor, 'start', parked as never);
    const scripted = scriptedModel([
      { toolCalls: [{ id: 'c0', name: 'start', args: {} }] },
      { text: 'waiting' },
      { text: 'heard you' },
      { text: 'task over' },
    ]);
    const model = (req: { messages: Message[]; tools: ToolDefinition[] }) => {
      // The user's nudge arrives during turn 1; the task is cancelled during the nudge's turn.
      if (scripted.requests.length === 1)
        void hop(2).then(() =>
          inbox.sender.send({ kind: 'messages', messages: [{ role: 'user', content: 'hurry up' }] }),
        );
      if (scripted.requests.length === 2) supervisor.cancelAll('t');
      return scripted(req);
    };
    const outcome = await runAgentLoop({
      model,
      supervisor,
      threadId: 't',
      tools: [start],
      inbox,
      untilIdle: { maxTurns: 5 },
    });
    expect(outcome.until_idle).toEqual({ turns: 3, stopped_by: 'idle' });
    const added = addedPerRequest(scripted.requests);
    expect(added[2]!.map((m) => m.content)).toEqual(['hurry up']);
    expect(eventKindsIn(added[3]!).map(([k]) => k)).toEqual(['cancelled']);
    await supervisor.stop();
  });

  it('a task asking for input wakes the run with what it emitted so far; its end after the answer is the next turn', async () => {
    const inbox = createInbox();
    const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
    const start = spawnNamed(supervisor, 'start', async (ctx) => {
      ctx.emit('progress', { step: 1 } as never);
      const answer = await (ctx as unknown as { requestInput(r: unknown): Promise<unknown> }).requestInput({
        question: 'deploy?',
      });
      return { answer };
    });
    const answer: ToolDefinition = {
      name: 'answer',
      description: 'answer the task',
      parameters: { type: 'object', properties: {} },
      validate: () => undefined,
      async execute() {
        const [task] = supervisor.list('t');
        return { ok: true, data: supervisor.provideInput(task!.task_id, 'yes') };
      },
    };
    const scripted = scriptedModel([
      { toolCalls: [{ id: 'c0', name: 'start', args: {} }] },
      { text: 'waiting' },
      { toolCalls: [{ id: 'c1', name: 'answer', args: {} }] },
      { text: 'answered' },
      { text: 'deployed' },
    ]);
    const outcome = await runAgentLoop({
      model: scripted,
      supervisor,
      threadId: 't',
      tools: [start, answer],
      inbox,
      untilIdle: { maxTurns: 5 },
    });
    expect(outcome.until_idle).toEqual({ turns: 3, stopped_by: 'idle' });
    const added = addedPerRequest(scripted.requests);
    expect(eventKindsIn(added[2]!).map(([k]) => k)).toEqual(['custom', 'custom']);
    expect(added[2]!.at(-1)!.content).toContain('"event_type":"input_required"');
    expect(eventKindsIn(added[4]!).map(([k]) => k)).toEqual(['completed']);
    expect(supervisor.list('t')[0]).toMatchObject({ status: 'completed', result: { answer: 'yes' } });
    await supervisor.stop();
  });

  it('an inbox closed while the run waits does not spin or hang: the run ends when the thread is idle', async () => {
    const inbox = createInbox();
    const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
    const g = gate();
    const start = spawnNamed(supervisor, 'start', async () => {
      await g.promise;
      return 1;
    });
    const scripted = scriptedModel([
      { toolCalls: [{ id: 'c0', name: 'start', args: {} }] },
      { text: 'waiting' },
    ]);
    const model = (req: { messages: Message[]; tools: ToolDefinition[] }) => {
      if (scripted.requests.length === 1)
        void hop(3).then(() => {
          inbox.receiver.close();
          return hop(3).then(() => g.open());
        });
      return scripted(req);
    };
    const outcome = await runAgentLoop({
      model,
      supervisor,
      threadId: 't',
      tools: [start],
      inbox,
      untilIdle: { maxTurns: 5 },
    });
    expect(outcome).toMatchObject({ status: 'done', until_idle: { turns: 1, stopped_by: 'idle' } });
    expect(supervisor.list('t')[0]?.status).toBe('completed');
    await supervisor.stop();
  });

  it('rejects untilIdle without an inbox and bad bounds with TypeError', async () => {
    const supervisor = createTaskSupervisor();
    const model = scriptedModel([]);
    await expect(
      runAgentLoop({ model, supervisor, threadId: 't', untilIdle: { maxTurns: 2 } }),
    ).rejects.toThrow('Expected `inbox` to be an inbox when `untilIdle` is set, got undefined');
    const inbox = createInbox();
    await expect(
      runAgentLoop({ model, supervisor, threadId: 't', inbox, untilIdle: { maxTurns: 0 } }),
    ).rejects.toThrow('Expected `untilIdle.maxTurns` to be a positive integer, got 0');
    await expect(
      runAgentLoop({ model, supervisor, threadId: 't', inbox, untilIdle: { maxIdleMs: -5 } }),
    ).rejects.toThrow('Expected `untilIdle.maxIdleMs` to be a non-negative number, got -5');
    await supervisor.stop();
  });
});
