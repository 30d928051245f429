/**
 * The CLI: parse flags, make one library call per command. Errors are caught here, once:
 * one line on stderr and a non-zero exit code (2 for usage errors, 1 for bad data or
 * files, 70 for an internal error).
 */
import yargs from 'yargs';
import { isLsarError, USAGE_CODES, type LsarError } from '../core/errors.js';
import { closeWorkerPool } from '../adapters/pool.js';
import { VERSION } from '../version.js';
import { builder, flagOf, optionsOf, usage, type Command } from './command.js';
import { embedCommand } from './commands/embed.js';
import { exportCommand } from './commands/export.js';
import { fitCommand } from './commands/fit.js';
import { inspectCommand } from './commands/inspect.js';
import { mineCommand } from './commands/mine.js';
import { projectCommand } from './commands/project.js';
import { serveCommand } from './commands/serve.js';
import { retrieveCommand } from './commands/retrieve.js';
import { searchCommand } from './commands/search.js';
import { statsCommand } from './commands/stats.js';
import { reproduceCommand } from './commands/reproduce.js';
import { processIO, type CliIO } from './progress.js';

const COMMANDS: Command[] = [
  embedCommand,
  fitCommand,
  projectCommand,
  retrieveCommand,
  inspectCommand,
  searchCommand,
  mineCommand,
  statsCommand,
  exportCommand,
  serveCommand,
  reproduceCommand,
];

/** A library message as the CLI says it: the options it names (marked, see core/errors) shown as flags. */
function cliMessage(e: LsarError): string {
  return e.format(flagOf);
}

/** `--in -` as `--in=-`: yargs would take a lone "-" for a positional argument, not the option's value. */
function joinDashValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (/^--?[A-Za-z][\w-]*$/.test(a) && argv[i + 1] === '-') {
      out.push(`${a}=-`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Run the CLI on `argv` (without node and script); resolves to the exit code. */
export async function main(given: string[], io: CliIO = processIO()): Promise<number> {
  const argv = joinDashValues(given);
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
    y = y.command(usage(c), c.describe, builder(c), async (args) => c.run(optionsOf(c, args, argv), io));
  }
  try {
    await y.parseAsync();
    return 0;
  } catch (e) {
    if (isLsarError(e)) {
      io.stderr.write(`lsar: ${cliMessage(e)}\n`);
      return USAGE_CODES.has(e.code) ? 2 : 1;
    }
    // yargs rethrows errors of option checks (coerce) as YError, keeping their message.
    if (e instanceof UsageError || (e as Error)?.name === 'YError') {
      const cmd = COMMANDS.find((c) => argv[0] === c.name);
      io.stderr.write(`lsar: ${(e as Error).message}${e instanceof UsageError ? ` (see lsar ${cmd ? `${cmd.name} ` : ''}--help)` : ''}\n`);
      return 2;
    }
    // a system error no library call turned into its own message: one line with the path and the operation
    const sys = systemError(e);
    if (sys) {
      io.stderr.write(`lsar: ${sys}\n`);
      return 1;
    }
    io.stderr.write(`lsar: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 70;
  } finally {
    await closeWorkerPool();
  }
}

class UsageError extends Error {}

const SYSCALLS: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  scandir: 'list the directory',
  mkdir: 'create the directory',
  rename: 'rename',
  unlink: 'remove',
  rmdir: 'remove',
  stat: 'read the status of',
  lstat: 'read the status of',
  copyfile: 'copy',
  fsync: 'flush',
  close: 'close',
};

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory, where a file was expected',
  ENOTDIR: 'a part of the path is not a directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EEXIST: 'it already exists',
  ENOTEMPTY: 'the directory is not empty',
  EXDEV: 'on another device',
  EIO: 'input/output error',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many levels of symbolic links',
};

/** "path: cannot open (ENOENT: no such file or directory)" for a Node system error, else undefined. */
function systemError(e: unknown): string | undefined {
  const err = e as { code?: unknown; syscall?: unknown; path?: unknown; dest?: unknown; message?: unknown };
  if (typeof err?.code !== 'string' || !/^E[A-Z]+$/.test(err.code) || typeof err.syscall !== 'string') return undefined;
  const op = SYSCALLS[err.syscall] ?? err.syscall;
  const where = typeof err.path === 'string' ? `${err.path}${typeof err.dest === 'string' ? ` -> ${err.dest}` : ''}: ` : '';
  return `${where}cannot ${op} (${err.code}: ${REASONS[err.code] ?? String(err.message)})`;
}
