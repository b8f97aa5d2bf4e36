import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createInbox, createTaskSupervisor, defineTask, type TaskEvent } from '../../src/index.js';
import { PostgresTaskStore } from '../../src/stores/postgres/index.js';
import { gate } from '../helpers/async.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy.js';
import { pgSuite, pgUrl, requirePostgres, until } from '../stores/pgEnv.js';

requirePostgres('test/durable/postgres-outage.test.ts');

// How long the database stays unreachable: longer than a quick reconnect, shorter than the
// store's lease (15 s by default). The sleep sets the adversary's outage, it waits for no outcome.
const OUTAGE_MS = 4_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!pgUrl)(
  'a durable task across a database outage shorter than the lease (issue 21, 22)',
  () => {
    const { pool, table: newTable } = pgSuite();
    let proxy: TcpProxy;
    const stores: PostgresTaskStore[] = [];

    beforeAll(async () => {
      const url = new URL(pgUrl!);
      proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    });
    afterEach(async () => {
      proxy.unblock();
      await Promise.all(stores.splice(0).map((s) => s.close().catch(() => undefined)));
    });
    afterAll(async () => {
      await proxy.close();
    });

    const open = () => {
      const table = newTable('doutage');
      const url = new URL(pgUrl!);
      url.host = `127.0.0.1:${proxy.port}`;
      const store = new PostgresTaskStore({ connectionString: url.toString(), table, pollMs: 200 });
      stores.push(store);
      return { store, table };
    };

    for (const ending of [
      'fails (its failure recorded during the outage)',
      'returns during the outage',
    ] as const) {
      it(`attempt 1 ${ending}: the task completes once the database is back, one terminal event, the store agrees`, async () => {
        const { store, table } = open();
        const sup = createTaskSupervisor({ store });
        const inbox = createInbox<TaskEvent>();
        const started = gate();
        const release = gate();
        const runs: number[] = [];
        const job = defineTask<{ fail: boolean }, Record<never, never>, { attempt: number }>({
          taskType: 'job',
          durable: { retry: { initialIntervalMs: 10, jitter: 0, maximumAttempts: 3 } },
          run: async (ctx, input) => {
            runs.push(ctx.attempt);
            if (ctx.attempt === 1) {
              started.open();
              await release.promise;
              if (input.fail) throw new Error('boom 1');
            }
            return { attempt: ctx.attempt };
          },
        });
        const fail = ending.startsWith('fails');
        const id = await job.spawn(sup, { threadId: 't', description: 'j', inbox: inbox.sender }, { fail });
        await started.promise;
        proxy.block();
        release.open();
        await sleep(OUTAGE_MS);
        proxy.unblock();
        const s = await sup.wait(id);
        expect(s.status).toBe('completed');
        expect(s.result).toEqual({ attempt: fail ? 2 : 1 });
        expect(runs).toEqual(fail ? [1, 2] : [1]);
        if (fail) expect(s.attempt_errors).toEqual(['boom 1']);
        // Across replicas the owner's events travel through the store: poll until the terminal one
        // arrived, then make sure no second one follows the stored record.
        const terminal: string[] = [];
        const take = () => {
          for (const e of inbox.receiver.drain()) if (e.kind !== 'custom') terminal.push(e.kind);
          return terminal.length > 0;
        };
        await until(take, 10_000, 'terminal event delivered');
        await until(
          async () =>
            (await pool.query(`SELECT status FROM "${table}" WHERE task_id = $1`, [id])).rows[0]?.status ===
            'completed',
          10_000,
          'completed record stored',
        );
        await sup.stop();
        take();
        expect(terminal).toEqual(['completed']);
      }, 60_000);
    }
  },
);
