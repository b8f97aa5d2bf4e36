/** How many events (and, separately, control requests) may wait to be written before new ones are refused. */
export const MAX_BACKLOG = 10_000;

const BASE_MS = 50;
const MAX_MS = 1_000;

/** Waits before retry number `attempt + 1` of a failed write: 50 ms doubling to 1 s, with jitter. */
export function backoff(attempt: number): Promise<void> {
  const ms = Math.min(BASE_MS * 2 ** attempt, MAX_MS);
  // Like the records' retries, a retry nobody awaits does not keep a finished process alive.
  return new Promise((resolve) => setTimeout(resolve, ms / 2 + Math.random() * (ms / 2)).unref());
}
