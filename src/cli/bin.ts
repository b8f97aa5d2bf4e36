#!/usr/bin/env node
/** The `awaken-tasks` executable. */
import { runCli } from './program.js';

// `awaken-tasks demo | head`: a closed pipe ends the program quietly instead of with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.exitCode = await runCli(process.argv.slice(2));
