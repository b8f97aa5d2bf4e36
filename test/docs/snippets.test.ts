import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callSpansOf, docFiles, snippetErrors, snippetsOf } from './snippets.js';

// Each check builds a TypeScript program over the sources: seconds each, more on a loaded machine.
describe('the ```ts blocks of README.md and docs/*.md', { timeout: 120_000 }, () => {
  it('are found, the README quick start among them as a whole program', () => {
    const snippets = docFiles().flatMap((f) => snippetsOf(f));
    expect(snippets.length).toBeGreaterThanOrEqual(25);
    expect(snippets.filter((s) => s.file === 'README.md' && s.whole)).toHaveLength(2);
  });

  it('the check reports wrong imports, options and methods, and undeclared names in whole programs', () => {
    const errors = snippetErrors(snippetsOf(join(import.meta.dirname, 'fixtures/wrong.md')));
    const codes = errors.map((e) => e.replace(/^.*?: (TS\d+).*$/, '$1'));
    expect(errors.some((e) => e.includes("'createSupervisor'"))).toBe(true);
    expect(errors.some((e) => e.includes('ownerInboxx'))).toBe(true);
    expect(errors.some((e) => e.includes('spawnTask'))).toBe(true);
    expect(errors.some((e) => e.includes("'port'") || e.includes("'string'"))).toBe(true);
    // `render(tap)` is ignored in the fragment and reported (twice: render, tap) in the whole program.
    expect(codes.filter((c) => c === 'TS2304')).toHaveLength(2);
  });

  it('the check reports calls in prose that name no real function', () => {
    const fixture = join(import.meta.dirname, 'fixtures/wrong.md');
    const spans = callSpansOf(fixture);
    expect(spans.map((s) => s.code.trim())).toEqual([
      'TaskResult.failure;',
      'supervisor.cancelEverything;',
      'TaskResult.cancelled;',
      'store.messages.deadLetterCount;',
    ]);
    const errors = snippetErrors(spans);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain("'failure'");
    expect(errors[1]).toContain("'cancelEverything'");
  });

  it('type-check against the sources, and so do the calls named in their prose', () => {
    expect(snippetErrors()).toEqual([]);
  });
});
