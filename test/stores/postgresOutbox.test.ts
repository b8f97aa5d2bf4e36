import { describe, expect, it } from 'vitest';
import { createBackgroundTasksPlugin, storeDurableMessageSink } from '../../src/agent/index.js';
import type { DurableMessageRequest, DurableMessageSink } from '../../src/agent/index.js';
import { createTaskSupervisor } from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import { pgSuite, pgUrl, requirePostgres } from './pgEnv.js';

requirePostgres('postgresOutbox.test.ts');

const req = (id: string): DurableMessageRequest => ({
  message_id: id,
  recipient_thread_id: 'recipient',
  recipient_agent_id: null,
  sender_agent_id: 's',
  message: id,
});

describe.runIf(pgUrl !== undefined)('PostgreSQL outbox across replicas', () => {
  const db = pgSuite({ max: 20 });
  const { pool } = db;
  const table = db.table('outbox');
  const replica = () => db.track(new PostgresTaskStore({ pool, table }));

  it('an entry committed on replica A is dispatched by whichever replica runs the step; concurrent step ends never dispatch one twice (SKIP LOCKED)', async () => {
    const a = replica();
    const b = replica();
    const ids = Array.from({ length: 12 }, (_, i) => `m${i}`);
    for (const id of ids)
      await a.messages.enqueue('sender', { id, route: { Durable: req(id) }, attempts: 0 });
    const calls: string[] = [];
    const slowSink = (store: PostgresTaskStore): DurableMessageSink => ({
      async sendAgentMessage(r) {
        calls.push(r.message_id);
        await new Promise((resolve) => setImmediate(resolve));
        return store.messages.deliver(r);
      },
    });
    const supA = createTaskSupervisor({ store: a });
    const supB = createTaskSupervisor({ store: b });
    try {
      await Promise.all([
        createBackgroundTasksPlugin(supA, { durableSink: slowSink(a) }).hooks.stepEnd({ threadId: 'sender' }),
        createBackgroundTasksPlugin(supB, { durableSink: slowSink(b) }).hooks.stepEnd({ threadId: 'sender' }),
        createBackgroundTasksPlugin(supB, { durableSink: slowSink(b) }).hooks.stepEnd({ threadId: 'sender' }),
      ]);
      expect([...calls].sort()).toEqual([...ids].sort());
      expect(await b.messages.pending('sender')).toEqual([]);
      expect((await a.messages.delivered('recipient')).map((m) => m.message_id).sort()).toEqual(
        [...ids].sort(),
      );
    } finally {
      await supA.stop();
      await supB.stop();
    }
  });

  it('gap 6: concurrent deliveries of one message_id through the reference sink store it once and return one dispatch id', async () => {
    const a = replica();
    const b = replica();
    const r = req('same-id');
    const ids = await Promise.all(
      [a, b, a, b].map((s) => storeDurableMessageSink(s.messages).sendAgentMessage(r)),
    );
    expect(new Set(ids).size).toBe(1);
    expect((await a.messages.delivered('recipient')).filter((m) => m.message_id === 'same-id')).toHaveLength(
      1,
    );
  });
});
