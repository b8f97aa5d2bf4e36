// 4. 1M emits routed to an inbox and drained: drained every 64 events (steady) and all at once
// (burst), each trial on a fresh supervisor; and drained every 64 on one supervisor kept across
// trials (a server's steady state). Ours: a running task's ctx.emit → supervisor → createInbox ring → receiver.drain().
// Baseline: a function pushing {kind:'custom',task_id,event_type,payload} onto an array with a
// head index, consumed the same way.
import { createInbox } from '../../dist/src/index.js';
import { interleave, now, row } from '../lib/measure.js';
import { createTaskSupervisor, OPTS } from '../lib/ours.js';

export const id = 4;
export const title = 'emit → inbox → drain';

function baselineQueue() {
  let items = [];
  let head = 0;
  return {
    emit(taskId, eventType, payload) {
      items.push({ kind: 'custom', task_id: taskId, event_type: eventType, payload });
      return true;
    },
    /** Consumes everything queued; returns a checksum so the work cannot be elided. */
    drainInto(consume) {
      while (head < items.length) {
        const ev = items[head];
        items[head++] = undefined;
        consume(ev);
      }
      items = [];
      head = 0;
    },
  };
}

let sink = 0;
const consume = (ev) => {
  sink += ev.payload.percent;
};

function baselineRun(n, every) {
  const q = baselineQueue();
  const t0 = now();
  for (let i = 0; i < n; i++) {
    q.emit('bg_0', 'progress', { percent: i & 127 });
    if ((i & (every - 1)) === every - 1) q.drainInto(consume);
  }
  q.drainInto(consume);
  return (n / (now() - t0)) * 1000;
}

/** Spawns a task that parks on `supervisor` and resolves with its id and context. */
async function parkedTask(supervisor) {
  let ctx;
  const id = await supervisor.spawn(OPTS, async (c) => {
    ctx = c;
    await c.cancelled();
  });
  return { id, ctx };
}

/** The timed part: n emits from `ctx`, the receiver drained every `every`; events/s. */
function timedEmits(ctx, receiver, n, every) {
  let received = 0;
  const t0 = now();
  for (let i = 0; i < n; i++) {
    ctx.emit('progress', { percent: i & 127 });
    if ((i & (every - 1)) === every - 1) {
      const batch = receiver.drain();
      for (let j = 0; j < batch.length; j++) consume(batch[j]);
      received += batch.length;
    }
  }
  const batch = receiver.drain();
  for (let j = 0; j < batch.length; j++) consume(batch[j]);
  received += batch.length;
  const rate = (n / (now() - t0)) * 1000;
  if (received !== n) throw new Error(`ours: received ${received} of ${n}`);
  return rate;
}

export async function oursRun(n, every) {
  // Drained every 64 the default bound is never reached; the burst keeps all 1M, so it is unbounded.
  const inbox = createInbox(every > n ? { capacity: Number.POSITIVE_INFINITY } : undefined);
  const supervisor = createTaskSupervisor({ ownerInbox: inbox.sender });
  const { ctx } = await parkedTask(supervisor);
  const rate = timedEmits(ctx, inbox.receiver, n, every);
  supervisor.cancelAll(OPTS.threadId);
  await supervisor.stop();
  return rate;
}

// One supervisor and inbox for every trial of the long-lived row: a server keeps its supervisor,
// so V8 keeps what it learned about its objects. Between trials nothing of ours survives in the
// other rows, and the forced GCs make V8 drop the emit path's optimised code (it is relearned
// inside the timed loop: see docs/design.md, third pass on the emit path).
let longLived;

export async function oursRunLongLived(n, every) {
  longLived ??= (() => {
    const inbox = createInbox();
    return { inbox, supervisor: createTaskSupervisor({ ownerInbox: inbox.sender }) };
  })();
  const { inbox, supervisor } = longLived;
  const { id, ctx } = await parkedTask(supervisor);
  inbox.receiver.drain();
  const rate = timedEmits(ctx, inbox.receiver, n, every);
  supervisor.cancel(id);
  await supervisor.wait(id);
  inbox.receiver.drain();
  return rate;
}

export async function run({ trials, scale }) {
  const n = Math.round(1_000_000 * scale);
  const rows = [];
  for (const [label, every, ours] of [
    ['drain every 64', 64, oursRun],
    ['burst then drain', 2 ** 30, oursRun],
    ['drain every 64, one long-lived supervisor', 64, oursRunLongLived],
  ]) {
    const r = await interleave({
      trials,
      warmup: 1,
      baseline: async () => baselineRun(n, every),
      ours: () => ours(n, every),
    });
    rows.push(
      row({
        scenario: `4 ${n / 1e6}M emits → inbox, ${label}`,
        metric: 'emit',
        unit: 'events/s',
        better: 'higher',
        ...r,
        target: { op: '>=', value: 0.5, label: '1/2' },
      }),
    );
  }
  if (sink < 0) console.log(sink);
  return rows;
}
