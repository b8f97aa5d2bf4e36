/**
 * The inspector's commands: `serve --db FILE [--port N] [--host H] [--poll MS]`, and `--serve PORT`
 * on the existing `demo` command. Call {@link registerServeCommands} after `demo` is defined.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { type InspectorCliIo, runServedDemo, runServeStore } from '../graph/inspector/cli.js';
import { CliError } from './errors.js';

const port = (value: string): number => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new InvalidArgumentError('expected a TCP port (0-65535).');
  return n;
};

const positiveInt = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) === 0)
    throw new InvalidArgumentError('expected a positive integer.');
  return Number(value);
};

/**
 * Adds the inspector's commands to `program`:
 * - `serve --db FILE [--port 4477] [--host 127.0.0.1] [--poll 500]`: the inspector over a SQLite
 *   store (read-only, polled);
 * - `--serve PORT` (and `--host`) on `demo`, when `program` has a `demo` command: instead of the
 *   terminal demo, a live scripted agent under the inspector until Ctrl-C. The option takes over
 *   the `demo` action only when given (a `preAction` hook swaps the action for that run), so the
 *   plain `demo` is untouched.
 *
 * @example
 * const program = new Command('awaken-tasks');
 * program.command('demo').action(runTerminalDemo);
 * registerServeCommands(program);
 * await program.parseAsync(['serve', '--db', './awaken-tasks.db'], { from: 'user' });
 */
export function registerServeCommands(program: Command, io: Partial<InspectorCliIo> = {}): Command {
  const full: InspectorCliIo = {
    stdout: io.stdout ?? ((t) => process.stdout.write(t)),
    stderr: io.stderr ?? ((t) => process.stderr.write(t)),
    ...(io.signal ? { signal: io.signal } : {}),
    ...(io.onListening ? { onListening: io.onListening } : {}),
  };

  program
    .command('serve')
    .description('open the live task-tree inspector in the browser for a SQLite store (read-only)')
    .requiredOption('--db <file>', 'SQLite file written by awaken-tasks')
    .option('--port <port>', 'TCP port to listen on', port, 4477)
    .option('--host <address>', 'interface to bind (default loopback only)', '127.0.0.1')
    .option('--poll <ms>', 'how often to re-read the store', positiveInt, 500)
    .action(async (o: { db: string; port: number; host: string; poll: number }) => {
      await runServeStore({ db: o.db, port: o.port, host: o.host, pollMs: o.poll }, full);
    });

  const demo = program.commands.find((c) => c.name() === 'demo');
  if (demo !== undefined) {
    demo
      .option('--serve <port>', 'serve a live scripted agent in the browser inspector on this port', port)
      .option('--host <address>', 'with --serve: interface to bind', '127.0.0.1')
      .hook('preAction', (cmd) => {
        const o = cmd.opts<{
          serve?: number;
          host: string;
          db?: string;
          crashAfter?: number;
          json?: boolean;
        }>();
        if (o.serve === undefined) return;
        if (o.crashAfter !== undefined || o.json) {
          throw new CliError('--serve cannot be combined with --crash-after or --json');
        }
        const servePort = o.serve;
        // commander reads the action handler after the preAction hooks: this run serves instead.
        cmd.action(async () => {
          await runServedDemo({ port: servePort, host: o.host, ...(o.db ? { db: o.db } : {}) }, full);
        });
      });
  }
  return program;
}
