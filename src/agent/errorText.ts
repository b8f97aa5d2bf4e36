/** Texts the tools send back to the model: error messages and the arguments they echo, kept short. */

/** The most characters of an argument a tool's error text echoes; longer ones are cut. */
export const MAX_ECHOED_CHARS = 200;
/** The most characters of a thrown error's message a tool's error text carries. */
export const MAX_ERROR_CHARS = 2_000;

/**
 * `text`, or its first `max` characters with an ellipsis and the original length when longer (a
 * surrogate pair is never split).
 *
 * @example
 * clipText('short');              // 'short'
 * clipText('x'.repeat(300), 3);   // 'xxx… (300 chars)'
 */
export function clipText(text: string, max = MAX_ECHOED_CHARS): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}… (${text.length} chars)`;
}

/**
 * An argument quoted for an error text: `'value'`, or `'first 200 chars…' (N chars)` when long, so
 * a 10 MB argument is never echoed whole.
 *
 * @example
 * quoteArgument('fork');                  // "'fork'"
 * quoteArgument('x'.repeat(10_485_760));  // "'xxxx…' (10485760 chars)" (200 x's)
 */
export function quoteArgument(value: string): string {
  if (value.length <= MAX_ECHOED_CHARS) return `'${value}'`;
  const clipped = clipText(value);
  const cut = clipped.lastIndexOf('… (');
  return `'${clipped.slice(0, cut)}…'${clipped.slice(cut + 1)}`;
}

/**
 * The message of a thrown value, for `Execution failed: …` texts, cut to `MAX_ERROR_CHARS`.
 *
 * @example
 * errorText(new Error('boom')); // 'boom'
 */
export function errorText(e: unknown): string {
  let text: string;
  try {
    text = e instanceof Error ? String(e.message) : String(e);
  } catch {
    // A hostile value (a throwing getter or toString) still yields a readable text.
    text = 'unprintable error';
  }
  return clipText(text, MAX_ERROR_CHARS);
}
