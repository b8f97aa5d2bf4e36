import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackgroundTasksPlugin } from '../../src/agent/index.js';
import type { DurableMessageSink } from '../../src/agent/index.js';
import { createTaskSupervisor } from '../../src/index.js';
import { SqliteTaskStore } from '../../src/stores/sqlite/index.js';
import { buildDist, startChild } from '../fixtures/childProcess.js';

type Line = { t: 'queued' | 'sink-call' | 'sink-done'; id: string } | { t: 'step-end' } | { t: 'finished' };

const ROUNDS = 20;
let dist = '';
const dir = mkdtempSync(join(tmpdir(), 'awaken-msg-crash-'));

beforeAll(() => {
  dist = buildDist('messaging');
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let redeliveries = 0;

/** One round: the sender runs until its `killAfter`-th line, is SIGKILLed, and a new process recovers. */
async function round(seed: number): Promise<void> {
  const file = join(dir, `msg-${seed}.db`);
  // Lines per life are ~12 queued + 3 per dispatched message: spread the kill over all of them.
  const killAfter = 1 + ((seed * 7) % 40);
  let seen = 0;
  const child = startChild(
    'messaging-crash-child.mjs',
    { AWAKEN_DIST: dist, DB_FILE: file, SEED: String(seed) },
    (line) => {
      if (++seen === killAfter || (line as Line).t === 'finished') child.proc.kill('SIGKILL');
    },
  );
  await child.closed;
  const lines = child.lines as Line[];
  const queued = lines.flatMap((l) => (l.t === 'queued' ? [l.id] : []));
  const calls = new Map<string, number>();
  for (const l of lines) if (l.t === 'sink-call') calls.set(l.id, (calls.get(l.id) ?? 0) + 1);

  // The restart: a new supervisor on the file, whose next step end on the sender thread dispatches the leftovers.
  const store = new SqliteTaskStore(file);
  const supervisor = createTaskSupervisor({ store });
  try {
    const sink: DurableMessageSink = {
      async sendAgentMessage(req) {
        calls.set(req.message_id, (calls.get(req.message_id) ?? 0) + 1);
        return store.messages.deliver(req);
      },
    };
    await createBackgroundTasksPlugin(supervisor, { durableSink: sink }).hooks.stepEnd({
      threadId: 'sender',
    });
    expect(await store.messages.pending('sender')).toEqual([]);
    expect(await store.messages.deadLetters('sender')).toEqual([]);

    const delivered = (await store.messages.delivered('recipient')).map((m) => m.message_id);
    // Nothing twice in the recipient thread, whatever the number of sink calls.
    expect(new Set(delivered).size).toBe(delivered.length);
    // Every message the tool answered `queued` for was delivered at least once...
    for (const id of queued) {
      expect(delivered, `seed ${seed}: queued ${id} never delivered`).toContain(id);
      expect(calls.get(id) ?? 0).toBeGreaterThanOrEqual(1);
    }
    // ...and nothing else arrived (a message the kill caught between commit and print is still one we sent).
    expect(delivered.length - queued.length).toBeLessThanOrEqual(1);
    for (const n of calls.values()) if (n > 1) redeliveries++;
  } finally {
    await supervisor.stop();
    await store.close();
  }
}

describe('crash: SIGKILL between send_message and delivery (P14, P15, gap 6)', () => {
  it(`${ROUNDS} rounds: after restart every queued message is delivered at least once and exactly once into the reference sink`, async () => {
    const base = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
    console.log(`[crash-messaging] seeds ${base}..${base + ROUNDS - 1} (replay: CRASH_SEED=${base})`);
    for (let i = 0; i < ROUNDS; i++) await round(base + i);
    console.log(
      `[crash-messaging] messages delivered more than once to the sink (deduplicated): ${redeliveries}`,
    );
  }, 180_000);
});
