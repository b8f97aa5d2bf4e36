/**
 * streamUntilIdle over random completion timings (fast-check, seed logged; FC_SEED replays): N
 * tasks started in turn 1 end in random batches, each batch released when the model is called
 * (so some end during a turn, some between turns), after random delays. Each continuation turn
 * shows exactly one ended task; every task's end is seen exactly once — shown to the model, in
 * `unread`, or still in the inbox when `maxTurns` cut the call short — and the turn bound holds.
 */
import { jsonSchema } from 'ai';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { backgroundTaskTool } from '../../src/adapters/ai-sdk/index.js';
import { createInbox, createTaskSupervisor, type Json } from '../../src/index.js';
import { type Gate, gate } from '../helpers/async.js';
import { assertWithSeed, runsFor } from '../property/seed.js';
import { scriptedStreamingModel, streamToEnd } from './streamUntilIdleScenario.js';

const terminalIdOf = (e: Json): string | undefined => {
  const { kind, task_id } = e as { kind?: string; task_id?: string };
  return kind === 'completed' ? task_id : undefined;
};

it('each task end: one continuation that sees exactly it, never twice, never missed; the bound holds', async () => {
  const arb = fc.integer({ min: 1, max: 4 }).chain((n) =>
    fc.record({
      n: fc.constant(n),
      // How many more tasks are released at each model call from turn 1's second step on (≥ 1).
      batches: fc.array(fc.integer({ min: 1, max: n }), { minLength: n, maxLength: n }),
      delays: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
      emits: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n, maxLength: n }),
      maxTurns: fc.integer({ min: 1, max: n + 2 }),
    }),
  );
  await assertWithSeed(
    'streamUntilIdle.timings',
    fc.asyncProperty(arb, async ({ n, batches, delays, emits, maxTurns }) => {
      const inbox = createInbox();
      const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
      const gates: Gate<void>[] = Array.from({ length: n }, () => gate<void>());
      const job = backgroundTaskTool({
        supervisor,
        context: { threadId: 't', runId: 'r' },
        name: 'job',
        description: 'a job',
        inputSchema: jsonSchema<{ i: number }>({ type: 'object', properties: { i: { type: 'number' } } }),
        run: async ({ i }, task) => {
          for (let k = 0; k < emits[i]!; k++) task.emit('progress', { i, k });
          await gates[i]!.promise;
          for (let k = 0; k < delays[i]!; k++) await new Promise((r) => setImmediate(r));
          return i;
        },
      });
      let released = 0;
      let batch = 0;
      const steps = [
        () => ({ calls: Array.from({ length: n }, (_, i) => ({ name: 'job', input: { i } })) }),
        ...Array.from({ length: n + 2 }, (_, k) => () => ({ text: `turn ${k + 1}` })),
      ];
      const { model, prompts } = scriptedStreamingModel(steps, (call) => {
        if (call < 2) return;
        const upTo = Math.min(n, released + (batches[batch++] ?? n));
        for (; released < upTo; released++) gates[released]!.open();
      });
      const { outcome, chunks } = await streamToEnd(
        model,
        { job },
        {
          supervisor,
          threadId: 't',
          inbox: inbox.receiver,
          messages: [{ role: 'user', content: 'go' }],
          maxTurns,
        },
      );

      const ids = supervisor.list('t').map((s) => s.task_id);
      expect(ids).toHaveLength(n);
      expect(outcome!.turns).toBe(Math.min(maxTurns, n + 1));
      expect(outcome!.reason).toBe(maxTurns >= n + 1 ? 'idle' : 'max_turns');
      expect(prompts).toHaveLength(outcome!.turns + 1);
      // Each continuation's injected messages are about exactly one task, which ended.
      const injected = outcome!.messages.filter((m) => m.role === 'user').map((m) => String(m.content));
      const shown: string[] = [];
      for (const m of injected) {
        const about = ids.filter((id) => m.includes(`task_id="${id}"`));
        expect(about).toHaveLength(1);
        if (m.includes('<background-task-event kind="completed"')) shown.push(about[0]!);
      }
      expect(shown).toHaveLength(outcome!.turns - 1);
      // The rest: drained but unshown, or still in the inbox once every task has ended.
      for (const g of gates) g.open();
      for (const id of ids) await supervisor.wait(id);
      await supervisor.whenIdle('t');
      const unread = outcome!.unread.flatMap((e) => terminalIdOf(e) ?? []);
      const left = inbox.receiver.drain().flatMap((e) => terminalIdOf(e) ?? []);
      expect([...shown, ...unread, ...left].sort()).toEqual([...ids].sort());
      // Every task had its card, last written as completed when the call ran to idle.
      const cardIds = new Set(
        chunks.filter((c) => c.type === 'data-task').map((c) => (c as { id: string }).id),
      );
      expect(cardIds).toEqual(new Set(ids));
      expect(chunks.filter((c) => c.type === 'finish')).toHaveLength(1);
      await supervisor.stop();
    }),
    runsFor(40),
  );
}, 120_000);
