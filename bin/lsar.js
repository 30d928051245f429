#!/usr/bin/env node
import { main } from '../dist/cli/main.js';
import { removeActiveTemps } from '../dist/io/atomic.js';

// Interrupted: remove half-written temporary outputs, then exit as the signal would.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
]) {
  process.once(signal, () => {
    removeActiveTemps();
    process.exit(code);
  });
}

process.exitCode = await main(process.argv.slice(2));
