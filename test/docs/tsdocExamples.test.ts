import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_GLOBALS, snippetErrors } from './snippets.js';
import { entryPointSources, exampleSnippets, missingExamples } from './tsdocExamples.js';

// Each check builds a TypeScript program over the sources: seconds each, more on a loaded machine.
describe('TSDoc of the public API', { timeout: 120_000 }, () => {
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

  it('the check of @example code reports a method that does not exist', () => {
    const snippets = exampleSnippets(join(import.meta.dirname, 'fixtures'));
    expect(snippets.map((s) => s.file)).toEqual([
      'test/docs/fixtures/badExample.ts',
      'test/docs/fixtures/undocumented.ts',
    ]);
    const errors = snippetErrors(snippets, EXAMPLE_GLOBALS);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^test\/docs\/fixtures\/badExample\.ts:5: TS2551 .*'spawnn'/);
  });

  it('every @example in src/ type-checks against the sources (as a fragment: undeclared names aside)', () => {
    const snippets = exampleSnippets();
    expect(snippets.length).toBeGreaterThan(400);
    expect(snippetErrors(snippets, EXAMPLE_GLOBALS)).toEqual([]);
  });
});
