import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createInbox,
  createTaskSupervisor,
  type Json,
  type TaskEvent,
  type TaskId,
} from '../../src/index.js';
import {
  arbTaskScript,
  checkEventLog,
  createGates,
  expectedOutcome,
  scriptBody,
  scriptEmits,
  settleMicrotasks,
  type TaskScript,
} from '../../src/testing/index.js';
import { assertWithSeed } from '../property/seed.js';

/** Spawns `script` (and its nested children) on a fresh supervisor; `cancelAfter` releases, then cancels the tree. */
async function play(script: TaskScript, releases: number[], cancelAfter: number | undefined) {
  const inbox = createInbox();
  const sup = createTaskSupervisor({ ownerInbox: inbox.sender, cancelGraceMs: 2_000_000_000 });
  const gates = createGates();
  const scripts = new Map<TaskId, TaskScript>();
  const root = await sup.spawn(
    { threadId: 'thread-1', taskType: 'script', description: '' },
    scriptBody(script, { gates, supervisor: sup, onSpawn: (id, s) => scripts.set(id, s) }),
  );
  scripts.set(root, script);
  let cancelled = new Set<TaskId>();
  for (let step = 0; ; step++) {
    await settleMicrotasks();
    if (step === cancelAfter) {
      cancelled = new Set([...scripts.keys()].filter((id) => sup.get(id)?.status === 'running'));
      sup.cancelTree(root);
      await settleMicrotasks();
    }
    const waiting = gates.waiting();
    if (waiting.length === 0) break;
    gates.release(waiting[(releases[step] ?? 0) % waiting.length]!);
  }
  for (const id of scripts.keys()) await sup.wait(id);
  await sup.stop();
  return { scripts, cancelled, log: inbox.receiver.drain() as TaskEvent[], sup };
}

// Any JSON, own "__proto__" keys included (JSON.parse makes them; the runtime must keep them).
const payload = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;

describe('arbTaskScript + scriptBody on a real supervisor', () => {
  it('every task ends as expectedOutcome says, emits scriptEmits, and the log keeps the invariants', async () => {
    await assertWithSeed(
      'taskScript',
      fc.asyncProperty(
        arbTaskScript({ maxDepth: 2, payload }),
        fc.array(fc.nat(), { maxLength: 30 }),
        async (script, releases) => {
          const { scripts, log, sup } = await play(script, releases, undefined);
          expect(checkEventLog(log, { expectTerminal: scripts.keys() })).toEqual({ ok: true });
          for (const [id, s] of scripts) {
            const want = expectedOutcome(s);
            const got = sup.get(id)!;
            expect(got.status).toBe(want.status);
            const mine = log.filter((e) => e.task_id === id);
            const customs = mine.filter(
              (e): e is Extract<TaskEvent, { kind: 'custom' }> => e.kind === 'custom',
            );
            expect(customs.map((e) => ({ event_type: e.event_type, payload: e.payload }))).toEqual(
              scriptEmits(s),
            );
            expect(mine.at(-1)).toEqual({
              kind: want.status,
              task_id: id,
              ...(want.status === 'completed' ? { result: want.result } : {}),
              ...(want.error === undefined ? {} : { error: want.error }),
            });
          }
        },
      ),
      300,
    );
  }, 120_000);

  it('cancelTree mid-way: cooperative scripts end cancelled, the others by their outcome read after a cancel', async () => {
    await assertWithSeed(
      'taskScript.cancel',
      fc.asyncProperty(
        arbTaskScript({ maxDepth: 2, payload }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.nat(4),
        async (script, releases, at) => {
          const { scripts, cancelled, log, sup } = await play(script, releases, at);
          expect(checkEventLog(log, { expectTerminal: scripts.keys() })).toEqual({ ok: true });
          for (const id of cancelled) {
            expect(sup.get(id)!.status).toBe(
              expectedOutcome(scripts.get(id)!, { cancelRequested: true }).status,
            );
            const customs = log
              .filter(
                (e): e is Extract<TaskEvent, { kind: 'custom' }> => e.task_id === id && e.kind === 'custom',
              )
              .map((e) => ({ event_type: e.event_type, payload: e.payload }));
            expect(scriptEmits(scripts.get(id)!).slice(0, customs.length)).toEqual(customs);
          }
        },
      ),
      300,
    );
  }, 120_000);
});
