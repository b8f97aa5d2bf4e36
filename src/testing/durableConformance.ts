import type { DurableRow, DurableTaskStore } from '../stores/durable.js';
import type { TaskStore } from '../stores/types.js';
import { sameJson } from '../wire/sameJson.js';

type Check = (durable: DurableTaskStore, tag: string) => Promise<void>;

class CheckFailed extends Error {}

function ensure(ok: boolean, detail: string): asserts ok {
  if (!ok) throw new CheckFailed(detail);
}

function row(tag: string, id: string, extra: Partial<DurableRow> = {}): DurableRow {
  return {
    task_id: id,
    thread_id: `${tag}-thread`,
    task_type: `${tag}-type`,
    record: {
      task_id: id,
      owner_thread_id: `${tag}-thread`,
      task_type: `${tag}-type`,
      description: 'durable',
      status: 'running',
      created_at_ms: 1000,
      parent_context: {},
      attempt: 0,
      max_attempts: 3,
    },
    input: { url: 'https://example.com', n: [1, 2.5, null, '𝄞'] },
    state: 'waiting',
    attempt: 0,
    max_attempts: 3,
    next_run_at_ms: 1000,
    attempt_errors: [],
    ...extra,
  };
}

const CHECKS: ReadonlyArray<readonly [string, Check]> = [
  [
    'a row round-trips exactly; pending lists the type in creation order',
    async (d, tag) => {
      const a = row(tag, `${tag}-a`, { idempotency_key: 'k' });
      const b = row(tag, `${tag}-b`);
      ensure((await d.create(a)).created, 'create of a new row did not create it');
      await d.create(b);
      ensure(sameJson(await d.get(a.task_id), a), `get returned ${JSON.stringify(await d.get(a.task_id))}`);
      const pending = (await d.pending(a.task_type)).map((r) => r.task_id);
      ensure(sameJson(pending, [a.task_id, b.task_id]), `pending: ${JSON.stringify(pending)}`);
      await d.finish(a.task_id);
      const after = (await d.pending(a.task_type)).map((r) => r.task_id);
      ensure(sameJson(after, [b.task_id]), `pending after finish: ${JSON.stringify(after)}`);
    },
  ],
  [
    'an idempotency key is unique per thread: a second create reports the first task',
    async (d, tag) => {
      const first = row(tag, `${tag}-1`, { idempotency_key: 'order-9' });
      ensure((await d.create(first)).created, 'first create');
      const again = await d.create(row(tag, `${tag}-2`, { idempotency_key: 'order-9' }));
      ensure(!again.created && again.taskId === first.task_id, `second create: ${JSON.stringify(again)}`);
      ensure((await d.get(`${tag}-2`)) === undefined, 'the refused row was stored');
      const other = await d.create(
        row(tag, `${tag}-3`, { idempotency_key: 'order-9', thread_id: `${tag}-other` }),
      );
      ensure(other.created, 'the same key in another thread was refused');
      const racing = await Promise.all(
        Array.from({ length: 20 }, (_, i) => d.create(row(tag, `${tag}-r${i}`, { idempotency_key: 'race' }))),
      );
      ensure(
        racing.filter((r) => r.created).length === 1,
        'concurrent creates with one key made several rows',
      );
    },
  ],
  [
    'claim is one conditional update: waiting, the expected attempt, and due',
    async (d, tag) => {
      const r = row(tag, `${tag}-c`, { next_run_at_ms: 5000 });
      await d.create(r);
      ensure((await d.claim(r.task_id, 0, 'a', 4999)) === undefined, 'claimed before its run time');
      const got = await d.claim(r.task_id, 0, 'a', 5000);
      ensure(
        got?.state === 'running' && got.attempt === 1 && got.owner === 'a',
        `claim: ${JSON.stringify(got)}`,
      );
      ensure((await d.claim(r.task_id, 0, 'b', 9999)) === undefined, 'attempt 1 was claimed twice');
      ensure((await d.claim(r.task_id, 1, 'b', 9999)) === undefined, 'a running row was claimed');
      const racing = row(tag, `${tag}-race`);
      await d.create(racing);
      const wins = await Promise.all(['x', 'y', 'z'].map((o) => d.claim(racing.task_id, 0, o, 2000)));
      ensure(wins.filter((w) => w !== undefined).length === 1, 'concurrent claims of one attempt both won');
    },
  ],
  [
    'release and steps are fenced by (attempt, owner)',
    async (d, tag) => {
      const r = row(tag, `${tag}-f`);
      await d.create(r);
      await d.claim(r.task_id, 0, 'a', 1000);
      ensure((await d.setStep(r.task_id, 1, 'b', 's', 1, false)) === undefined, 'another owner wrote a step');
      ensure(
        (await d.setStep(r.task_id, 2, 'a', 's', 1, false)) === undefined,
        'another attempt wrote a step',
      );
      const kept = await d.setStep(r.task_id, 1, 'a', 's', { v: 1 }, false);
      ensure(sameJson(kept, { value: { v: 1 } }), `setStep: ${JSON.stringify(kept)}`);
      const second = await d.setStep(r.task_id, 1, 'a', 's', { v: 2 }, false);
      ensure(sameJson(second, { value: { v: 1 } }), 'a step was recorded twice (the first value must stay)');
      await d.setStep(r.task_id, 1, 'a', 'cp', 1, true);
      await d.setStep(r.task_id, 1, 'a', 'cp', 2, true);
      ensure(sameJson(await d.steps(r.task_id), { s: { v: 1 }, cp: 2 }), 'steps or checkpoints lost');
      ensure(!(await d.release(r.task_id, 1, 'b', 'x', 2000)), 'another owner released the attempt');
      ensure(await d.release(r.task_id, 1, 'a', 'boom', 2000), 'the owner could not release');
      const w = await d.get(r.task_id);
      ensure(
        w?.state === 'waiting' &&
          w.next_run_at_ms === 2000 &&
          sameJson(w.attempt_errors, ['boom']) &&
          w.owner === undefined,
        `after release: ${JSON.stringify(w)}`,
      );
      ensure(!(await d.release(r.task_id, 1, 'a', 'again', 3000)), 'a released attempt was released again');
      ensure(
        (await d.setStep(r.task_id, 1, 'a', 'late', 1, false)) === undefined,
        'a released attempt wrote a step',
      );
      await d.claim(r.task_id, 1, 'b', 2000);
      ensure(await d.release(r.task_id, 2, 'b', 'last', undefined), 'final release');
      const done = await d.get(r.task_id);
      ensure(
        done?.state === 'done' && sameJson(done.attempt_errors, ['boom', 'last']),
        `final: ${JSON.stringify(done)}`,
      );
      await d.remove(r.task_id);
      ensure(
        (await d.get(r.task_id)) === undefined && sameJson(await d.steps(r.task_id), {}),
        'remove left data',
      );
    },
  ],
  [
    'two attempts race on one task: the holder writes, the stale attempt is refused, a step keeps one value',
    async (d, tag) => {
      const r = row(tag, `${tag}-race`);
      await d.create(r);
      await d.claim(r.task_id, 0, 'a', 1000);
      const n = 8;
      const each = <T>(f: (i: number) => Promise<T>) =>
        Promise.all(Array.from({ length: n }, (_, i) => f(i)));
      // Attempt 1 writes while it is handed over: a write that lands before the release is its
      // right, every one after must be refused.
      const racing = each((i) => d.setStep(r.task_id, 1, 'a', 'cp', { a: i }, true));
      ensure(await d.release(r.task_id, 1, 'a', 'lost', 1000), 'the holder could not release');
      ensure((await d.claim(r.task_id, 1, 'b', 1000))?.attempt === 2, 'attempt 2 was not claimed');
      const [cp, steps, stale, staleSteps] = await Promise.all([
        each((i) => d.setStep(r.task_id, 2, 'b', 'cp', { b: i }, true)),
        each((i) => d.setStep(r.task_id, 2, 'b', 'x', { b: i }, false)),
        each((i) => d.setStep(r.task_id, 1, 'a', 'cp', { late: i }, true)),
        each((i) => d.setStep(r.task_id, 1, 'a', 'x', { late: i }, false)),
      ]);
      await racing;
      ensure(
        stale.every((w) => w === undefined) && staleSteps.every((w) => w === undefined),
        `the stale attempt wrote while attempt 2 held the task: ${JSON.stringify([stale, staleSteps])}`,
      );
      ensure(
        cp.every((w) => w !== undefined),
        "the holder's checkpoint writes were refused",
      );
      const first = steps[0]?.value;
      ensure(
        steps.every((w) => w !== undefined && sameJson(w.value, first)),
        `concurrent writes of one step returned different values (the first must stay): ${JSON.stringify(steps)}`,
      );
      const stored = await d.steps(r.task_id);
      ensure(
        sameJson(stored.x, first) && steps.some((_, i) => sameJson(first, { b: i })),
        `the step stored ${JSON.stringify(stored.x)}, its writes returned ${JSON.stringify(first)}`,
      );
      ensure(
        cp.some((_, i) => sameJson(stored.cp, { b: i })),
        `a stale write overwrote the holder's checkpoint: ${JSON.stringify(stored.cp)}`,
      );
    },
  ],
];

/**
 * The checks of a store's `durable` rows (run by `storeConformance` when the store has them):
 * exact round trip, per-thread idempotency keys under concurrency, the one conditional claim, the
 * (attempt, owner) fence on releases, steps and checkpoints, and two attempts racing on one task
 * (the holder's writes land, the stale one's are refused, concurrent writes of one step keep one
 * value). Rejects on the first failure.
 *
 * @example
 * await durableConformance(() => new SqliteTaskStore(':memory:'));
 */
export async function durableConformance(
  makeStore: () => TaskStore | Promise<TaskStore>,
  run: string,
): Promise<void> {
  for (const [i, [name, check]] of CHECKS.entries()) {
    const store = await makeStore();
    try {
      if (store.durable === undefined) return;
      await check(store.durable, `dur-${run}-${i}`);
    } catch (e) {
      const detail =
        e instanceof CheckFailed ? e.message : `threw ${e instanceof Error ? e.stack : String(e)}`;
      throw new Error(`storeConformance: durable check "${name}" failed: ${detail}`, { cause: e });
    } finally {
      await store.close?.();
    }
  }
}
