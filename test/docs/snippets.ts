/**
 * Type-checks the ```ts blocks of README.md and docs/*.md against the sources, so every import,
 * function, option and signature the docs show exists.
 *
 * A block right after `<!-- example: … -->` or `<!-- check -->` is a whole program: every
 * diagnostic counts. Any other block is a fragment that may use names it does not declare (a
 * `supervisor`, an `inbox`): diagnostics about undeclared names, and the implicit `any`s they
 * cause, are ignored; everything else (a missing export, a wrong option, a wrong argument) counts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = join(import.meta.dirname, '../..');

/** One ```ts block: where it is, and whether it is a whole program. */
export interface Snippet {
  readonly file: string;
  readonly line: number;
  readonly code: string;
  readonly whole: boolean;
  /** An inline call span: only its names count, not whether an optional member is present. */
  readonly span?: boolean;
  /**
   * A TSDoc `@example`: a fragment whose imports are implied (so narrowing on an unimported class
   * does not happen), which may `return` from the function it stands in, and whose `…` elides.
   */
  readonly example?: boolean;
}

/** The markdown files the docs consist of: README.md and docs/*.md. */
export function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(ROOT, 'docs', f));
  return [join(ROOT, 'README.md'), ...docs.sort()];
}

/** Every ```ts block of `file`. */
export function snippetsOf(file: string, text = readFileSync(file, 'utf8')): Snippet[] {
  const out: Snippet[] = [];
  // Fences may be indented (inside a list item); the block's lines lose that indent.
  const fence = /^( *)```ts\s*\n([\s\S]*?)^\1```\s*$/gm;
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    const before = text.slice(0, m.index).trimEnd();
    const whole = /<!--\s*(example:[^>]*|check)\s*-->$/.test(before);
    const line = text.slice(0, m.index).split('\n').length + 1;
    const indent = m[1]!;
    const code = m[2]!
      .split('\n')
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
      .join('\n');
    out.push({ file: relative(ROOT, file), line, code, whole });
  }
  return out;
}

// Diagnostics a fragment may have because its context is not in the block: undeclared names
// (and "did you mean"), and the implicit `any`s of callbacks passed to them.
const FRAGMENT_CODES = new Set([2304, 2552, 2582, 7005, 7006, 7031, 7034, 18004]);
// An inline span like `store.messages.deadLetterCount(…)` names an optional member on purpose.
const SPAN_CODES = new Set([2532, 18048]);
const EXAMPLE_CODES = new Set([1108, 1127, 18046, 2593]);

/**
 * The names fragments may use without declaring them, with their real types, so calls on them are
 * checked. Doc pages use `store` for any `TaskStore`; TSDoc examples of a concrete store mean that
 * store, so they leave `store` undeclared.
 */
export const DOC_GLOBALS = [
  'supervisor: TaskSupervisor',
  'store: TaskStore',
  'id: TaskId',
  'threadId: string',
];
export const EXAMPLE_GLOBALS = [
  'supervisor: TaskSupervisor',
  'id: TaskId',
  'threadId: string',
  "inbox: import('awaken-tasks').Inbox<import('awaken-tasks').TaskEvent>",
  "sender: import('awaken-tasks').InboxSender",
  "outbox: import('awaken-tasks').MessageOutboxStore",
  "harness: import('awaken-tasks/testing').SupervisorHarness",
  "timers: import('awaken-tasks/testing').ManualTimers",
  "puppet: import('awaken-tasks/testing').Puppet",
  "tap: import('awaken-tasks/graph').EventTap",
  "tool: import('awaken-tasks/agent').ToolDefinition",
  "sink: import('awaken-tasks/agent').DurableMessageSink",
];

/** `paths` for every entry point of package.json `exports`, mapped to the sources. */
function entryPaths(): Record<string, string[]> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, string | { types?: string }>;
  };
  const paths: Record<string, string[]> = {};
  for (const [sub, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string' || !target.types) continue;
    const name = sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`;
    paths[name] = [join(ROOT, target.types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts'))];
  }
  return paths;
}

/**
 * Every inline code span of `file` that is a call (`TaskResult.failed(...)`, `supervisor.cancel(id)`)
 * as a one-line fragment: its names are checked, its arguments are not (`...`, `…` stand for them).
 */
export function callSpansOf(file: string, text = readFileSync(file, 'utf8')): Snippet[] {
  const out: Snippet[] = [];
  const prose = text.replace(/^( *)```[\s\S]*?^\1```\s*$/gm, (block) => block.replace(/[^\n]/g, ' '));
  const span = /`([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\(([^`]*)\)`/g;
  for (let m = span.exec(prose); m; m = span.exec(prose)) {
    const line = prose.slice(0, m.index).split('\n').length;
    out.push({ file: relative(ROOT, file), line, code: `${m[1]};\n`, whole: false, span: true });
  }
  return out;
}

/** `file:line: message` for each error in the given snippets (all doc snippets by default). */
export function snippetErrors(
  snippets: readonly Snippet[] = docFiles().flatMap((f) => [...snippetsOf(f), ...callSpansOf(f)]),
  globals: readonly string[] = DOC_GLOBALS,
): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('cannot read tsconfig.json');
  // No DOM lib: a user's Node program has none, and DOM globals (`event`, `parent`, `history`)
  // would give a fragment's undeclared names wrong types instead of none.
  const options: ts.CompilerOptions = {
    ...config.options,
    noEmit: true,
    paths: entryPaths(),
    lib: ['lib.es2023.d.ts'],
  };
  const virtual = new Map<string, Snippet>();
  snippets.forEach((s, i) => {
    // .mts: an ES module, so top-level await works and blocks do not share a global scope.
    virtual.set(join(ROOT, `.doc-snippets/${i}.mts`), s);
  });
  const prelude = join(ROOT, '.doc-snippets/prelude.d.mts');
  const preludeCode = `import type { TaskId, TaskStore, TaskSupervisor } from 'awaken-tasks';
declare global {
  const TaskResult: typeof import('awaken-tasks').TaskResult;
${globals.map((g) => `  const ${g};`).join('\n')}
}
export {};
`;
  const host = ts.createCompilerHost(options);
  const base = { getSourceFile: host.getSourceFile, fileExists: host.fileExists, readFile: host.readFile };
  host.getSourceFile = (name, lang, ...rest) => {
    if (name === prelude) return ts.createSourceFile(name, preludeCode, lang);
    const s = virtual.get(name);
    return s ? ts.createSourceFile(name, s.code, lang) : base.getSourceFile(name, lang, ...rest);
  };
  host.fileExists = (name) => name === prelude || virtual.has(name) || base.fileExists(name);
  host.readFile = (name) =>
    name === prelude ? preludeCode : (virtual.get(name)?.code ?? base.readFile(name));
  const program = ts.createProgram({ rootNames: [prelude, ...virtual.keys()], options, host });
  const errors: string[] = [];
  for (const [name, s] of virtual) {
    const source = program.getSourceFile(name);
    const diagnostics = [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ];
    for (const d of diagnostics) {
      if (!s.whole && FRAGMENT_CODES.has(d.code)) continue;
      if (s.span && SPAN_CODES.has(d.code)) continue;
      if (s.example && EXAMPLE_CODES.has(d.code)) continue;
      const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
      errors.push(
        `${s.file}:${s.line + at}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
      );
    }
  }
  return errors;
}
