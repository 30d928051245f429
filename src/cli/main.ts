/**
 * The CLI: parse flags, make one library call per command. Errors are caught
 * here, once: one line on stderr and a non-zero exit code.
 */
import yargs, { type Argv } from 'yargs';
import { isLsarError } from '../core/errors.js';
import { VERSION } from '../version.js';
import * as embed from './commands/embed.js';
import * as fit from './commands/fit.js';
import * as project from './commands/project.js';
import * as retrieve from './commands/retrieve.js';
import * as search from './commands/search.js';
import { processIO, type CliIO } from './io.js';

interface CommandModule {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv;
  handler: (argv: Record<string, unknown>, io: CliIO) => Promise<void>;
}

const COMMANDS: CommandModule[] = [embed, fit, project, retrieve, search];

/** Run the CLI on `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  let y = yargs(argv)
    .scriptName('lsar')
    .usage(
      '$0 <command> [options]\n\nLanguage-agnostic multilingual embeddings: find the low-rank language subspace (LSAR) and project it out.',
    )
    .version(VERSION)
    .help()
    .alias('h', 'help')
    .strict()
    .demandCommand(1, 'name a command: lsar <command> --help')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  for (const c of COMMANDS) {
    y = y.command(c.command, c.describe, c.builder, async (args) => c.handler(args as Record<string, unknown>, io));
  }
  try {
    await y.parseAsync();
    return 0;
  } catch (e) {
    if (isLsarError(e)) {
      io.stderr.write(`lsar: ${e.message}\n`);
      return e.code === 'USAGE' ? 2 : 1;
    }
    if (e instanceof UsageError) {
      io.stderr.write(`lsar: ${e.message} (see lsar --help)\n`);
      return 2;
    }
    io.stderr.write(`lsar: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 70;
  }
}

class UsageError extends Error {}
