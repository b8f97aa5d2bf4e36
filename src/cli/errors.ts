/** Errors the CLI reports as one line on stderr with exit code 2. */

/**
 * A user-facing CLI error: bad arguments, an unreadable file, an unknown thread. The bin prints
 * `awaken-tasks: <message>` on one line and exits with code 2, never a stack trace.
 *
 * @example
 * throw new CliError(`unknown thread 'x' in ./tasks.db`);
 */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/**
 * One line of text for any thrown value: the message, whitespace collapsed.
 *
 * @example
 * oneLine(new Error('a\nb')); // 'a b'
 */
export function oneLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/\s+/g, ' ').trim() || 'unknown error';
}
