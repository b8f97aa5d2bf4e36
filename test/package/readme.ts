/** Reads the README's marked examples, so tests run exactly what a user copies. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const README = join(import.meta.dirname, '../../README.md');

/**
 * The fenced block (```ts by default) right after the marker `<!-- example: <name> -->` (or
 * `<!-- <kind>: <name> … -->`) in README.md, verbatim. Throws when the marker or its block is
 * missing, so a renamed example fails loudly.
 */
export function readmeBlock(name: string, { kind = 'example', lang = 'ts' } = {}): string {
  const text = readFileSync(README, 'utf8');
  const marker = `<!-- ${kind}: ${name}`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no ${marker} -->`);
  const rest = text.slice(text.indexOf('-->', at) + 3);
  // The block must follow the marker directly (only whitespace between).
  const match = new RegExp(`^\\s*\`\`\`${lang}\\n([\\s\\S]*?\\n)\`\`\``).exec(rest);
  if (!match) throw new Error(`README.md has no \`\`\`${lang} block after ${marker} -->`);
  return match[1]!;
}
