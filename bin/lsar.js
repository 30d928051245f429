#!/usr/bin/env node
import { main } from '../dist/cli/main.js';
import { removeActiveTemps } from '../dist/io/atomic.js';

// Interrupted or hung up: remove half-written temporary outputs, then exit as the signal would.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
]) {
  process.on(signal, () => {
    // a command that handles the signal itself (lsar serve: finish requests, then exit) has its own listener
    if (process.listenerCount(signal) > 1) return;
    removeActiveTemps();
    process.exit(code);
  });
}

// A reader that stops reading (`lsar search ... | head -2`) ends the command quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    removeActiveTemps();
    if (e.code === 'EPIPE') process.exit(0);
    process.stderr.write(`lsar: cannot write output: ${e.message}\n`);
    process.exit(1);
  });
}

process.exitCode = await main(process.argv.slice(2));
