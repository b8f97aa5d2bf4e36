// 8. Durable send_message: 10k messages, queued by the tool and delivered at step ends (10 per step)
// into the reference sink, on the memory store and on a SQLite file; baseline: the 0.4 shape, the
// tool calling a sink (a Map keyed by message id) during the call. No target: the price of `queued`
// meaning durable, and of at-least-once delivery.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackgroundTasksPlugin, sendMessageTool } from '../../dist/src/agent/index.js';
import { MemoryTaskStore, createTaskSupervisor } from '../../dist/src/index.js';
import { interleave, now, row } from '../lib/measure.js';

export const id = 8;
export const title = 'durable send_message';
export const needsSqlite = true;

const PER_STEP = 10;
const args = (i) => ({ to: { relation: 'agent', thread_id: 'recipient' }, message: `message ${i}` });
const ctx = { threadId: 'sender', agentId: 'bench' };

/** The 0.4 shape: validate, mint an id, call the sink inside the tool call. */
async function immediate(total) {
  const delivered = new Map();
  const t0 = now();
  for (let i = 0; i < total; i++) {
    const message_id = `${i}`;
    if (!delivered.has(message_id)) delivered.set(message_id, { message_id, ...args(i) });
  }
  return (total / (now() - t0)) * 1000;
}

async function queued(store, total) {
  const supervisor = createTaskSupervisor({ store });
  const send = sendMessageTool(supervisor);
  const sink = { sendAgentMessage: (req) => store.messages.deliver(req) };
  const { stepEnd } = createBackgroundTasksPlugin(supervisor, { durableSink: sink }).hooks;
  await store.messages.pending('sender'); // schema creation outside the measurement
  const t0 = now();
  for (let i = 0; i < total; i += PER_STEP) {
    for (let j = i; j < Math.min(total, i + PER_STEP); j++) await send.execute(args(j), ctx);
    await stepEnd({ threadId: 'sender' });
  }
  const rate = (total / (now() - t0)) * 1000;
  if ((await store.messages.delivered('recipient')).length !== total)
    throw new Error('bench 8: lost messages');
  await supervisor.stop();
  await store.close();
  return rate;
}

export async function run({ trials, scale }) {
  const { SqliteTaskStore } = await import('../../dist/src/stores/sqlite/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'awaken-bench-'));
  const total = Math.max(PER_STEP, Math.round(10_000 * scale));
  let k = 0;
  try {
    const rows = [];
    for (const [label, make] of [
      ['memory store', () => new MemoryTaskStore()],
      [
        'SQLite synchronous=normal',
        () => new SqliteTaskStore(join(dir, `msg-${k++}.db`), { synchronous: 'normal' }),
      ],
    ]) {
      const r = await interleave({
        trials,
        warmup: 1,
        baseline: () => immediate(total),
        ours: () => queued(make(), total),
      });
      rows.push(
        row({
          scenario: `8 send_message → stepEnd → reference sink, ${total / 1000}k messages (${PER_STEP}/step), ${label}`,
          metric: 'messages',
          unit: 'messages/s',
          better: 'higher',
          baselineLabel: 'in-call Map',
          oursLabel: 'outbox',
          ...r,
          note: 'context only',
        }),
      );
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
