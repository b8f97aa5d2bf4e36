/**
 * The package as a user gets it: `npm pack`, then a fresh TypeScript app installs the tarball,
 * type-checks the README's examples under `strict` and runs them verbatim. npm works from its
 * local cache (`--prefer-offline`), so this needs the registry only for packages not seen before.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_TIMEOUT_MS, buildOnce, ROOT } from '../cli/run.js';
import { readmeBlock } from './readme.js';

/** npm and tsc in a child process: generous, since CI runs two test files at once on two cores. */
const STEP_TIMEOUT_MS = 120_000;
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every file under `dir` (relative), for "nothing native was built" checks. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

/** Type-checks and compiles `<name>.ts` in `app` under strict settings, then runs it with node. */
function compileAndRun(app: string, name: string): { status: number | null; stdout: string; stderr: string } {
  const tsc = spawnSync(process.execPath, [TSC, '-p', join(app, 'tsconfig.json')], {
    cwd: app,
    encoding: 'utf8',
  });
  expect(tsc.stdout + tsc.stderr, `tsc ${name}.ts`).toBe('');
  expect(tsc.status).toBe(0);
  const run = spawnSync(process.execPath, [join(app, 'out', `${name}.js`)], {
    cwd: app,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('the packed tarball in a fresh app', () => {
  let work: string;
  let tarball: string;
  let app: string;
  let packedFiles: string[];

  beforeAll(async () => {
    await buildOnce();
    work = mkdtempSync(join(tmpdir(), 'awaken-packed-'));
    const [packed] = JSON.parse(
      npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work, ...NPM_FLAGS], ROOT),
    ) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(work, packed!.filename);
    packedFiles = packed!.files.map((f) => f.path);

    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          lib: ['ES2023', 'DOM'],
          types: [],
          outDir: 'out',
        },
        include: ['*.ts'],
      }),
    );
    npm(['install', tarball, ...NPM_FLAGS], app);
  }, BUILD_TIMEOUT_MS);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it(
    'ships compiled code, declarations, LICENSE and README, and no sourcemaps or sources',
    () => {
      expect(packedFiles).toContain('LICENSE');
      expect(packedFiles).toContain('README.md');
      expect(packedFiles).toContain('dist/src/index.js');
      expect(packedFiles).toContain('dist/src/index.d.ts');
      expect(packedFiles).toContain('dist/src/cli/bin.js');
      expect(packedFiles.filter((f) => f.endsWith('.map'))).toEqual([]);
      expect(
        packedFiles.filter(
          (f) => !f.startsWith('dist/') && !['LICENSE', 'README.md', 'package.json'].includes(f),
        ),
      ).toEqual([]);
      const js = readFileSync(join(app, 'node_modules/awaken-tasks/dist/src/index.js'), 'utf8');
      expect(js).not.toMatch(/sourceMappingURL/);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'installs the core only: no database driver, no native addon, nothing compiled',
    () => {
      const modules = join(app, 'node_modules');
      expect(existsSync(join(modules, 'awaken-tasks/package.json'))).toBe(true);
      for (const heavy of [
        'better-sqlite3',
        'pg',
        'ai',
        '@modelcontextprotocol/sdk',
        '@opentelemetry/api',
        '@ag-ui/core',
        'fast-check',
        'typescript',
      ]) {
        expect(existsSync(join(modules, heavy)), heavy).toBe(false);
      }
      const native = filesUnder(modules).filter((f) => f.endsWith('.node') || f.includes('/build/Release/'));
      expect(native).toEqual([]);
      const packages = npm(['ls', '--all', '--parseable'], app).trim().split('\n').slice(1);
      console.log(`core install: ${packages.length} packages`);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "the README's quick start type-checks under strict and runs verbatim on the core install",
    () => {
      writeFileSync(join(app, 'quickstart.ts'), readmeBlock('quick-start'));
      writeFileSync(join(app, 'sqlite.ts'), readmeBlock('sqlite'));
      const r = compileAndRun(app, 'quickstart');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/event_type: 'progress'/);
      expect(r.stdout).toMatch(/status: 'completed'/);
      expect(r.stdout).toMatch(/result: \{ pages: 3 \}/);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'the SQLite example without better-sqlite3 fails with one clear error naming the package',
    () => {
      const r = spawnSync(process.execPath, [join(app, 'out', 'sqlite.js')], { cwd: app, encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(
        'awaken-tasks/sqlite needs the package `better-sqlite3`, which is not installed: run `npm install better-sqlite3`',
      );
      expect(existsSync(join(app, 'tasks.db'))).toBe(false);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'each adapter entry point and the testing kit, imported without its peer, fails with a DriverError naming it',
    () => {
      const entries: Array<[entry: string, peer: string]> = [
        ['awaken-tasks/ai-sdk', 'ai'],
        ['awaken-tasks/mcp', '@modelcontextprotocol/sdk'],
        ['awaken-tasks/otel', '@opentelemetry/api'],
        ['awaken-tasks/ag-ui', '@ag-ui/core'],
        ['awaken-tasks/testing', 'fast-check'],
      ];
      for (const [entry, peer] of entries) {
        expect(existsSync(join(app, 'node_modules', peer)), peer).toBe(false);
        // Once as an uncaught import (what a user sees), once caught (what code can check).
        writeFileSync(join(app, 'adapter.mjs'), `import '${entry}';\n`);
        const bare = spawnSync(process.execPath, ['adapter.mjs'], { cwd: app, encoding: 'utf8' });
        expect(bare.status, entry).not.toBe(0);
        const text = `${entry} needs the package \`${peer}\`, which is not installed: run \`npm install ${peer}\``;
        expect(bare.stderr, entry).toContain(`DriverError: ${text}`);
        // Node's own error is only the cause, printed after the DriverError.
        expect(bare.stderr.indexOf('DriverError: '), entry).toBeLessThan(bare.stderr.indexOf('[cause]'));
        writeFileSync(
          join(app, 'adapter.mjs'),
          `import { DriverError } from 'awaken-tasks';\ntry { await import('${entry}'); } catch (e) {\n` +
            '  const { name, code, driver, message } = e;\n' +
            '  console.log(JSON.stringify({ name, code, driver, message, core: e instanceof DriverError }));\n}\n',
        );
        const caught = spawnSync(process.execPath, ['adapter.mjs'], { cwd: app, encoding: 'utf8' });
        expect(caught.stderr, entry).toBe('');
        expect(JSON.parse(caught.stdout), entry).toEqual({
          name: 'DriverError',
          code: 'driver_missing',
          driver: peer,
          message: text,
          core: true,
        });
      }
      // The core entry points need no peer.
      writeFileSync(
        join(app, 'adapter.mjs'),
        "import 'awaken-tasks'; import 'awaken-tasks/agent'; import 'awaken-tasks/graph';\n",
      );
      const core = spawnSync(process.execPath, ['adapter.mjs'], { cwd: app, encoding: 'utf8' });
      expect(core.stderr).toBe('');
      expect(core.status).toBe(0);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'the CLI runs from the core install: --version works, demo names the missing driver',
    () => {
      const bin = join(app, 'node_modules/.bin/awaken-tasks');
      const version = spawnSync(bin, ['--version'], { cwd: app, encoding: 'utf8' });
      expect(version.status).toBe(0);
      expect(version.stdout.trim()).toBe(
        (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
      );
      const demo = spawnSync(bin, ['demo', '--json'], { cwd: app, encoding: 'utf8' });
      expect(demo.status).toBe(2);
      expect(demo.stderr).toMatch(/needs the package `better-sqlite3`.*npm install better-sqlite3/);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "with better-sqlite3 added, the README's SQLite example runs verbatim and its tasks survive a restart",
    () => {
      // The user's `npm install better-sqlite3` compiles the addon (minutes, and the prebuilt binary
      // is downloaded from outside the registry); the repo's copy is already built for this Node,
      // so the app gets it as a linked package instead.
      npm(
        [
          'install',
          realpathSync(join(ROOT, 'node_modules/better-sqlite3')),
          '--ignore-scripts',
          ...NPM_FLAGS,
        ],
        app,
      );
      const first = compileAndRun(app, 'sqlite');
      expect(first.stderr).toBe('');
      expect(first.status).toBe(0);
      expect(first.stdout).toMatch(/status: 'completed'/);
      expect(existsSync(join(app, 'tasks.db'))).toBe(true);
      // The second run restores the first run's task from the file before spawning its own.
      const second = spawnSync(process.execPath, [join(app, 'out', 'sqlite.js')], {
        cwd: app,
        encoding: 'utf8',
      });
      expect(second.stderr).toBe('');
      expect(second.status).toBe(0);
      expect(second.stdout).toMatch(/restored 1 task/);
    },
    STEP_TIMEOUT_MS,
  );
  it(
    'with ai and @ag-ui/core added, their entry points load and export the task-card helpers',
    () => {
      // Linked from the repo's install, like better-sqlite3 above (their own dependencies resolve there).
      npm(
        [
          'install',
          realpathSync(join(ROOT, 'node_modules/ai')),
          realpathSync(join(ROOT, 'node_modules/@ag-ui/core')),
          '--ignore-scripts',
          ...NPM_FLAGS,
        ],
        app,
      );
      writeFileSync(
        join(app, 'adapter.mjs'),
        "const ai = await import('awaken-tasks/ai-sdk'); const ag = await import('awaken-tasks/ag-ui');\n" +
          'console.log(typeof ai.streamUntilIdle, typeof ai.backgroundTaskTool, typeof ag.forwardTaskActivities);\n',
      );
      const r = spawnSync(process.execPath, ['adapter.mjs'], { cwd: app, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('function function function');
    },
    STEP_TIMEOUT_MS,
  );
});
