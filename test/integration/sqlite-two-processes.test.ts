import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTaskSupervisor, ORPHAN_ERROR } from '../../src/index.js';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import { buildDist, type Child, startChild, untilChild } from '../fixtures/childProcess.js';

type Line = Record<string, unknown> & { t: string };

let dist = '';
const dir = mkdtempSync(join(tmpdir(), 'awaken-sqlite-2p-'));
beforeAll(() => {
  dist = buildDist('sqlite-2p');
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const owners: Child[] = [];
// A failed assertion must not leave an owner process waiting on stdin.
afterEach(() => {
  for (const child of owners.splice(0)) {
    if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
  }
});

/** Runs the built CLI and resolves with its exit code and output. */
function bin(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(dist, 'src/cli/bin.js'), ...args], (error, stdout, stderr) =>
      done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

/** Starts the owner fixture on `file` and waits for its live task. */
async function startOwner(file: string) {
  const owner = startChild('sqlite-owner-child.mjs', { AWAKEN_DIST: dist, DB_FILE: file, ROLE: 'owner' });
  owners.push(owner);
  // Every 20 ms, not every turn: a busy poll would take a core from the child it waits for.
  await untilChild(owner, () => owner.lines.length > 0, 20_000, 'the owner ready');
  const ready = owner.lines[0] as Line & { id: string; pid: number; instanceId: string };
  expect(ready.t).toBe('ready');
  return { owner, ready };
}

/** Runs a one-shot fixture role on `file` and returns its one line. */
async function once(file: string, role: 'intruder' | 'reader'): Promise<Line> {
  const child = startChild('sqlite-owner-child.mjs', { AWAKEN_DIST: dist, DB_FILE: file, ROLE: role });
  await child.closed;
  expect(child.lines).toHaveLength(1);
  return child.lines[0] as Line;
}

describe('two processes on one SQLite file', () => {
  it("the second process is refused at once naming the owner, cannot orphan the first's live task, and the first's result survives", async () => {
    const file = join(dir, 'shared.db');
    const { owner, ready } = await startOwner(file);

    const intruder = await once(file, 'intruder');
    expect(intruder).toMatchObject({
      t: 'refused',
      name: 'SqliteStoreError',
      code: 'owned_elsewhere',
      owner: { pid: ready.pid, instanceId: ready.instanceId },
    });
    expect(intruder.message).toContain(file);
    expect(intruder.message).toContain(`process ${ready.pid}`);
    // At once: no waiting on SQLite's busy timeout (5 s by default; it would take at least that).
    // The bound leaves a busy machine room to load the driver and open the file.
    expect(intruder.ms as number).toBeLessThan(4_000);

    // A read-only reader (what `tree` and `serve --db` do) works beside the owner and sees it running.
    const read = await once(file, 'reader');
    expect(read).toMatchObject({ t: 'read', records: [{ task_id: ready.id, status: 'running' }] });

    // The CLI beside the owner: `tree` reads it; `demo` (a writer) is refused with the owner named.
    const tree = await bin(['tree', '--db', file, '--thread', 't']);
    expect(tree.code, tree.stderr).toBe(0);
    expect(tree.stdout).toContain(ready.id);
    const demo = await bin(['demo', '--db', file, '--json']);
    expect(demo.code).toBe(2);
    expect(demo.stderr).toMatch(new RegExp(`owned by process ${ready.pid}`));

    owner.send({ cmd: 'finish' });
    await owner.closed;
    const finished = owner.lines.at(-1) as Line & { summary: { status: string; result: unknown } };
    expect(finished.summary).toMatchObject({ status: 'completed', result: { by: ready.pid } });

    // After the owner is gone the file opens, and holds the first process's result, not an orphan.
    const after = await once(file, 'intruder');
    expect(after).toMatchObject({
      t: 'loaded',
      tasks: [{ task_id: ready.id, status: 'completed', result: { by: ready.pid } }],
    });
  }, 60_000);

  it('I17: a SIGKILLed owner releases the file: the next process takes over and orphans its running task', async () => {
    const file = join(dir, 'killed.db');
    const { owner, ready } = await startOwner(file);
    expect(await once(file, 'intruder')).toMatchObject({ code: 'owned_elsewhere' });
    owner.proc.kill('SIGKILL');
    await owner.closed;

    const store = new SqliteTaskStore(file);
    const supervisor = createTaskSupervisor({ store });
    expect(await supervisor.loadThread('t')).toBe(1);
    expect(supervisor.get(ready.id)).toMatchObject({ status: 'failed', error: ORPHAN_ERROR });
    await supervisor.stop();
    expect(await store.load('t')).toMatchObject([
      { task_id: ready.id, status: 'failed', error: ORPHAN_ERROR },
    ]);
    await store.close();
  }, 60_000);

  it('a SIGSTOPped owner still owns the file: no takeover while it cannot run', async () => {
    const file = join(dir, 'stopped.db');
    const { owner, ready } = await startOwner(file);
    owner.proc.kill('SIGSTOP');
    try {
      expect(await once(file, 'intruder')).toMatchObject({
        code: 'owned_elsewhere',
        owner: { pid: ready.pid },
      });
    } finally {
      owner.proc.kill('SIGCONT');
    }
    owner.send({ cmd: 'finish' });
    await owner.closed;
    expect(owner.lines.at(-1)).toMatchObject({ summary: { status: 'completed' } });
  }, 60_000);
});
