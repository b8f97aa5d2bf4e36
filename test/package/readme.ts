/** Reads the README's marked examples, so tests run exactly what a user copies. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const README = join(import.meta.dirname, '../../README.md');

/**
 * The ```ts block that follows the line `<!-- example: <name> -->` in README.md, verbatim.
 * Throws when the marker or its block is missing, so a renamed example fails loudly.
 */
export function readmeBlock(name: string): string {
  const text = readFileSync(README, 'utf8');
  const marker = `<!-- example: ${name} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no ${marker}`);
  const match = /^\s*```ts\n([\s\S]*?)^```/m.exec(text.slice(at + marker.length));
  if (!match) throw new Error(`README.md has no \`\`\`ts block after ${marker}`);
  return match[1]!;
}
