#!/usr/bin/env node
import { processIo } from './io.js';
import { invokedName, runCli } from './program.js';

// `meshprobe predict | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const name = invokedName(process.argv[1]);
process.exitCode = await runCli(process.argv.slice(2), processIo(), name === 'main' ? 'meshprobe' : name);
