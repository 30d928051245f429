/** How a command is declared: its yargs builder (typed options) and one library call. */
import type { ArgumentsCamelCase, Argv } from 'yargs';
import type { CliIO } from './progress.js';

export interface Command<T = unknown> {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv<T>;
  run: (args: ArgumentsCamelCase<T>, io: CliIO) => Promise<void>;
}

export function defineCommand<T>(c: Command<T>): Command<T> {
  return c;
}
