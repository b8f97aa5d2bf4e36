// Measurement helpers shared by the scenarios: medians, interleaved trials, forced GC, formatting.
import { performance } from 'node:perf_hooks';

export const now = () => performance.now();

export function median(values) {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Full collection (the runner re-execs itself with --expose-gc, so `gc` exists). */
export async function settleHeap() {
  // Let pending microtasks/immediates (promise reactions of finished tasks) run first.
  await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 3; i++) globalThis.gc?.();
}

/**
 * Before a trial: pending reactions drained and one full collection, so the trial starts without
 * the previous one's garbage. One, not `settleHeap`'s three: V8 flushes the bytecode of a function
 * that has not run for five full collections (`--bytecode-old-age`), so three per side would
 * recompile from source, inside every timed trial, whatever runs only in the timed part (the
 * cancel path of scenario 3, say): a cold start each trial, which no running process sees.
 */
async function quiesce() {
  await new Promise((r) => setImmediate(r));
  globalThis.gc?.();
}

/**
 * Between two scenarios: a few turns of the event loop, each followed by a full collection. What
 * one scenario leaves behind must not be measured in the next: the last supervisor of a 100k-task
 * scenario (its summaries, tens of MB) stays reachable for a couple of turns after its `stop()`
 * resolved, and a collection in the same turn keeps it; the next scenario's trials then run with
 * that much more heap to mark.
 */
export async function settleProcess() {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 10));
    globalThis.gc?.();
  }
}

/** The next macrotask: lets finished work's reactions drain between trials. */
export const tick = () => new Promise((r) => setImmediate(r));

/**
 * Runs `warmup` untimed rounds, then `trials` rounds alternating baseline and ours
 * (baseline, ours, baseline, ours …), with a GC before each. Each fn resolves to one figure.
 * `swap`: every second round runs ours first (baseline, ours, ours, baseline …), so neither side
 * always runs right after the other's garbage, for ratios near 1 where that order shows.
 * Returns { baseline: number[], ours: number[] }.
 */
export async function interleave({ trials, warmup = 1, baseline, ours, swap = false }) {
  for (let i = 0; i < warmup; i++) {
    await quiesce();
    await baseline();
    await quiesce();
    await ours();
  }
  const out = { baseline: [], ours: [] };
  for (let i = 0; i < trials; i++) {
    const oursFirst = swap && i % 2 === 1;
    if (oursFirst) {
      await quiesce();
      out.ours.push(await ours());
    }
    await quiesce();
    out.baseline.push(await baseline());
    if (!oursFirst) {
      await quiesce();
      out.ours.push(await ours());
    }
  }
  return out;
}

/** A counter that resolves `until(n)` once `hit()` has been called n times. */
export function counter() {
  let count = 0;
  let target = Infinity;
  let resolve;
  return {
    get count() {
      return count;
    },
    hit() {
      if (++count >= target && resolve) {
        const r = resolve;
        resolve = undefined;
        target = Infinity;
        r();
      }
    },
    until(n) {
      if (count >= n) return Promise.resolve();
      target = n;
      return new Promise((r) => {
        resolve = r;
      });
    },
  };
}

/**
 * One row of the report. `better` says which direction is good for the raw figures ('higher' for
 * throughput, 'lower' for cost); `ratio` is always ours / baseline, `target` bounds that ratio.
 */
export function row({
  scenario,
  metric,
  unit,
  baseline,
  ours,
  better,
  target,
  note,
  baselineLabel,
  oursLabel,
}) {
  const b = median(baseline);
  const o = median(ours);
  const ratio = o / b;
  let pass = null;
  if (target !== undefined) pass = target.op === '>=' ? ratio >= target.value : ratio <= target.value;
  return {
    scenario,
    metric,
    unit,
    better,
    baselineLabel: baselineLabel ?? 'baseline',
    oursLabel: oursLabel ?? 'ours',
    baseline: { median: b, trials: baseline },
    ours: { median: o, trials: ours },
    ratio,
    target: target === undefined ? null : `${target.op} ${target.label ?? target.value}`,
    targetValue: target?.value ?? null,
    targetOp: target?.op ?? null,
    pass,
    note: note ?? null,
  };
}

export function fmt(n) {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  return n.toFixed(2);
}
