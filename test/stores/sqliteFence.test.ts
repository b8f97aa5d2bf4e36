import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import { rec } from '../helpers/records.js';

const dir = mkdtempSync(join(tmpdir(), 'awaken-sqlite-fence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = () => join(dir, `fence-${files++}.db`);

const completed = rec('bg_0', { status: 'completed', result: { answer: 42 }, completed_at_ms: 5 });
const orphaned = rec('bg_0', {
  status: 'failed',
  error: 'task orphaned: runtime restarted while running',
  completed_at_ms: 9,
});

describe('SqliteTaskStore fenced status changes', () => {
  it('a running row takes its terminal record; a later different version is refused and reported as stored', async () => {
    const store = new SqliteTaskStore(file());
    expect(await store.put([rec('bg_0')])).toBeUndefined();
    expect(await store.put([completed])).toBeUndefined();
    // A late orphaning (or any other version) cannot flip the completed row.
    expect(await store.put([orphaned])).toEqual({ refused: [completed] });
    expect(await store.put([rec('bg_0')])).toEqual({ refused: [completed] });
    expect(await store.load()).toEqual([completed]);
    await store.close();
  });

  it('refusing one record does not hold back the others in the batch', async () => {
    const store = new SqliteTaskStore(file());
    await store.put([completed, rec('bg_1')]);
    const done1 = rec('bg_1', { status: 'cancelled', completed_at_ms: 3 });
    expect(await store.put([orphaned, done1, rec('bg_2')])).toEqual({ refused: [completed] });
    expect(await store.load()).toEqual([completed, done1, rec('bg_2')]);
    await store.close();
  });

  it('an identical rewrite of a terminal record is accepted, whatever its key order', async () => {
    const store = new SqliteTaskStore(file());
    await store.put([completed]);
    const reordered = JSON.parse(
      JSON.stringify(Object.fromEntries(Object.entries(completed).reverse())),
    ) as typeof completed;
    expect(await store.put([completed])).toBeUndefined();
    expect(
      await store.put([{ ...reordered, name: undefined } as unknown as typeof completed]),
    ).toBeUndefined();
    await store.close();
  });

  it("I17: a running row another (gone) instance wrote is orphaned by the file's next owner", async () => {
    const path = file();
    const first = new SqliteTaskStore(path);
    await first.put([rec('bg_0')]);
    await first.close();
    const next = new SqliteTaskStore(path);
    expect(await next.put([orphaned])).toBeUndefined();
    expect(await next.load()).toEqual([orphaned]);
    await next.close();
  });

  it('an unreadable terminal row is replaced rather than held against a new version', async () => {
    const path = file();
    const store = new SqliteTaskStore(path);
    await store.put([completed]);
    const db = new Database(path);
    db.prepare("UPDATE tasks SET record = '{oops' WHERE task_id = 'bg_0'").run();
    db.close();
    expect(await store.put([orphaned])).toBeUndefined();
    expect(await store.load()).toEqual([orphaned]);
    await store.close();
  });
});
