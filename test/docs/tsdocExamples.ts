/**
 * Lists the public functions and methods of the package's entry points that have no `@example`
 * in their TSDoc, using the TypeScript compiler API over the sources.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import type { Snippet } from './snippets.js';

const ROOT = join(import.meta.dirname, '../..');

/** The source index.ts of every entry point in package.json `exports` (dist path mapped to src). */
export function entryPointSources(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { types?: string }>;
  };
  const sources: string[] = [];
  for (const target of Object.values(pkg.exports)) {
    const types = typeof target === 'string' ? undefined : target.types;
    if (!types) continue;
    sources.push(join(ROOT, types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts')));
  }
  return sources;
}

function hasExample(node: ts.Node): boolean {
  return ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'example');
}

function isOurs(node: ts.Node): boolean {
  const file = node.getSourceFile().fileName;
  return !file.includes('/node_modules/');
}

function isPublicMember(member: ts.Declaration): boolean {
  const flags = ts.getCombinedModifierFlags(member);
  if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return false;
  const name = ts.getNameOfDeclaration(member);
  if (name && ts.isPrivateIdentifier(name)) return false;
  return !ts.getJSDocTags(member).some((tag) => tag.tagName.text === 'internal');
}

function isFunctionLike(node: ts.Declaration): boolean {
  return (
    ts.isMethodDeclaration(node) ||
    ts.isMethodSignature(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

/**
 * `entry: name` (or `entry: Owner.member`) for every exported function, class method or accessor,
 * and interface method reachable from an entry point without an `@example` on any of its
 * declarations (an overload set needs one example in total).
 */
export function missingExamples(entries: readonly string[] = entryPointSources()): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.build.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('cannot read tsconfig.build.json');
  const program = ts.createProgram({ rootNames: [...entries], options: { ...config.options, noEmit: true } });
  const checker = program.getTypeChecker();
  const missing = new Set<string>();
  const where = (d: ts.Node) =>
    process.env.TSDOC_WHERE
      ? ` (${relative(ROOT, d.getSourceFile().fileName)}:${d.getSourceFile().getLineAndCharacterOfPosition(d.getStart()).line + 1})`
      : '';
  const seen = new Set<ts.Symbol>();

  // TypeDoc shows an implemented interface member's comment on a class member that has none of
  // its own, so such a member is documented by the interface's example.
  const inheritsExample = (owner: ts.Symbol, name: string, decls: ts.Declaration[]): boolean => {
    if (decls.some((d) => ts.getJSDocCommentsAndTags(d).length > 0)) return false;
    for (const decl of owner.declarations ?? []) {
      if (!ts.isClassDeclaration(decl)) continue;
      for (const clause of decl.heritageClauses ?? []) {
        for (const base of clause.types) {
          const prop = checker.getTypeAtLocation(base).getProperty(name);
          // A library's interface (fast-check's `Command.run`) is documented by that library.
          if (prop?.declarations?.some((d) => hasExample(d) || !isOurs(d))) return true;
        }
      }
    }
    return false;
  };

  const checkMembers = (owner: string, symbol: ts.Symbol, entry: string) => {
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    for (const prop of checker.getPropertiesOfType(type)) {
      const decls = (prop.declarations ?? []).filter(
        (d) => isOurs(d) && isFunctionLike(d) && isPublicMember(d),
      );
      if (decls.length === 0) continue;
      if (decls.some(hasExample) || inheritsExample(symbol, prop.name, decls)) continue;
      missing.add(`${entry}: ${owner}.${prop.name}${where(decls[0]!)}`);
    }
    // Static methods of classes.
    for (const decl of symbol.declarations ?? []) {
      if (!ts.isClassDeclaration(decl)) continue;
      for (const member of decl.members) {
        const isStatic = ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Static;
        if (!isStatic || !isFunctionLike(member) || !isPublicMember(member)) continue;
        if (!hasExample(member)) missing.add(`${entry}: ${owner}.${member.name?.getText()}`);
      }
    }
  };

  // A function-valued constant is a function to its user; an object of helpers (`TaskResult`)
  // is a set of functions, each needing its own example.
  const checkVariable = (name: string, decls: ts.Declaration[], entry: string) => {
    for (const decl of decls) {
      if (!ts.isVariableDeclaration(decl)) continue;
      const callable = checker.getTypeAtLocation(decl).getCallSignatures().length > 0;
      // The doc comment sits on the variable statement.
      const statement = decl.parent.parent;
      if (callable && !hasExample(decl) && !hasExample(statement))
        missing.add(`${entry}: ${name}${where(decl)}`);
      let init = decl.initializer;
      if (init && ts.isCallExpression(init) && init.expression.getText() === 'Object.freeze')
        init = init.arguments[0];
      while (init && (ts.isAsExpression(init) || ts.isSatisfiesExpression(init))) init = init.expression;
      if (!init || !ts.isObjectLiteralExpression(init)) continue;
      for (const member of init.properties) {
        const fn =
          ts.isMethodDeclaration(member) ||
          (ts.isPropertyAssignment(member) &&
            (ts.isArrowFunction(member.initializer) || ts.isFunctionExpression(member.initializer)));
        if (fn && !hasExample(member))
          missing.add(`${entry}: ${name}.${member.name?.getText()}${where(member)}`);
      }
    }
  };

  for (const file of entries) {
    const entry = relative(ROOT, dirname(file)) || '.';
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`entry point ${file} is not in the program`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    if (!moduleSymbol) continue;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (seen.has(symbol)) continue;
      seen.add(symbol);
      const decls = (symbol.declarations ?? []).filter(isOurs);
      if (decls.length === 0) continue;
      if (symbol.flags & ts.SymbolFlags.Function) {
        if (!decls.some(hasExample)) missing.add(`${entry}: ${exported.name}`);
      }
      if (symbol.flags & ts.SymbolFlags.Variable) checkVariable(exported.name, decls, entry);
      if (symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) {
        checkMembers(exported.name, symbol, entry);
      }
    }
  }
  return [...missing].sort();
}

/** Every `@example` in the TSDoc of `src/` (shipped or not), as a fragment for `snippetErrors`. */
export function exampleSnippets(dir = join(ROOT, 'src')): Snippet[] {
  const snippets: Snippet[] = [];
  for (const f of (readdirSync(dir, { recursive: true }) as string[]).sort()) {
    if (!f.endsWith('.ts')) continue;
    const file = join(dir, f);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const seen = new Set<number>();
    const visit = (node: ts.Node) => {
      for (const tag of ts.getJSDocTags(node)) {
        // A tag can be reached from more than one node (a declaration and its statement).
        if (tag.tagName.text !== 'example' || seen.has(tag.pos)) continue;
        seen.add(tag.pos);
        const text =
          typeof tag.comment === 'string' ? tag.comment : (ts.getTextOfJSDocComment(tag.comment) ?? '');
        const line = source.getLineAndCharacterOfPosition(tag.getStart()).line + 2;
        const code = text.replace(/^```\w*\n?|```$/gm, '');
        snippets.push({ file: relative(ROOT, file), line, code, whole: false, example: true });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return snippets;
}
