// How to property-test your own task bodies with awaken-tasks/testing (fast-check is a peer dependency).
// Here "your code" is `withProgress`, a wrapper that reports start/end around any body.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { createInbox, createTaskSupervisor, type TaskContext, type TaskEvent } from '../src/index.js';
import {
  arbTaskScript,
  checkEventLog,
  createGates,
  expectedOutcome,
  scriptBody,
  settleMicrotasks,
} from '../src/testing/index.js';

const withProgress = (body: (ctx: TaskContext) => Promise<unknown>) => async (ctx: TaskContext) => {
  ctx.emit('started');
  try {
    return await body(ctx);
  } finally {
    ctx.emit('ended');
  }
};

it('withProgress keeps every lifecycle invariant, whatever the body does', async () => {
  const seed = Number(process.env.FC_SEED ?? Date.now());
  console.log(`seed ${seed} (replay: FC_SEED=${seed})`);
  await fc.assert(
    fc.asyncProperty(arbTaskScript({ maxDepth: 0 }), fc.boolean(), async (script, cancel) => {
      const inbox = createInbox();
      const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
      const gates = createGates(); // the script's "delays": released by the test, never timers
      const id = await supervisor.spawn(
        { threadId: 't', taskType: 'demo', description: '' },
        withProgress(scriptBody(script, { gates })),
      );
      // Cancel while the body is parked at a gate (else it may already have returned).
      const cancelled = cancel && script.steps.some((s) => s.kind === 'wait');
      if (cancelled) supervisor.cancel(id);
      while (gates.waiting().length > 0) {
        gates.releaseAll();
        await settleMicrotasks();
      }
      const summary = await supervisor.wait(id);
      const log = inbox.receiver.drain() as TaskEvent[];
      expect(checkEventLog(log, { expectTerminal: [id] })).toEqual({ ok: true });
      expect(log.filter((e) => e.kind === 'custom').at(-1)).toMatchObject({ event_type: 'ended' });
      expect(summary.status).toBe(expectedOutcome(script, { cancelRequested: cancelled }).status);
      await supervisor.stop();
    }),
    { seed, numRuns: 200 },
  );
});
