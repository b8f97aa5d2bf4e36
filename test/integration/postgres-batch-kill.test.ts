import { describe, expect, it } from 'vitest';
import { createDurableInbox, createTaskSupervisor } from '../../src/index.js';
import type { InboxSender } from '../../src/inbox/types.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import type { TaskEvent, TaskId } from '../../src/wire/types.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';
import { rec } from '../helpers/records.js';
import {
  namedUrl,
  putBackends,
  recordingInbox,
  spawnHeld as spawnHeldOn,
  whileRowLocked,
} from './heldWrites.js';
import { replyLosingProxy } from './replyLosingProxy.js';

requirePostgres('test/integration/postgres-batch-kill.test.ts');

const N = 200;
/**
 * What every put sends: the name of its prepared statement (a put's first use on a connection
 * also sends the statement's text).
 */
const PUT_STATEMENT = 'awaken_put';
const THREAD = 'batch-kill';

describe.skipIf(!pgUrl)('PostgreSQL group commit: a connection lost mid-batch', () => {
  const { pool, table: newTable } = pgSuite();

  /** N tasks spawned (their running records in one batch), bodies held until `release`. */
  async function spawnHeld(store: PostgresTaskStore, durableInbox = false) {
    let sender: InboxSender;
    let events: TaskEvent[];
    let pull = () => {};
    if (durableInbox) {
      // An acknowledging inbox: its terminal events are stored, taken by this replica's claim, and
      // deleted once read.
      const inbox = createDurableInbox();
      sender = inbox.sender;
      const got: TaskEvent[] = [];
      events = got;
      pull = () => {
        for (const m of inbox.receiver.drain()) got.push(m as unknown as TaskEvent);
      };
    } else {
      ({ sender, events } = recordingInbox());
    }
    const supervisor = createTaskSupervisor({ store, ownerInbox: sender });
    const { ids, release } = await spawnHeldOn(supervisor, N, THREAD);
    return { supervisor, events, ids, release, pull };
  }

  /** Every task completed once: in memory, in the store, and one terminal event each in the inbox. */
  async function expectExactlyOnce(
    table: string,
    supervisor: ReturnType<typeof createTaskSupervisor>,
    events: TaskEvent[],
    ids: readonly TaskId[],
    pull: () => void = () => {},
  ) {
    await until(
      () => {
        pull();
        return events.length >= N;
      },
      20_000,
      'every terminal event delivered',
    );
    const terminal = events.filter((e) => e.kind !== 'custom');
    expect(terminal).toHaveLength(N);
    expect(new Set(terminal.map((e) => e.task_id)).size).toBe(N);
    expect(terminal.every((e) => e.kind === 'completed')).toBe(true);
    for (const id of ids) expect(supervisor.get(id)?.status).toBe('completed');
    const rows = await pool.query<{ task_id: string; status: string; record: string }>(
      `SELECT task_id, status, record FROM "${table}"`,
    );
    expect(rows.rows).toHaveLength(N);
    for (const row of rows.rows) {
      expect(row.status).toBe('completed');
      const rec = JSON.parse(row.record) as { status: string; result: { i: number }; description: string };
      expect(rec.status).toBe('completed');
      expect(`task ${rec.result.i}`).toBe(rec.description);
    }
    // No terminal event stored twice for the thread's receiver.
    const dup = await pool.query(
      `SELECT task_id FROM "${table}_events" GROUP BY task_id HAVING count(*) > 1`,
    );
    expect(dup.rows).toEqual([]);
    // Read events are acknowledged: none stays stored for a later run to receive again.
    await until(
      async () => Number((await pool.query(`SELECT count(*) AS n FROM "${table}_events"`)).rows[0].n) === 0,
      20_000,
      'read events acknowledged',
    );
  }

  it('killed while its terminal batch is half applied (rolled back): the writer retries; every record lands once, every terminal event is delivered once', async () => {
    const table = newTable('bkill');
    const app = `bkill_${process.pid}_${Date.now()}`;
    const store = new PostgresTaskStore({ connectionString: namedUrl(app), table });
    const { supervisor, events, ids, release } = await spawnHeld(store);
    // A row in the middle of the batch is locked elsewhere: the batch's update stops there, with
    // the rows before it already changed inside its transaction.
    await whileRowLocked(pool, table, ids[N >> 1]!, async () => {
      release();
      let victim: number | undefined;
      await until(
        async () => (victim = (await putBackends(pool, app, true))[0]) !== undefined,
        20_000,
        'the terminal batch waiting on the locked row',
      );
      const killed = await pool.query('SELECT pg_terminate_backend($1) AS ok', [victim]);
      expect(killed.rows[0].ok).toBe(true);
    });
    await expectExactlyOnce(table, supervisor, events, ids);
    expect(supervisor.stats().storeFailures).toBeGreaterThan(0);
    await supervisor.stop();
    await store.close();
  }, 60_000);

  it.each([
    ['a plain inbox', false],
    ['a durable (acknowledging) inbox', true],
  ])(
    'the batch commits but its reply is lost with the connection (%s): the retry finds the rows already written; no record or event is lost or doubled',
    async (_label, durableInbox) => {
      const table = newTable('bkack');
      const proxy = await replyLosingProxy(new URL(pgUrl!));
      const store = new PostgresTaskStore({ connectionString: proxy.url, table });
      try {
        const { supervisor, events, ids, release, pull } = await spawnHeld(store, durableInbox);
        // The next put (the terminal batch) commits unheard.
        proxy.loseReplies(PUT_STATEMENT);
        release();
        await until(
          async () =>
            proxy.lost &&
            Number(
              (await pool.query(`SELECT count(*) AS n FROM "${table}" WHERE status = 'completed'`)).rows[0].n,
            ) === N,
          20_000,
          'the terminal batch committed',
        );
        pull();
        expect(events.filter((e) => e.kind !== 'custom')).toHaveLength(0);
        proxy.cut();
        await expectExactlyOnce(table, supervisor, events, ids, pull);
        // The retry failed over to a new connection and found its own rows: landed, not refused.
        expect(supervisor.stats().storeFailures).toBeGreaterThan(0);
        expect(supervisor.stats().storeRefused).toBe(0);
        await supervisor.stop();
      } finally {
        await store.close();
        await proxy.close();
      }
    },
    60_000,
  );

  it('a terminal record for an unknown id commits but its reply is lost: the retry finds it as written, landed and not refused', async () => {
    // A task cancelled before its running record was written has only its terminal record, which
    // is inserted as is (no owner epoch). Its retry must recognise it as the first attempt's.
    const table = newTable('bkfresh');
    const proxy = await replyLosingProxy(new URL(pgUrl!));
    const store = new PostgresTaskStore({ connectionString: proxy.url, table });
    try {
      const record = rec('bg_0', { status: 'cancelled', completed_at_ms: 5 });
      await store.load(THREAD);
      proxy.loseReplies(PUT_STATEMENT);
      const first = store.put([record]);
      await until(
        async () =>
          proxy.lost && (await pool.query(`SELECT 1 FROM "${table}" WHERE task_id = 'bg_0'`)).rowCount === 1,
        20_000,
        'the put committed',
      );
      proxy.cut();
      await expect(first).rejects.toThrow();
      expect(await store.put([record])).toEqual({ refused: [] });
      expect(store.refusals).toBe(0);
      expect((await store.load('t')).map((r) => [r.task_id, r.status])).toEqual([['bg_0', 'cancelled']]);
    } finally {
      await store.close();
      await proxy.close();
    }
  }, 60_000);
});
