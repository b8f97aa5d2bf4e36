import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { binSuite, jsonLines, runBin } from './run.js';

const ORPHAN = 'task orphaned: runtime restarted while running';
type Node = { task_id: string; task_type: string; status: string; error?: string; children: Node[] };

describe('awaken-tasks demo: crash, restart, orphans, tree (real bin)', () => {
  const tmp = binSuite('awaken-demo-');

  it('is killed by --crash-after, then reports the orphans and runs a fresh round; tree shows both', async () => {
    const db = join(tmp.dir, 'crash.db');
    const crashed = await runBin(['demo', '--db', db, '--crash-after', '700', '--json']);
    expect(crashed.signal).toBe('SIGKILL');
    const before = jsonLines(crashed.stdout);
    expect(before.some((l) => l.type === 'spawned')).toBe(true);
    expect(before.some((l) => l.type === 'done')).toBe(false);

    const again = await runBin(['demo', '--db', db, '--json']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const lines = jsonLines(again.stdout);
    const restored = lines.find((l) => l.type === 'restored') as {
      orphans: Array<{ status: string; error: string }>;
    };
    expect(restored.orphans.length).toBeGreaterThan(0);
    for (const o of restored.orphans) expect(o).toMatchObject({ status: 'failed', error: ORPHAN });
    expect(lines.some((l) => l.type === 'message')).toBe(true);
    expect(lines.find((l) => l.type === 'cancel_tree')).toMatchObject({ signalled: 3 });
    expect(lines.find((l) => l.type === 'input')).toMatchObject({ response: 'yes' });
    // One crawl page ran, the other waited in the queue (one crawl_page at a time).
    const pagesSpawned = lines.filter(
      (l) =>
        l.type === 'spawned' &&
        (l as { summary?: { task_type?: string } }).summary?.task_type === 'crawl_page',
    ) as Array<{ summary: { phase?: string } }>;
    expect(pagesSpawned.map((l) => l.summary.phase ?? 'running').sort()).toEqual(['queued', 'running']);
    expect(lines.at(-1)).toMatchObject({ type: 'done', tasks: 9, completed: 5, failed: 1, cancelled: 3 });

    const tree = await runBin(['tree', '--db', db, '--format', 'json']);
    expect(tree.code).toBe(0);
    const { threads } = JSON.parse(tree.stdout) as { threads: Array<{ thread_id: string; roots: Node[] }> };
    expect(threads.map((t) => t.thread_id)).toEqual(['demo']);
    const [old, fresh] = threads[0]!.roots;
    expect(threads[0]!.roots).toHaveLength(2);
    // Round 1: the coordinator was running when the process died.
    expect(old).toMatchObject({ task_type: 'sub_agent', status: 'failed', error: ORPHAN });
    // Round 2: the full scripted tree.
    const shape = (n: Node): unknown => [n.task_type, n.status, n.children.map(shape)];
    expect(shape(fresh!)).toEqual([
      'sub_agent',
      'completed',
      [
        ['fetch', 'completed', []],
        ['sub_agent', 'completed', [['summarize', 'completed', []]]],
        [
          'crawl',
          'cancelled',
          [
            ['crawl_page', 'cancelled', []],
            ['crawl_page', 'cancelled', []],
          ],
        ],
        ['approve', 'completed', []],
        ['search', 'failed', []],
      ],
    ]);
  });

  it('plain output (not a TTY) is one line per event and ends with the tree and a summary', async () => {
    const db = join(tmp.dir, 'plain.db');
    const r = await runBin(['demo', '--db', db]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\u001b['); // no ANSI when not a TTY
    expect(r.stdout).toMatch(/spawned bg_\d+ sub_agent/);
    expect(r.stdout).toMatch(/cancelTree\(bg_\d+\) → 3 tasks signalled/);
    expect(r.stdout).toMatch(/└─ ✗ bg_\d+ search web search failed/);
    expect(r.stdout).toMatch(/spawned bg_\d+ crawl_page "crawl \/guides" \(parent bg_\d+\) — queued/);
    expect(r.stdout).toMatch(/waiting bg_\d+ approve for input: \{"question":"Publish the report\?"/);
    expect(r.stdout).toMatch(/provideInput\(bg_\d+, "yes"\) → the approval goes on/);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^\+\d+\.\d+s done: 9 tasks/);
    expect(existsSync(db)).toBe(true);
  });
});
