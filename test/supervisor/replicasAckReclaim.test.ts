import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createDurableInbox, createTaskSupervisor } from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import { gate } from '../helpers/async.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';

requirePostgres('test/supervisor/replicasAckReclaim.test.ts');

/** Statements of the store this test holds or watches. */
const ACK = /^DELETE FROM "[^"]+_events" WHERE seq = ANY/;
const CLAIM = /^INSERT INTO "[^"]+_receivers" .* ON CONFLICT \(thread_id\) DO UPDATE/s;
/** A new claim's take: every event of the thread not yet consumed (taken ones too). */
const TAKE_ALL = /^UPDATE "[^"]+_events" SET taken_by = \$2 WHERE thread_id = \$1\s+AND EXISTS/;

/**
 * A durable inbox acknowledges what it hands out with a DELETE sent on its own; a load of the
 * thread (a new claim) takes every event not yet consumed. The load must not take again an event
 * the inbox already handed out, however slowly that DELETE lands.
 */
describe.skipIf(!pgUrl)('a durable inbox read racing a new claim of its thread (PostgreSQL)', () => {
  const db = pgSuite();

  it('events handed out before a loadThread are not delivered again while their acknowledgement is in flight', async () => {
    const t = db.table('ackclaim');
    const real = new pg.Pool({ connectionString: pgUrl, max: 4 });
    // Armed before the read: its acknowledgement waits until the load's take ran (or, when the
    // take waits for the acknowledgement, until the load's claim is written and its take would
    // have been sent).
    const ackHeld = gate();
    let armed = false;
    let ackHolding = false;
    let takeSent = false;
    const release = () => {
      armed = false;
      ackHeld.open();
    };
    const query = ((text: unknown, ...rest: unknown[]) => {
      const run = () => (real.query as (...a: unknown[]) => Promise<unknown>)(text, ...rest);
      if (!armed || typeof text !== 'string') return run();
      if (!ackHolding && ACK.test(text)) {
        ackHolding = true;
        return ackHeld.promise.then(run);
      }
      if (TAKE_ALL.test(text)) {
        takeSent = true;
        const res = run();
        void res.finally(release).catch(() => undefined);
        return res;
      }
      if (CLAIM.test(text)) {
        const res = run();
        void res.then(() => setImmediate(() => (takeSent ? undefined : release()))).catch(() => undefined);
        return res;
      }
      return run();
    }) as pg.Pool['query'];
    const pool = new Proxy(real, {
      get: (target, key, receiver) => (key === 'query' ? query : Reflect.get(target, key, receiver)),
    });
    // No polling fallback during the test: no refresh's take is queued ahead of the load's.
    const store = db.track(new PostgresTaskStore({ pool, table: t, pollMs: 60_000 }));
    const inbox = createDurableInbox();
    const sup = createTaskSupervisor({ store, ownerInbox: inbox.sender });
    try {
      await sup.loadThread('T');
      const id = await sup.spawn({ threadId: 'T', taskType: 'job', description: 'd' }, (ctx) => {
        ctx.emit('progress', { i: 0 });
        return 'done';
      });
      await sup.wait(id);
      await until(() => inbox.receiver.size === 2, 10_000, 'both events delivered');
      armed = true;
      expect(inbox.receiver.drain()).toEqual([
        { kind: 'custom', task_id: id, event_type: 'progress', payload: { i: 0 } },
        { kind: 'completed', task_id: id, result: 'done' },
      ]);
      // The run's next load of the thread, its acknowledgement still in flight.
      await sup.loadThread('T');
      expect(inbox.receiver.drain()).toEqual([]);
      await until(
        async () => (await db.pool.query(`SELECT count(*)::int AS n FROM "${t}_events"`)).rows[0].n === 0,
        10_000,
        'the acknowledged events consumed',
      );
      expect(inbox.receiver.drain()).toEqual([]);
    } finally {
      release();
      await sup.stop();
      await store.close();
      await real.end();
    }
  });
});
