/**
 * Point XState's inspection stream at a live supervisor: task actors appear (`@xstate.actor`),
 * change state (`@xstate.snapshot`) and finish. Swap the listener for `@statelyai/inspect`'s
 * `inspector.inspect` to watch them in the Stately inspector.
 *
 * Run it through its test, `npx vitest run test/cli/inspect.test.ts`, or import `inspectDemo`.
 *
 * @example
 * const lines = await inspectDemo();
 * // ['actor bg_0 started', 'bg_0 → running.active', 'bg_0 → completed (done)', …]
 */
import type { InspectionEvent } from 'xstate';
import { createTaskSupervisor, TaskResult } from '../src/index.js';
import { dottedState } from '../src/graph/lifecycle.js';

/** Runs two tasks (one cancelled) under an inspected supervisor; returns what the listener printed. */
export async function inspectDemo(log: (line: string) => void = console.log): Promise<string[]> {
  const lines: string[] = [];
  const print = (line: string): void => {
    lines.push(line);
    log(line);
  };
  const inspect = (ev: InspectionEvent): void => {
    const id = (ev.actorRef as { id?: string }).id ?? '';
    if (!/^bg_\d+$/.test(id)) return; // only task actors, not the supervisor itself
    if (ev.type === '@xstate.actor') print(`actor ${id} started`);
    if (ev.type === '@xstate.snapshot') {
      const snap = ev.snapshot as { value?: Parameters<typeof dottedState>[0]; status?: string };
      if (snap.value !== undefined)
        print(`${id} → ${dottedState(snap.value)}${snap.status === 'done' ? ' (done)' : ''}`);
    }
  };
  const supervisor = createTaskSupervisor({ inspect, cancelGraceMs: 1000 });
  const quick = await supervisor.spawn(
    { threadId: 't', taskType: 'quick', description: 'returns at once' },
    () => 42,
  );
  const slow = await supervisor.spawn(
    { threadId: 't', taskType: 'slow', description: 'waits to be cancelled' },
    async (ctx) => {
      await ctx.cancelled();
      return TaskResult.cancelled(); // cooperative: the body acknowledges the cancellation
    },
  );
  await supervisor.wait(quick);
  supervisor.cancel(slow);
  await supervisor.wait(slow);
  await supervisor.stop();
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) await inspectDemo();
