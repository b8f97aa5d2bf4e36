/**
 * The message of a thrown value, for `Execution failed: …` texts.
 *
 * @example
 * errorText(new Error('boom')); // 'boom'
 */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
