// Helpers that drive the compiled awaken-tasks supervisor the same way the baseline is driven.
import { createTaskSupervisor } from '../../dist/src/index.js';

export { createTaskSupervisor };

/**
 * A supervisor whose owner inbox is a counting sender: `settled.until(n)` resolves once n terminal
 * events were delivered (i.e. n tasks reached a terminal state, their record written, their event
 * delivered — the supervisor's full "settled").
 */
export function countingSupervisor(makeCounter, options = {}) {
  const settled = makeCounter();
  let customs = 0;
  const sender = {
    send(event) {
      if (event.kind === 'custom') customs++;
      else settled.hit();
      return true;
    },
    trySend(event) {
      return this.send(event);
    },
    isClosed: () => false,
    clone() {
      return this;
    },
    close() {},
  };
  const supervisor = createTaskSupervisor({ ownerInbox: sender, ...options });
  return { supervisor, settled, customs: () => customs };
}

export const OPTS = { threadId: 'bench-thread', taskType: 'shell', description: 'bench' };

export const quickBody = async () => ({ ok: true });
export const parkedBody = async (ctx) => {
  await ctx.cancelled();
};

/**
 * Spawns `total` quick tasks in waves of `wave` concurrent spawns, each wave waiting until its
 * terminal events were delivered (the counting sender's `settled`). Shared by scenarios 1 and 7.
 */
export async function spawnWaves(supervisor, settled, total, wave) {
  for (let done = 0; done < total; done += wave) {
    const n = Math.min(wave, total - done);
    const spawns = new Array(n);
    for (let i = 0; i < n; i++) spawns[i] = supervisor.spawn(OPTS, quickBody);
    await Promise.all(spawns);
    await settled.until(done + n);
  }
}
