import { beforeAll, describe, expect, it } from 'vitest';
import { buildDist, startChild } from '../fixtures/childProcess.js';

// Each scenario runs in a plain `node` child: the bugs were process-level (exit code 13 from a
// promise no timer kept alive, a host crash from an unhandled rejection). `closed` rejects unless
// the child ended by itself with exit code 0.
let dist = '';

beforeAll(() => {
  dist = buildDist('store-faults');
}, 120_000);

async function run(scenario: string): Promise<Record<string, unknown>[]> {
  const child = startChild('store-faults-child.mjs', { AWAKEN_DIST: dist, SCENARIO: scenario });
  const exit = new Promise<number | null>((resolve) => child.proc.on('exit', (code) => resolve(code)));
  await child.closed;
  expect(await exit).toBe(0);
  return child.lines as Record<string, unknown>[];
}

describe('store faults in a plain script', () => {
  it('a spawn and a loadThread after one failed terminal write settle; the script exits 0', async () => {
    const lines = await run('retry-exit');
    expect(lines[0]).toEqual({ t: 'failures', n: 1 });
    expect(lines[1]).toMatchObject({ t: 'spawned', id: expect.any(String) });
    expect(lines[2]).toEqual({ t: 'loaded', n: 1 });
    expect(lines[3]).toEqual({ t: 'stored', a: 'completed', b: 'completed', orphan: 'failed' });
  }, 30_000);

  it('a poisoned record (500 KB result, 400 KB cap) leaves 100 later spawns healthy', async () => {
    const [result] = await run('poison');
    expect(result).toEqual({
      t: 'result',
      spawned: 100,
      completedInStore: 100,
      bigInStore: 'running',
      bigInMemory: 'completed',
      backlog: ['bg_0'],
      stopped: { ok: false, name: 'StoreError', code: 'store_unwritten', taskIds: ['bg_0'] },
    });
  }, 30_000);

  it('stop() during an outage rejects naming the unwritten ids; after recovery within the bound it resolves with all written', async () => {
    const [down, recovered] = await run('outage-stop');
    const ids = down!.ids as string[];
    expect(ids).toHaveLength(5);
    expect(down).toMatchObject({
      recover: false,
      stopped: { ok: false, name: 'StoreError', code: 'store_unwritten' },
      stored: ['running', 'running', 'running', 'running', 'running'],
      memory: Array(5).fill('cancelled'),
    });
    expect([...(down!.stopped as { taskIds: string[] }).taskIds].sort()).toEqual([...ids].sort());
    for (const id of ids) expect((down!.stopped as { message: string }).message).toContain(id);
    expect(recovered).toMatchObject({
      recover: true,
      stopped: { ok: true },
      stored: Array(5).fill('cancelled'),
      memory: Array(5).fill('cancelled'),
    });
  }, 30_000);
});

describe('body faults in a plain script', () => {
  it('hostile thrown, rejected and returned values end the task failed with a readable message; the host lives', async () => {
    const lines = await run('hostile');
    expect(lines.at(-1)).toEqual({ t: 'done' });
    const tasks = lines.slice(0, -1);
    expect(tasks).toHaveLength(20);
    for (const t of tasks) {
      expect(t, String(t.k)).toMatchObject({ status: 'failed', error: expect.any(String) });
      expect((t.error as string).length, String(t.k)).toBeGreaterThan(0);
    }
    const byKind = Object.fromEntries(tasks.map((t) => [t.k, t.error]));
    expect(byKind['throw-nullProto']).toBe('{"code":"E_QUOTA","bytes":"10n"}');
    expect(byKind['throw-symbol']).toBe('Symbol(boom)');
    expect(byKind['throw-bigint']).toBe('"10n"');
    expect(byKind['then-throws']).toBe('trap');
    expect(byKind['then-getter-throws']).toBe('then getter');
  }, 30_000);
});
