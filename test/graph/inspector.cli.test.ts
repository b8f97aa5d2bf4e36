import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, expect, it, vi } from 'vitest';
import { registerServeCommands } from '../../src/cli/serveCommand.js';
import type { InspectorServer } from '../../src/graph/index.js';
import type { InspectorSnapshot } from '../../src/graph/inspector/model.js';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import { createTaskSupervisor } from '../../src/supervisor/createTaskSupervisor.js';
import { gate, gated, http } from './inspectorHelpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'inspector-'));
  dirs.push(d);
  return d;
};

/** A program like the real one: a `demo` command whose own action must not run with --serve. */
function program() {
  const out: string[] = [];
  const plainDemo = vi.fn();
  const stop = new AbortController();
  let onListening!: (s: InspectorServer) => void;
  const listening = new Promise<InspectorServer>((r) => {
    onListening = r;
  });
  const p = new Command('awaken-tasks').exitOverride();
  p.command('demo')
    .option('--db <file>', 'SQLite file', join(tmp(), 'demo.db'))
    .option('--json')
    .action(plainDemo);
  registerServeCommands(p, {
    stdout: (t) => out.push(t),
    stderr: (t) => out.push(t),
    signal: stop.signal,
    onListening,
  });
  return { p, out, plainDemo, stop, listening };
}

it('serve --db FILE shows a store another supervisor writes, read-only, updating by polling', async () => {
  const db = join(tmp(), 'tasks.db');
  const store = new SqliteTaskStore(db);
  const sup = createTaskSupervisor({ store });
  const g = gate();
  const a = await sup.spawn({ threadId: 'w', taskType: 'job', description: 'first' }, gated(g));
  const cli = program();
  const run = cli.p.parseAsync(['serve', '--db', db, '--port', '0', '--poll', '20'], { from: 'user' });
  const server = await cli.listening;
  expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
  const snap = JSON.parse((await http(`${server.url}api/threads`)).body) as InspectorSnapshot;
  expect(snap.can_cancel).toBe(false);
  expect(snap.threads[0]?.nodes.map((n) => n.summary.task_id)).toEqual([a]);
  const b = await sup.spawn(
    { threadId: 'w', taskType: 'job', description: 'second', parentContext: { task_id: a } },
    gated(g),
  );
  g.open();
  await sup.wait(b);
  await vi.waitFor(
    async () => {
      const s = JSON.parse((await http(`${server.url}api/threads`)).body) as InspectorSnapshot;
      expect(s.threads[0]?.nodes.map((n) => `${n.summary.task_id}:${n.summary.status}`)).toEqual([
        `${a}:completed`,
        `${b}:completed`,
      ]);
    },
    { timeout: 10_000, interval: 20 },
  );
  const r = await http(`${server.url}cancel`, {
    method: 'POST',
    headers: { 'x-inspector-token': server.token, 'content-type': 'application/json' },
    body: JSON.stringify({ task_id: a }),
  });
  expect(r.status).toBe(409);
  cli.stop.abort();
  await run;
  await sup.stop();
  await store.close();
});

it('serve --db on a missing file fails without creating it', async () => {
  const db = join(tmp(), 'missing.db');
  const { p } = program();
  await expect(p.parseAsync(['serve', '--db', db], { from: 'user' })).rejects.toThrow(/no such file/);
  const { existsSync } = await import('node:fs');
  expect(existsSync(db)).toBe(false);
});

it('demo --serve PORT runs the live scenario under the inspector instead of the terminal demo', async () => {
  const cli = program();
  const run = cli.p.parseAsync(['demo', '--serve', '0'], { from: 'user' });
  const server = await cli.listening;
  expect(cli.out.join('')).toContain(`#token=${server.token}`);
  await vi.waitFor(
    async () => {
      const s = JSON.parse((await http(`${server.url}api/threads`)).body) as InspectorSnapshot;
      const demo = s.threads.find((t) => t.thread_id === 'demo');
      expect(demo?.nodes.map((n) => n.summary.task_type)).toEqual(
        expect.arrayContaining(['sub_agent', 'fetch', 'crawl', 'crawl_page', 'search']),
      );
      expect(demo?.nodes.some((n) => n.latest?.event.kind === 'custom')).toBe(true);
    },
    { timeout: 10_000, interval: 50 },
  );
  cli.stop.abort();
  await run;
  expect(cli.plainDemo).not.toHaveBeenCalled();
});

it('plain demo still runs its own action; --serve with --json is refused', async () => {
  const { p, plainDemo } = program();
  await p.parseAsync(['demo'], { from: 'user' });
  expect(plainDemo).toHaveBeenCalledTimes(1);
  const again = program();
  await expect(again.p.parseAsync(['demo', '--serve', '0', '--json'], { from: 'user' })).rejects.toThrow(
    /cannot be combined/,
  );
  expect(again.plainDemo).not.toHaveBeenCalled();
});
