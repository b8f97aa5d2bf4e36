import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChild } from '../test/fixtures/childProcess.js';
import { main, REPORT, secondLife } from './durable-report.js';

const dir = mkdtempSync(join(tmpdir(), 'awaken-durable-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = resolve(import.meta.dirname, '..');

/** Compiles this example (and the sources it imports) for a plain-node child process. */
function buildExample(): string {
  const out = join(root, 'test/artifacts', 'build-durable-report');
  const args = ['--outDir', out, '--rootDir', root, '--module', 'nodenext', '--moduleResolution', 'nodenext'];
  args.push('--target', 'es2022', '--skipLibCheck', '--strict', join(root, 'examples/durable-report.ts'));
  try {
    execFileSync(join(root, 'node_modules/.bin/tsc'), args, { cwd: root, stdio: 'pipe' });
  } catch (e) {
    if (!existsSync(join(out, 'examples/durable-report.js'))) throw e;
  }
  return out;
}

describe('examples/durable-report (P, gap 19)', () => {
  it("a sub-agent's report to its parent survives the parent process being abandoned", async () => {
    const lines: string[] = [];
    const { first, second } = await main(join(dir, 'in-process.db'), (l) => lines.push(l));
    expect(first.lead).toMatchObject({ status: 'waiting', status_reason: 'awaiting_tasks' });
    expect(second.response).toBe(`Summary for the user: ${REPORT}`);
    expect(second.messages[0]).toMatchObject({
      role: 'user',
      content: REPORT,
      metadata: { sender_agent_id: 'researcher' },
    });
    expect(lines.at(-1)).toContain(REPORT);
  });

  it("a sub-agent's report to its parent survives a SIGKILL of the parent's process", async () => {
    const dist = buildExample();
    const file = join(dir, 'killed.db');
    const child = startChild('durable-report-child.mjs', { EXAMPLE_DIST: dist, DB_FILE: file }, () =>
      child.proc.kill('SIGKILL'),
    );
    await child.closed;
    expect(child.lines).toEqual([{ t: 'reported', lead: 'waiting' }]);
    const run = await secondLife(file);
    expect(run.response).toBe(`Summary for the user: ${REPORT}`);
    // Read once: a later run does not see it again.
    expect((await secondLife(file)).response).toBe('No report yet.');
  }, 120_000);
});
