import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryPointSources, missingExamples } from './tsdocExamples.js';

describe('TSDoc of the public API', () => {
  it('finds every entry point of package.json `exports`', () => {
    const entries = entryPointSources();
    expect(entries.length).toBeGreaterThanOrEqual(9);
    expect(entries.some((e) => e.endsWith('src/index.ts'))).toBe(true);
    expect(entries.some((e) => e.endsWith('src/adapters/otel/index.ts'))).toBe(true);
  });

  it("reports functions, function constants, helper objects' methods, interface methods, class methods and accessors without an @example", () => {
    const missing = missingExamples([join(import.meta.dirname, 'fixtures/undocumented.ts')]);
    expect(missing.map((m) => m.replace(/^[^:]*: /, '').replace(/ \(.*\)$/, ''))).toEqual([
      'Counter.bump',
      'Counter.count',
      'Helpers.run',
      'Shape.area',
      'arrow',
      'bare',
    ]);
  });

  it('every public function, helper, class method or accessor and interface method has an @example', () => {
    expect(missingExamples()).toEqual([]);
  });
});
