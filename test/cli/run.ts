/** Test helpers: build the package once and run the real bin as a child process. */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = resolve(ROOT, 'dist/src/cli/bin.js');

const LOCK = resolve(ROOT, 'dist/.cli-test-build.lock');
const STAMP = resolve(ROOT, 'dist/.cli-test-build.stamp');
/** Vitest's worker processes share one parent: a build stamped with it belongs to this run. */
const RUN = String(process.ppid);

/**
 * `npm run build`'s compiler step (`npx tsc -p tsconfig.build.json`), once per test run: the
 * first test file to take the lock builds, the others wait for it, so no file runs the bin while
 * another tsc is rewriting it. tsc emits even when some file has a type error (CI's `npm run
 * build` and `tsc --noEmit` catch those); this only fails when nothing usable was emitted.
 */
export async function buildOnce(): Promise<void> {
  mkdirSync(resolve(ROOT, 'dist'), { recursive: true });
  for (;;) {
    if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === RUN && !existsSync(LOCK)) return;
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Another file is building (or a crashed build left the lock: take it after 5 minutes).
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > 300_000)
        rmSync(LOCK, { recursive: true });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    const started = Date.now();
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
    } catch (e) {
      if (!existsSync(BIN) || statSync(BIN).mtimeMs < started - 1000) throw e;
    }
    writeFileSync(STAMP, RUN);
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** How long a `beforeAll` that builds may take on a busy machine. */
export const BUILD_TIMEOUT_MS = 240_000;

/**
 * For a describe block of bin tests: builds the package once before all ({@link buildOnce}) and
 * makes a temporary directory `<tmpdir>/<prefix>…`, removed after all. `dir` is its path (read it
 * in hooks and tests, once made).
 */
export function binSuite(prefix: string): { readonly dir: string } {
  let dir: string | undefined;
  beforeAll(async () => {
    await buildOnce();
    dir = mkdtempSync(join(tmpdir(), prefix));
  }, BUILD_TIMEOUT_MS);
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir(): string {
      if (dir === undefined) throw new Error('the bin suite has not made its directory yet');
      return dir;
    },
  };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/src/cli/bin.js …args` and resolves when it exits (no timers). */
export function runBin(args: readonly string[], cwd = ROOT): Promise<RunResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

/** The JSON lines of a `demo --json` run. */
export const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
