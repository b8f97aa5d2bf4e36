/**
 * How a durable task retries, with Temporal's field names. Every field is optional.
 *
 * @example
 * const retry: RetryPolicy = { maximumAttempts: 5, initialIntervalMs: 500, backoffCoefficient: 2 };
 */
export interface RetryPolicy {
  /** Attempts in all, the first included (a positive integer). Default 3. */
  readonly maximumAttempts?: number;
  /** The delay before the second attempt. Default 1000 ms. */
  readonly initialIntervalMs?: number;
  /** Each later delay is the previous one times this. Default 2. */
  readonly backoffCoefficient?: number;
  /** No delay is longer. Default 100 × `initialIntervalMs`. */
  readonly maximumIntervalMs?: number;
  /** Error names (exact `error.name` match) that end the task at once, like `NonRetryableError`. */
  readonly nonRetryableErrorTypes?: readonly string[];
  /**
   * The share of each delay drawn at random, in [0, 1]: the delay is uniform in
   * [d × (1 − jitter), d]. Default 0.2, so tasks that failed together do not all return at once.
   */
  readonly jitter?: number;
}

/** A policy with its defaults applied. */
export interface ResolvedRetryPolicy {
  readonly maximumAttempts: number;
  readonly initialIntervalMs: number;
  readonly backoffCoefficient: number;
  readonly maximumIntervalMs: number;
  readonly nonRetryableErrorTypes: readonly string[];
  readonly jitter: number;
}

function check(ok: boolean, field: string, expected: string, got: unknown): void {
  if (!ok) throw new TypeError(`Expected \`durable.retry.${field}\` to be ${expected}, got ${String(got)}`);
}

/**
 * Applies the defaults and checks every field; throws a `TypeError` naming a bad one.
 *
 * @example
 * resolveRetryPolicy({ maximumAttempts: 5 }).initialIntervalMs; // 1000
 */
export function resolveRetryPolicy(policy: RetryPolicy | undefined): ResolvedRetryPolicy {
  const p = policy ?? {};
  if (typeof p !== 'object' || p === null)
    throw new TypeError(`Expected \`durable.retry\` to be an object, got ${String(p)}`);
  const maximumAttempts = p.maximumAttempts ?? 3;
  // Finite: the count is stored (an integer column on PostgreSQL) and sent as JSON.
  check(
    Number.isSafeInteger(maximumAttempts) && maximumAttempts >= 1,
    'maximumAttempts',
    'a positive integer',
    maximumAttempts,
  );
  const initialIntervalMs = p.initialIntervalMs ?? 1000;
  check(
    Number.isFinite(initialIntervalMs) && initialIntervalMs >= 0,
    'initialIntervalMs',
    'a non-negative number',
    initialIntervalMs,
  );
  const backoffCoefficient = p.backoffCoefficient ?? 2;
  check(
    Number.isFinite(backoffCoefficient) && backoffCoefficient >= 1,
    'backoffCoefficient',
    'a number ≥ 1',
    backoffCoefficient,
  );
  const maximumIntervalMs = p.maximumIntervalMs ?? 100 * initialIntervalMs;
  check(
    Number.isFinite(maximumIntervalMs) && maximumIntervalMs >= initialIntervalMs,
    'maximumIntervalMs',
    'a number ≥ initialIntervalMs',
    maximumIntervalMs,
  );
  const types = p.nonRetryableErrorTypes ?? [];
  check(
    Array.isArray(types) && types.every((t) => typeof t === 'string'),
    'nonRetryableErrorTypes',
    'an array of strings',
    types,
  );
  const jitter = p.jitter ?? 0.2;
  check(Number.isFinite(jitter) && jitter >= 0 && jitter <= 1, 'jitter', 'a number in [0, 1]', jitter);
  return {
    maximumAttempts,
    initialIntervalMs,
    backoffCoefficient,
    maximumIntervalMs,
    nonRetryableErrorTypes: [...types],
    jitter,
  };
}

/**
 * The delay before the attempt after `attempt` (1-based): `initialIntervalMs × backoffCoefficient^(attempt−1)`,
 * capped at `maximumIntervalMs`, then jittered down by up to `jitter` of itself. `random` is in [0, 1).
 *
 * @example
 * backoffDelay(resolveRetryPolicy({ jitter: 0 }), 3, Math.random); // 4000
 */
export function backoffDelay(policy: ResolvedRetryPolicy, attempt: number, random: () => number): number {
  const base = Math.min(
    policy.initialIntervalMs * policy.backoffCoefficient ** Math.max(0, attempt - 1),
    policy.maximumIntervalMs,
  );
  return Math.round(base * (1 - policy.jitter * random()));
}

/**
 * Whether an attempt's error ends the task at once: a `NonRetryableError` (by class name) or a
 * name the policy lists.
 *
 * @example
 * isNonRetryable(new TypeError('x'), resolveRetryPolicy({ nonRetryableErrorTypes: ['TypeError'] })); // true
 */
export function isNonRetryable(error: unknown, policy: ResolvedRetryPolicy): boolean {
  let name: unknown;
  try {
    name = (error as { name?: unknown } | null)?.name;
  } catch {
    return false;
  }
  return (
    typeof name === 'string' && (name === 'NonRetryableError' || policy.nonRetryableErrorTypes.includes(name))
  );
}
