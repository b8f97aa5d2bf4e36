import fc from 'fast-check';

/** The seed of this process's properties: `FC_SEED` replays a failure, else a fresh one. */
export const SEED =
  process.env.FC_SEED === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env.FC_SEED);

/**
 * Runs an async property with the logged seed (`console.log` at start; `FC_SEED=<n>` replays;
 * `FC_PATH` too). On failure the error names the seed, the path and the shrunk counterexample.
 */
export async function assertWithSeed<T>(
  name: string,
  prop: fc.IAsyncProperty<T>,
  numRuns: number,
): Promise<void> {
  console.log(`[${name}] fast-check seed ${SEED} (replay: FC_SEED=${SEED}), ${numRuns} runs`);
  const path = process.env.FC_PATH;
  await fc.assert(prop, { numRuns, seed: SEED, ...(path === undefined ? {} : { path }) });
}

/** Runs per property: `FC_RUNS` overrides (e.g. `FC_RUNS=50` while developing). */
export const runsFor = (n: number): number =>
  process.env.FC_RUNS === undefined ? n : Number(process.env.FC_RUNS);
