import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, binSuite } from './run.js';

/** A private tmux server, so the test never touches a user's sessions. */
const SOCKET = `awaken-test-${process.pid}`;
const tmux = (...args: string[]): string =>
  execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });

/** Polls the pane until `pattern` shows up (waits for output, not for a fixed time). */
async function waitForPane(pattern: RegExp, deadlineMs = 20_000): Promise<string> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const text = tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'demo');
    if (pattern.test(text)) return text;
    if (Date.now() > end) throw new Error(`pane never showed ${pattern}:\n${text}`);
    // Each look spawns tmux: every 20 ms, not in a loop that takes the CPU from the demo.
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the live view redraws in place in a real terminal (tmux)', () => {
  const tmp = binSuite('awaken-tty-');
  // Runs before the suite's directory is removed (after-hooks run last registered first).
  afterAll(() => {
    try {
      tmux('kill-server');
    } catch {}
  });

  it('shows one tree that updates, not many appended copies', async () => {
    const db = join(tmp.dir, 'tty.db');
    tmux(
      'new-session',
      '-d',
      '-s',
      'demo',
      '-x',
      '140',
      '-y',
      '60',
      `node ${BIN} demo --db ${db}; echo DEMO-EXIT=$?; read`,
    );
    // While running: spinners or progress bars are on screen.
    const during = await waitForPane(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]|█/);
    expect(during).toContain('awaken-tasks demo');
    const after = await waitForPane(/DEMO-EXIT=0/);
    // The whole scrollback holds exactly one header and one line per task: redrawn in place.
    expect(after.match(/awaken-tasks demo · thread demo/g)).toHaveLength(1);
    for (let i = 0; i < 9; i++) {
      const id = new RegExp(`\\bbg_${i} (sub_agent|fetch|crawl|crawl_page|approve|search|summarize)\\b`, 'g');
      expect(after.match(id), `bg_${i}`).toHaveLength(1);
    }
    expect(after).toMatch(/✓ bg_0 sub_agent/);
    expect(after).toMatch(/done: 9 tasks — 5 completed, 1 failed, 3 cancelled/);
  });
});
