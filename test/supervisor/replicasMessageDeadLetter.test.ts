import { describe, expect, it } from 'vitest';
import { dispatchOutbox, messageDeliveryStatus } from '../../src/agent/index.js';
import { createTaskSupervisor } from '../../src/index.js';
import type { ControlRequest } from '../../src/stores/coordination.js';
import type { TaskSupervisor } from '../../src/supervisor/types.js';
import type { OutboxEntry } from '../../src/wire/messaging.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';

requirePostgres('test/supervisor/replicasMessageDeadLetter.test.ts');

type Gate = { held: ControlRequest[]; release: () => void };

/** Holds the control requests `s` would apply until `release` (the owner is slow to apply them). */
function gateControl(s: TaskSupervisor): Gate {
  const link = (s as unknown as { replicas: { control(r: readonly ControlRequest[]): void } }).replicas;
  const apply = link.control.bind(link);
  const gate: Gate = {
    held: [],
    release: () => {
      link.control = apply;
      apply(gate.held);
    },
  };
  link.control = (requests) => {
    gate.held.push(...requests);
  };
  return gate;
}

const childEntry = (id: string, taskId: string, message: string): OutboxEntry => ({
  id,
  route: { ChildInbox: { task_id: taskId, owner_thread_id: 'T', sender_agent_id: 'parent', message } },
  attempts: 0,
});

/** Two replicas in one process on one database: the sender on B, the sub-agent on A. */
describe.skipIf(!pgUrl)('a message routed to a sub-agent on another replica (PostgreSQL)', () => {
  const { pool, table, store } = pgSuite();

  async function twoReplicas() {
    const t = table('msgdl');
    const a = createTaskSupervisor({ store: store(t) });
    const b = createTaskSupervisor({ store: store(t) });
    let finish!: () => void;
    const finished = new Promise<void>((r) => {
      finish = r;
    });
    const got: unknown[] = [];
    const id = await a.spawnAgent({ threadId: 'T', name: 'kid', description: 'k' }, async (ctx) => {
      const first = await Promise.race([ctx.inboxReceiver.recv(ctx.signal), finished.then(() => null)]);
      if (first !== null) got.push(first);
      await finished;
      return 'done';
    });
    expect(await b.loadThread('T')).toBe(1);
    return { t, a, b, id, finish, got };
  }

  it('issue 24: the sub-agent ends before its owner applies the message: a dead letter with the reason in the sender outbox, on every replica', async () => {
    const { a, b, id, finish, got } = await twoReplicas();
    const gate = gateControl(a);
    await b.messages.enqueue('T', childEntry('m-late', id, 'too late'));
    // B still sees the sub-agent running: the message is routed through the database and leaves B's outbox.
    expect(await dispatchOutbox({ supervisor: b, outbox: b.messages, threadId: 'T' })).toBe(1);
    expect(await b.messages.pending('T')).toEqual([]);
    await until(() => gate.held.length === 1, 5_000, 'A to take the routed message');
    expect(gate.held[0]).toMatchObject({ kind: 'message', taskId: id, messageId: 'm-late' });
    finish();
    expect((await a.wait(id)).status).toBe('completed');
    gate.release();
    const error = `recipient_finished: task ${id} already completed: it takes no more messages`;
    let letters = await b.messages.deadLetters('T');
    await until(
      async () => (letters = await b.messages.deadLetters('T')).length > 0,
      5_000,
      'the dead letter to be stored',
    );
    expect(letters).toEqual([
      {
        request: {
          message_id: 'm-late',
          recipient_thread_id: 'T',
          recipient_agent_id: null,
          sender_agent_id: 'parent',
          message: 'too late',
        },
        task_id: id,
        error,
      },
    ]);
    expect(await b.messages.pending('T')).toEqual([]);
    expect(got).toEqual([]);
    for (const s of [a, b])
      expect(await messageDeliveryStatus(s.messages, 'T', 'm-late')).toEqual({
        message_id: 'm-late',
        status: 'dead_letter',
        error,
      });
  });

  it('issue 24: the owner fails the message while the sender dispatch still holds the entry: the dead letter waits for its commit', async () => {
    const { t, a, b, id, finish } = await twoReplicas();
    const gate = gateControl(a);
    await b.messages.enqueue('T', childEntry('m-held', id, 'racing'));
    const handled = await b.messages.dispatch('T', async (entry) => {
      b.sendTaskInboxMessage(id, 'T', 'parent', 'racing', { messageId: entry.id });
      await until(() => gate.held.length === 1, 5_000, 'A to take the routed message');
      finish();
      expect((await a.wait(id)).status).toBe('completed');
      gate.release();
      // A's dead letter blocks on this dispatch's row lock until the verdict below commits.
      await until(
        async () =>
          (
            await pool.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
              [`%${t}_outbox%`],
            )
          ).rows[0].n > 0,
        5_000,
        "A's dead letter to wait on the claimed entry",
      );
      return { kind: 'remove' };
    });
    expect(handled).toBe(1);
    await until(async () => (await b.messages.deadLetters('T')).length === 1, 5_000, 'the dead letter');
    expect(await b.messages.deadLetters('T')).toMatchObject([
      { task_id: id, error: `recipient_finished: task ${id} already completed: it takes no more messages` },
    ]);
    expect(await b.messages.pending('T')).toEqual([]);
  });

  it('issue 24: the sub-agent still runs when its owner applies the message: delivered, no dead letter', async () => {
    const { a, b, id, finish, got } = await twoReplicas();
    await b.messages.enqueue('T', childEntry('m-ok', id, 'hello'));
    expect(await dispatchOutbox({ supervisor: b, outbox: b.messages, threadId: 'T' })).toBe(1);
    await until(() => got.length === 1, 5_000, 'the sub-agent on A to read the message');
    expect(got[0]).toMatchObject({
      event_type: 'agent_message',
      payload: { from: 'parent', content: 'hello' },
    });
    finish();
    expect((await a.wait(id)).status).toBe('completed');
    expect(await b.messages.deadLetters('T')).toEqual([]);
    expect(await b.messages.pending('T')).toEqual([]);
    // A never dispatched it: its answer comes from the store.
    for (const s of [a, b])
      expect(await messageDeliveryStatus(s.messages, 'T', 'm-ok')).toEqual({
        message_id: 'm-ok',
        status: 'delivered',
      });
  });
});
