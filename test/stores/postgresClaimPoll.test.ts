import { describe, expect, it } from 'vitest';
import { pgSuite, pgUrl, requirePostgres, until } from './pgEnv.js';

requirePostgres('test/stores/postgresClaimPoll.test.ts');

/**
 * A process receiving a thread's events learns that another run claimed the thread from a
 * notification; the polling fallback must find it out too when that notification is lost, or its
 * durable inbox would go on handing out events the other run took.
 */
describe.skipIf(!pgUrl)('PostgreSQL: a claim replaced while its notification was lost', () => {
  const db = pgSuite();

  it('the polling fallback finds the claim replaced and stops receiving under it', async () => {
    const t = db.table('claimpoll');
    const a = db.store(t);
    const b = db.store(t);
    await a.coordination.claimAndTake('T', true);
    const claimOf = async () =>
      (await db.pool.query<{ claim: string }>(`SELECT claim FROM "${t}_receivers" WHERE thread_id = 'T'`))
        .rows[0]!.claim;
    const aClaim = await claimOf();
    expect(a.coordination.isCurrentClaim('T', aClaim)).toBe(true);
    // A hears nothing from the channel from now on (its notifications lost).
    (a.coordination as unknown as { onNotify(payload: string): void }).onNotify = () => undefined;
    await b.coordination.claimAndTake('T', true);
    const bClaim = await claimOf();
    expect(bClaim).not.toBe(aClaim);
    expect(b.coordination.isCurrentClaim('T', bClaim)).toBe(true);
    await until(
      () => !a.coordination.isCurrentClaim('T', aClaim),
      10_000,
      "A's polling fallback to find its claim replaced",
    );
    // And A takes nothing more for the thread: its claim is not the stored one.
    expect(await a.coordination.take('T', true)).toEqual([]);
  });
});
