import type { MessageOutboxStore } from '../stores/outbox.js';
import type { TaskStore } from '../stores/types.js';
import type { DurableMessageRequest, OutboxEntry } from '../wire/messaging.js';

type Check = (outbox: MessageOutboxStore, tag: string) => Promise<void>;

function ensure(ok: boolean, detail: string): asserts ok {
  if (!ok) throw new Error(detail);
}

const show = (v: unknown): string => JSON.stringify(v);

/** Key-order-insensitive JSON rendering (PostgreSQL's jsonb does not keep key order). */
function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );
}

function request(tag: string, id: string): DurableMessageRequest {
  return {
    message_id: id,
    recipient_thread_id: `${tag}-recipient`,
    recipient_agent_id: null,
    sender_agent_id: 'sender',
    message: `text of ${id}`,
  };
}

function durable(tag: string, id: string, attempts = 0): OutboxEntry {
  return { id, route: { Durable: request(tag, id) }, attempts };
}

const ids = (entries: readonly { id: string }[]) => entries.map((e) => e.id);
const letterIds = (letters: readonly { request: { message_id: string } }[]) =>
  letters.map((l) => l.request.message_id);

/** The outbox checks, each with its name; `tag` makes thread and message ids unique per run. */
export const OUTBOX_CHECKS: ReadonlyArray<readonly [string, Check]> = [
  [
    'outbox keeps insertion order per thread and de-duplicates by id',
    async (o, tag) => {
      const t = `${tag}-a`;
      const child: OutboxEntry = {
        id: 'c1',
        route: { ChildInbox: { task_id: 'bg_1', owner_thread_id: t, sender_agent_id: '', message: 'hi' } },
        attempts: 0,
      };
      ensure(await o.enqueue(t, durable(tag, 'm1')), 'enqueue m1 reported a duplicate');
      ensure(await o.enqueue(t, child), 'enqueue c1 reported a duplicate');
      ensure(await o.enqueue(t, durable(tag, 'm2')), 'enqueue m2 reported a duplicate');
      ensure(!(await o.enqueue(t, durable(tag, 'm1'))), 'a second m1 was enqueued');
      await o.enqueue(`${tag}-b`, durable(tag, 'm1'));
      const pending = await o.pending(t);
      ensure(show(ids(pending)) === show(['m1', 'c1', 'm2']), `pending order ${show(ids(pending))}`);
      ensure(canon(pending[1]) === canon(child), `child entry round-trip ${show(pending[1])}`);
      ensure(canon(pending[0]) === canon(durable(tag, 'm1')), `durable entry round-trip ${show(pending[0])}`);
      ensure(ids(await o.pending(`${tag}-b`)).length === 1, 'threads are not separate');
    },
  ],
  [
    'wasDelivered answers for removed entries only, per thread, on a fresh read',
    async (o, tag) => {
      if (o.wasDelivered === undefined) return;
      const t = `${tag}-a`;
      for (const id of ['m1', 'm2', 'm3']) await o.enqueue(t, durable(tag, id));
      ensure(!(await o.wasDelivered(t, 'm1')), 'a pending entry reads delivered');
      await o.dispatch(t, async (e) =>
        e.id === 'm1'
          ? { kind: 'remove' }
          : e.id === 'm2'
            ? { kind: 'retry' }
            : { kind: 'dead_letter', error: 'x' },
      );
      ensure(await o.wasDelivered(t, 'm1'), 'a removed entry does not read delivered');
      ensure(!(await o.wasDelivered(t, 'm2')), 'a retried entry reads delivered');
      ensure(!(await o.wasDelivered(t, 'm3')), 'a dead letter reads delivered');
      ensure(!(await o.wasDelivered(`${tag}-b`, 'm1')), 'delivered ids are not per thread');
      ensure(!(await o.wasDelivered(t, 'zz')), 'an unknown id reads delivered');
      ensure(!(await o.remove(t, 'm1')), 'remove of a delivered id returned true');
    },
  ],
  [
    'retry moves to the tail with attempts + 1; remove drops',
    async (o, tag) => {
      const t = `${tag}-a`;
      for (const id of ['m1', 'm2', 'm3']) await o.enqueue(t, durable(tag, id));
      ensure(await o.retry(t, 'm1'), 'retry m1 returned false');
      const after = await o.pending(t);
      ensure(show(ids(after)) === show(['m2', 'm3', 'm1']), `after retry ${show(ids(after))}`);
      ensure(after[2]?.attempts === 1, `attempts after retry ${after[2]?.attempts}`);
      ensure(await o.remove(t, 'm2'), 'remove m2 returned false');
      ensure(!(await o.remove(t, 'm2')), 'remove of a missing id returned true');
      ensure(!(await o.retry(t, 'zz')), 'retry of a missing id returned true');
      ensure(show(ids(await o.pending(t))) === show(['m3', 'm1']), 'remove dropped the wrong entry');
    },
  ],
  [
    'deadLetter moves an entry to the dead letters with its reason, atomically',
    async (o, tag) => {
      const t = `${tag}-a`;
      await o.enqueue(t, durable(tag, 'm1', 4));
      await o.enqueue(t, durable(tag, 'm2'));
      ensure(await o.deadLetter(t, 'm1', 'sink down'), 'deadLetter returned false');
      ensure(show(ids(await o.pending(t))) === show(['m2']), 'the dead letter stayed pending');
      const letters = await o.deadLetters(t);
      ensure(
        canon(letters) === canon([{ request: request(tag, 'm1'), error: 'sink down' }]),
        `dead letters ${show(letters)}`,
      );
      ensure((await o.deadLetterCount(t)) === 1, 'deadLetterCount(thread)');
      ensure((await o.deadLetterCount()) >= 1, 'deadLetterCount()');
    },
  ],
  [
    'a child-route entry dead-letters with its recipient task and replays as a child entry',
    async (o, tag) => {
      const t = `${tag}-a`;
      const child: OutboxEntry = {
        id: 'c1',
        route: {
          ChildInbox: { task_id: 'bg_7', owner_thread_id: t, sender_agent_id: 'lead', message: 'hi' },
        },
        attempts: 0,
      };
      await o.enqueue(t, child);
      ensure(await o.deadLetter(t, 'c1', 'recipient_finished: gone'), 'deadLetter(child) returned false');
      ensure((await o.pending(t)).length === 0, 'the child dead letter stayed pending');
      const letters = await o.deadLetters(t);
      const expected = {
        request: {
          message_id: 'c1',
          recipient_thread_id: t,
          recipient_agent_id: null,
          sender_agent_id: 'lead',
          message: 'hi',
        },
        error: 'recipient_finished: gone',
        task_id: 'bg_7',
      };
      ensure(canon(letters) === canon([expected]), `child dead letters ${show(letters)}`);
      ensure((await o.replay(t, ['c1'])) === 1, 'replay(child) count');
      const pending = await o.pending(t);
      ensure(canon(pending) === canon([child]), `replayed child entry ${show(pending)}`);
    },
  ],
  [
    'replay and clear act on exactly the listed ids',
    async (o, tag) => {
      const t = `${tag}-a`;
      for (const id of ['m1', 'm2', 'm3', 'm4']) {
        await o.enqueue(t, durable(tag, id, 2));
        await o.deadLetter(t, id, 'down');
      }
      await o.enqueue(t, durable(tag, 'm2', 1)); // already pending again: replay must not duplicate it
      const replayed = await o.replay(t, ['m1', 'm2', 'nope']);
      ensure(replayed === 2, `replay count ${replayed}`);
      const pending = await o.pending(t);
      ensure(show(ids(pending)) === show(['m2', 'm1']), `pending after replay ${show(ids(pending))}`);
      ensure(pending[1]?.attempts === 0, 'a replayed entry did not get a fresh budget');
      ensure(
        show(letterIds(await o.deadLetters(t))) === show(['m3', 'm4']),
        'replay touched unlisted letters',
      );
      const cleared = await o.clear(t, ['m4', 'm1']);
      ensure(cleared === 1, `clear count ${cleared}`);
      ensure(show(letterIds(await o.deadLetters(t))) === show(['m3']), 'clear touched unlisted letters');
      ensure((await o.replay(t, [])) === 0 && (await o.clear(t, [])) === 0, 'empty lists changed something');
    },
  ],
  [
    'dispatch hands each entry to one caller and applies verdicts in order',
    async (o, tag) => {
      const t = `${tag}-a`;
      for (const id of ['m1', 'm2', 'm3']) await o.enqueue(t, durable(tag, id));
      const seen: string[] = [];
      let release: () => void = () => undefined;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let handedOut: () => void = () => undefined;
      const handed = new Promise<void>((r) => {
        handedOut = r;
      });
      const first = o.dispatch(t, async (e) => {
        seen.push(e.id);
        handedOut();
        if (e.id === 'm1') await held;
        return e.id === 'm2'
          ? { kind: 'retry' }
          : e.id === 'm3'
            ? { kind: 'dead_letter', error: 'x' }
            : { kind: 'remove' };
      });
      // Wait until the first pass holds m1, however long the store takes to hand it out (a
      // database under load can take seconds), then a concurrent pass must skip it. A pass that
      // ends (or fails) without handing anything out ends the wait too.
      await Promise.race([
        handed,
        first.then(
          () => undefined,
          () => undefined,
        ),
      ]);
      ensure(seen.length > 0, 'the first dispatch pass handed out nothing');
      const second: string[] = [];
      await o.dispatch(t, async (e) => {
        second.push(e.id);
        return { kind: 'retry' };
      });
      release();
      await first;
      ensure(!second.includes('m1'), `a held entry was dispatched twice: ${show(second)}`);
      ensure(seen[0] === 'm1', `dispatch order ${show(seen)}`);
      const pending = await o.pending(t);
      ensure(!ids(pending).includes('m1'), 'a removed entry stayed pending');
    },
  ],
  [
    'deliver stores a message once per message_id and takeDelivered hands it out once',
    async (o, tag) => {
      const r = request(tag, `${tag}-d1`);
      const first = await o.deliver(r);
      ensure(typeof first === 'string' && first !== '', 'deliver returned no dispatch id');
      ensure((await o.deliver(r)) === first, 'a redelivery returned another dispatch id');
      const all = await o.delivered(r.recipient_thread_id);
      ensure(all.length === 1, `delivered ${all.length} copies`);
      ensure(canon(all[0]) === canon({ ...r, dispatch_id: first }), `delivered ${show(all[0])}`);
      const taken = await o.takeDelivered(r.recipient_thread_id);
      ensure(taken.length === 1 && taken[0]?.message_id === r.message_id, 'takeDelivered missed it');
      ensure(
        (await o.takeDelivered(r.recipient_thread_id)).length === 0,
        'takeDelivered handed it out twice',
      );
      await o.deliver(r);
      ensure(
        (await o.takeDelivered(r.recipient_thread_id)).length === 0,
        'a redelivery was handed out again',
      );
    },
  ],
];

/**
 * Runs the outbox checks on the `messages` of stores made by `makeStore` (skipped when a store has
 * none); resolves, or rejects naming the first failed check.
 *
 * @example
 * await outboxConformance(() => new MemoryTaskStore());
 */
export async function outboxConformance(
  makeStore: () => TaskStore | Promise<TaskStore>,
  run: string,
): Promise<void> {
  for (const [i, [name, check]] of OUTBOX_CHECKS.entries()) {
    const store = await makeStore();
    try {
      if (store.messages !== undefined) await check(store.messages, `ob-${run}-${i}`);
    } catch (e) {
      throw new Error(
        `storeConformance: check "${name}" failed: ${e instanceof Error ? e.message : String(e)}`,
        {
          cause: e,
        },
      );
    } finally {
      await store.close?.();
    }
  }
}
