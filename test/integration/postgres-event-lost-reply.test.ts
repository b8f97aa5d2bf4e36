import { describe, expect, it } from 'vitest';
import { createDurableInbox, createInbox, createTaskSupervisor } from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';
import { replyLosingProxy } from './replyLosingProxy.js';

requirePostgres('test/integration/postgres-event-lost-reply.test.ts');

const M = 20;
/** Only the events insert carries this text (before the fix and after). */
const EVENTS_SQL = 'AS d(thread_id, task_id, body, local, acks';

type Got = { kind: string; task_id: string; type?: string; payload?: { i: number } };

describe.skipIf(!pgUrl)('PostgreSQL custom events: a batch committed with its reply lost', () => {
  const { pool, table: newTable } = pgSuite();

  const count = async (sql: string, params: unknown[] = []) =>
    Number((await pool.query(sql, params)).rows[0].n);

  /** A task on `a` emitting M events in one tick once `release` runs, then completing. */
  async function emitter(a: ReturnType<typeof createTaskSupervisor>) {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const id = await a.spawn({ threadId: 'T', taskType: 'job', description: 'd' }, async (ctx) => {
      await gate;
      for (let i = 0; i < M; i++) ctx.emit('step', { i });
      return { ok: true };
    });
    return { id, release };
  }

  /** Drains `receiver` into `got` until `done()` holds (20 s at most). */
  const receiveUntil = (receiver: { drain(): unknown[] }, got: Got[], done: () => boolean, what: string) =>
    until(
      () => {
        for (const m of receiver.drain()) got.push(m as Got);
        return done();
      },
      20_000,
      what,
    );
  /** Drains `receiver` into `got` until the terminal event is in. */
  const receiveTerminal = (receiver: { drain(): unknown[] }, got: Got[]) =>
    receiveUntil(receiver, got, () => got.some((e) => e.kind === 'completed'), 'the terminal event');

  function expectOnceInOrder(got: Got[], id: string) {
    const custom = got.filter((e) => e.kind === 'custom' && e.task_id === id);
    expect(custom.map((e) => e.payload?.i)).toEqual(Array.from({ length: M }, (_, i) => i));
    expect(got.filter((e) => e.kind === 'completed')).toHaveLength(1);
    expect(got[got.length - 1]?.kind).toBe('completed');
  }

  it('received on the other replica: the retry finds the batch stored (even once consumed); each event is delivered once, in order', async () => {
    const t = newTable('evlost');
    const proxy = await replyLosingProxy(new URL(pgUrl!));
    const storeA = new PostgresTaskStore({ connectionString: proxy.url, table: t, pollMs: 100 });
    const storeB = new PostgresTaskStore({ connectionString: pgUrl!, table: t, pollMs: 100 });
    try {
      const inbox = createInbox();
      const a = createTaskSupervisor({ store: storeA });
      const b = createTaskSupervisor({ store: storeB, ownerInbox: inbox.sender });
      const { id, release } = await emitter(a);
      await b.loadThread('T');
      const got: Got[] = [];
      proxy.loseReplies(EVENTS_SQL);
      release();
      // The batch commits unheard; B, notified, receives (and consumes) every event of it.
      await receiveUntil(
        inbox.receiver,
        got,
        () => proxy.lost && got.length >= M,
        'the events batch committed and received',
      );
      proxy.cut();
      await receiveTerminal(inbox.receiver, got);
      expectOnceInOrder(got, id);
      expect(await count(`SELECT count(*) AS n FROM "${t}_events"`)).toBe(0);
      await a.stop();
      await b.stop();
    } finally {
      await storeA.close();
      await storeB.close();
      await proxy.close();
    }
  }, 60_000);

  it.each([
    ['a plain inbox', false],
    ['a durable (acknowledging) inbox', true],
  ])(
    'taken for a local inbox (%s): the retry answers as the lost attempt did; each event is delivered once, none stays stored (a plain inbox stores none, so it was never doubled: a guard)',
    async (_label, durable) => {
      const t = newTable('evlostl');
      const app = `evlostl_${process.pid}_${Date.now()}`;
      const url = new URL(pgUrl!);
      url.searchParams.set('application_name', app);
      const proxy = await replyLosingProxy(url);
      const store = new PostgresTaskStore({ connectionString: proxy.url, table: t, pollMs: 100 });
      try {
        const inbox = durable ? createDurableInbox() : createInbox();
        const a = createTaskSupervisor({ store, ownerInbox: inbox.sender });
        const { id, release } = await emitter(a);
        const got: Got[] = [];
        proxy.loseReplies(EVENTS_SQL);
        release();
        await until(
          async () =>
            proxy.lost &&
            (await count(
              `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle'
                 AND query LIKE $2`,
              [app, `%${EVENTS_SQL}%`],
            )) === 1,
          20_000,
          'the events batch committed',
        );
        expect(inbox.receiver.drain()).toHaveLength(0);
        if (durable) expect(await count(`SELECT count(*) AS n FROM "${t}_events"`)).toBe(M);
        proxy.cut();
        await receiveTerminal(inbox.receiver, got);
        expectOnceInOrder(got, id);
        await until(
          async () => (await count(`SELECT count(*) AS n FROM "${t}_events"`)) === 0,
          20_000,
          'read events acknowledged',
        );
        await a.stop();
      } finally {
        await store.close();
        await proxy.close();
      }
    },
    60_000,
  );

  it('a control request (a message to a task on another replica) committed with its reply lost: the retry records nothing; the task gets it once', async () => {
    const t = newTable('ctllost');
    const proxy = await replyLosingProxy(new URL(pgUrl!));
    const storeA = new PostgresTaskStore({ connectionString: pgUrl!, table: t, pollMs: 100 });
    const storeB = new PostgresTaskStore({ connectionString: proxy.url, table: t, pollMs: 100 });
    try {
      const a = createTaskSupervisor({ store: storeA });
      const b = createTaskSupervisor({ store: storeB });
      const got: string[] = [];
      const id = await a.spawnAgent({ threadId: 'T', name: 'kid', description: 'k' }, async (ctx) => {
        for (;;) {
          const m = (await ctx.inboxReceiver.recv(ctx.signal)) as { payload?: { content?: string } } | null;
          const text = m?.payload?.content ?? JSON.stringify(m);
          got.push(text);
          if (text === 'last') return 'done';
        }
      });
      expect(await b.loadThread('T')).toBe(1);
      proxy.loseReplies("'message', $2 FROM");
      b.sendTaskInboxMessage(id, 'T', 'parent', 'first');
      await until(() => proxy.lost && got.length >= 1, 20_000, 'the message recorded and taken');
      proxy.cut();
      // Sent after the first, so recorded after its retry.
      b.sendTaskInboxMessage(id, 'T', 'parent', 'last');
      expect((await a.wait(id)).status).toBe('completed');
      expect(got).toEqual(['first', 'last']);
      expect(await count(`SELECT count(*) AS n FROM "${t}_control"`)).toBe(0);
      await a.stop();
      await b.stop();
    } finally {
      await storeA.close();
      await storeB.close();
      await proxy.close();
    }
  }, 60_000);

  it('an events table of the earlier shape (no key column) is migrated when a store opens it', async () => {
    const t = newTable('evmig');
    const first = new PostgresTaskStore({ connectionString: pgUrl!, table: t });
    await first.load();
    await first.close();
    // Back to the shape before event keys.
    await pool.query(`DROP INDEX "${t}_events_key"`);
    await pool.query(`ALTER TABLE "${t}_events" DROP COLUMN event_key`);
    await pool.query(`ALTER TABLE "${t}_epochs" DROP COLUMN event_key, DROP COLUMN control_key`);
    await pool.query(`UPDATE "${t}_meta" SET value = 4 WHERE name = 'schema_version'`);
    await pool.query(`INSERT INTO "${t}_events" (thread_id, task_id, body) VALUES ('U', 'bg_old', '{}')`);
    const store = new PostgresTaskStore({ connectionString: pgUrl!, table: t, pollMs: 100 });
    try {
      await store.load();
      const cols = await pool.query(
        `SELECT table_name, column_name FROM information_schema.columns
         WHERE table_name IN ($1, $2) AND column_name = 'event_key' ORDER BY table_name`,
        [`${t}_epochs`, `${t}_events`],
      );
      expect(cols.rows.map((r) => r.table_name)).toEqual([`${t}_epochs`, `${t}_events`]);
      expect(
        await count(`SELECT count(*) AS n FROM pg_indexes WHERE indexname = $1`, [`${t}_events_key`]),
      ).toBe(1);
      // The old row stays (no key); new events store and arrive.
      expect(await count(`SELECT count(*) AS n FROM "${t}_events" WHERE event_key IS NULL`)).toBe(1);
      const other = new PostgresTaskStore({ connectionString: pgUrl!, table: t, pollMs: 100 });
      try {
        const inbox = createInbox();
        const a = createTaskSupervisor({ store });
        const b = createTaskSupervisor({ store: other, ownerInbox: inbox.sender });
        const { id, release } = await emitter(a);
        await b.loadThread('T');
        release();
        const got: Got[] = [];
        await receiveTerminal(inbox.receiver, got);
        expectOnceInOrder(got, id);
        await a.stop();
        await b.stop();
      } finally {
        await other.close();
      }
    } finally {
      await store.close();
    }
  }, 30_000);
});
