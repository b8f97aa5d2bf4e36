/** The installed package's version, for `awaken-tasks --version`. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The `version` of the `awaken-tasks` package.json above this file: the nearest one walking up
 * from the compiled (`dist/src/cli`) or source (`src/cli`) directory, so it is right both when
 * installed and when run from a checkout.
 *
 * @example
 * packageVersion(); // '0.1.0'
 */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'awaken-tasks' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No readable package.json here: keep walking up.
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}
