/** The `awaken-tasks` command line: `demo`, `tree`, `graph`, parsed with commander. */
import { existsSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import { taskMachine } from '../../machines/task.machine.js';
import { toDot, toGraphJson, toMermaid } from '../graph/machineGraph.js';
import { runDemo } from './demo.js';
import { registerServeCommands } from './serveCommand.js';
import { CliError, oneLine } from './errors.js';
import { readStoreThreads, renderTree, TREE_FORMATS, type TreeFormat } from './tree.js';
import { DriverError } from '../stores/driverError.js';
import { packageVersion } from './version.js';

/** The SQLite file `demo` writes and `tree` reads when no `--db` is given. */
const DEMO_DB = './awaken-tasks.db';

/** Where the CLI writes; injectable for tests. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY: boolean;
}

const nonNegativeInt = (value: string): number => {
  if (!/^\d+$/.test(value))
    throw new InvalidArgumentError('expected a non-negative integer of milliseconds.');
  return Number(value);
};

function build(io: CliIo): Command {
  const program = new Command('awaken-tasks')
    .description('Supervise an AI agent’s background tasks with XState: demo, inspect stores, draw machines.')
    .version(packageVersion(), '-V, --version', 'print the version of awaken-tasks')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: () => {}, outputError: () => {} })
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);

  program
    .command('demo')
    .description('run a scripted agent that spawns, steers and cancels a tree of tasks (no network)')
    .option('--db <file>', 'SQLite file that keeps the tasks', DEMO_DB)
    .option('--crash-after <ms>', 'kill this process with SIGKILL after <ms>, mid-run', nonNegativeInt)
    .option('--json', 'one JSON object per line instead of the live view')
    .action(async (o: { db: string; crashAfter?: number; json?: boolean }) => {
      const mode = o.json ? 'json' : io.isTTY ? 'live' : 'plain';
      await runDemo({
        db: o.db,
        mode,
        ...(o.crashAfter === undefined ? {} : { crashAfterMs: o.crashAfter }),
      });
    });

  program
    .command('tree')
    .description('print the persisted task tree of a store')
    .option('--db <file>', 'SQLite file written by awaken-tasks (opened read-only)', DEMO_DB)
    .option('--thread <id>', 'only this owner thread')
    .addOption(new Option('--format <format>', 'output format').choices(TREE_FORMATS).default('text'))
    .action((o: { db: string; thread?: string; format: TreeFormat }) => {
      if (o.db === DEMO_DB && !existsSync(DEMO_DB))
        throw new CliError(
          `no store at ${DEMO_DB} (the demo's default): run \`awaken-tasks demo\` first, or pass --db <file>`,
        );
      const { threads, corrupt } = readStoreThreads(o.db, o.thread);
      io.stdout(renderTree(threads, o.format, io.isTTY && o.format === 'text'));
      if (corrupt > 0) io.stderr(`awaken-tasks: warning: skipped ${corrupt} unreadable record(s)\n`);
    });

  program
    .command('graph')
    .description('draw a state machine of the runtime')
    .addOption(
      new Option('--machine <name>', 'which machine').choices(['task', 'supervisor']).default('task'),
    )
    .addOption(
      new Option('--format <format>', 'output format').choices(['mermaid', 'dot', 'json']).default('mermaid'),
    )
    .action((o: { machine: 'task' | 'supervisor'; format: 'mermaid' | 'dot' | 'json' }) => {
      const m = o.machine === 'task' ? taskMachine : supervisorMachine;
      if (o.format === 'json') io.stdout(`${JSON.stringify(toGraphJson(m), null, 2)}\n`);
      else io.stdout(o.format === 'dot' ? toDot(m) : toMermaid(m));
    });
  // `serve --db FILE` and `demo --serve PORT`: the browser inspector.
  registerServeCommands(program, { stdout: io.stdout, stderr: io.stderr });
  return program;
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and resolves with the exit code: 0, or 2
 * after writing one line `awaken-tasks: <error>` to stderr for bad arguments, unknown commands or
 * flags, an unreadable store or an unknown thread. Never prints a stack trace.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2));
 */
export async function runCli(argv: readonly string[], io?: Partial<CliIo>): Promise<number> {
  const full: CliIo = {
    stdout: io?.stdout ?? ((t) => process.stdout.write(t)),
    stderr: io?.stderr ?? ((t) => process.stderr.write(t)),
    isTTY: io?.isTTY ?? process.stdout.isTTY === true,
  };
  const fail = (msg: string): number => {
    full.stderr(`awaken-tasks: ${oneLine(msg).replace(/^error: /, '')}\n`);
    return 2;
  };
  if (argv.length === 0) return fail('missing command: demo, tree, graph or serve (see awaken-tasks --help)');
  try {
    await build(full).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return 0;
      return fail(e.message);
    }
    if (e instanceof CliError || e instanceof DriverError) return fail(e.message);
    return fail(`unexpected error: ${oneLine(e)}`);
  }
}
