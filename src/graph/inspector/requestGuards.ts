/** Checks on what an inspector request carries before it is served: its `Host` and its body size. */
import type { IncomingMessage } from 'node:http';

/** The host names every loopback-bound inspector accepts (in a `Host` header, with an optional port). */
export const LOOPBACK_HOSTS: readonly string[] = Object.freeze(['localhost', '127.0.0.1', '::1']);

const BRACKETED = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/i;
const PLAIN = /^([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?$/i;

/**
 * The host name of a `Host` header, lower-cased and without brackets or port, or `undefined` when
 * the header is missing or malformed: anything after `]` but a port, a port that is not 1–5 digits
 * up to 65535, a second colon outside brackets, characters no host name has.
 *
 * @example
 * parseHostHeader('127.0.0.1:4477');     // '127.0.0.1'
 * parseHostHeader('[::1]:80');           // '::1'
 * parseHostHeader('[::1]evil.example');  // undefined
 */
export function parseHostHeader(header: string | undefined): string | undefined {
  if (header === undefined || header.length > 255) return undefined;
  const m = BRACKETED.exec(header) ?? PLAIN.exec(header);
  if (m === null) return undefined;
  if (m[2] !== undefined && Number(m[2]) > 65_535) return undefined;
  return m[1]!.toLowerCase();
}

/**
 * Whether a request's `Host` header names one of `allowed` (lower-case host names, no port).
 *
 * @example
 * hostAllowed('localhost:4477', new Set(LOOPBACK_HOSTS)); // true
 * hostAllowed('evil.example', new Set(LOOPBACK_HOSTS));   // false
 */
export function hostAllowed(header: string | undefined, allowed: ReadonlySet<string>): boolean {
  const name = parseHostHeader(header);
  return name !== undefined && allowed.has(name);
}

/** A request body longer than the limit (the server answers 413). */
export class BodyTooLargeError extends RangeError {
  readonly code = 'body_too_large';
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(`request body is larger than ${limit} bytes`);
  }
}

/**
 * Reads a request body of at most `limit` bytes as UTF-8. A larger body (by `Content-Length` or
 * as it arrives) rejects with {@link BodyTooLargeError}; the rest of it is read and discarded, so
 * the connection is not reset before the client has read the answer.
 *
 * @example
 * const text = await readBodyWithin(req, 4096);
 */
export function readBodyWithin(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const parts: Buffer[] = [];
    const tooLarge = (): void => {
      req.removeListener('data', onData);
      // Keep reading (and dropping) so the client can finish sending and then read the 413.
      req.resume();
      reject(new BodyTooLargeError(limit));
    };
    const onData = (b: Buffer): void => {
      size += b.length;
      if (size > limit) tooLarge();
      else parts.push(b);
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return tooLarge();
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * `decodeURIComponent`, or `undefined` for a malformed `%`-escape (the server answers 400).
 *
 * @example
 * decodePathPart('bg_%31'); // 'bg_1'
 * decodePathPart('%E0%A4%A'); // undefined
 */
export function decodePathPart(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}
