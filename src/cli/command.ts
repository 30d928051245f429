/**
 * How a command is declared: the verb's option schema (the library's, plus the CLI's own
 * `json`/`quiet`), examples, and one library call. Flags, their help (type, default, range,
 * choices, group) and positional arguments are generated from the schema; values go to the
 * library as given (the library validates once), numbers yargs could not read as their text.
 */
import type { Argv, Options } from 'yargs';
import type { OptionSpec, OptionsOf, Schema } from '../core/schema.js';
import type { CliIO } from './progress.js';

export interface Command<S extends Schema = Schema> {
  /** The command name (e.g. "fit"). */
  name: string;
  describe: string;
  /** The options: the verb's schema and the CLI's own. */
  schema: S;
  examples?: [string, string][];
  /**
   * The one library call (and the output it prints). Options arrive as given on the command
   * line, typed by the schema but not yet checked: the library validates them.
   */
  run: (options: OptionsOf<S>, io: CliIO) => Promise<void>;
}

/** A command, typed by its schema. */
export function defineCommand<S extends Schema>(c: Command<S>): Command {
  return c as unknown as Command;
}

/** kebab-case flag of an option name: `indexOut` -> `index-out`. */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** How a library option is written on the command line: `-k`, `--index-out`. */
export function flagOf(name: string): string {
  return name.length === 1 ? `-${name}` : `--${kebab(name)}`;
}

/** The usage line's command: the name and its positional arguments. */
export function usage(c: Command): string {
  const pos = Object.entries(c.schema)
    .filter(([, s]) => s.positional)
    .map(([n, s]) =>
      s.required ? `<${kebab(n)}${s.positional === 'variadic' ? '..' : ''}>` : `[${kebab(n)}${s.positional === 'variadic' ? '..' : ''}]`,
    );
  return [c.name, ...pos].join(' ');
}

function yargsType(s: OptionSpec): Options['type'] {
  return s.type === 'boolean' ? 'boolean' : s.type === 'number' || s.type === 'integer' ? 'number' : 'string';
}

function defaultText(s: OptionSpec): string | undefined {
  if (s.defaultText !== undefined) return s.defaultText;
  if (s.default === undefined || s.default === false) return undefined;
  return Array.isArray(s.default) ? s.default.join(',') : String(s.default);
}

/** The help line: the description, and the accepted values of a choice (the library checks them). */
function helpOf(s: OptionSpec): string {
  return s.choices ? `${s.description} [${s.choices.join(', ')}]` : s.description;
}

/** The yargs builder of a command's schema. */
export function builder(c: Command): (y: Argv) => Argv {
  return (y) => {
    let b = y;
    const groups = new Map<string, string[]>();
    for (const [name, s] of Object.entries(c.schema)) {
      const flag = kebab(name);
      const dflt = defaultText(s);
      if (s.positional) {
        b = b.positional(flag, {
          type: yargsType(s) as 'string',
          describe: helpOf(s),
          ...(s.positional === 'variadic' ? { array: true } : {}),
        });
        continue;
      }
      const list = s.type === 'strings' || s.type === 'integers';
      b = b.option(flag, {
        type: list ? 'string' : yargsType(s),
        describe: helpOf(s),
        ...(s.alias ? { alias: s.alias } : {}),
        ...(list ? { array: true } : {}),
        ...(dflt !== undefined ? { defaultDescription: dflt } : {}),
      });
      const g = s.group ?? 'Options:';
      groups.set(g, [...(groups.get(g) ?? []), flag]);
    }
    for (const [g, flags] of groups) b = b.group(flags, g);
    for (const [cmd, what] of c.examples ?? []) b = b.example(cmd, what);
    return b;
  };
}

/**
 * The library options of parsed arguments: every schema option as given (absent ones left out),
 * a number yargs could not read passed as the text typed (so the library says what it got).
 */
export function optionsOf(c: Command, args: Record<string, unknown>, raw: string[]): OptionsOf<Schema> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(c.schema)) {
    let v = args[name];
    if (v === undefined) continue;
    if ((s.type === 'number' || s.type === 'integer') && typeof v === 'number' && Number.isNaN(v))
      v = rawValue(raw, flagOf(name), s.alias) ?? v;
    // yargs keeps only the last of `--port 0 --port 1` (a first value of 0 is lost): count what was typed
    if (s.type !== 'boolean' && s.type !== 'strings' && s.type !== 'integers' && !Array.isArray(v)) {
      const typed = rawValues(raw, flagOf(name), s.alias);
      if (typed.length > 1) v = typed;
    }
    out[name] = v;
  }
  return out as OptionsOf<Schema>;
}

/** Every value typed for a flag, in order. */
function rawValues(raw: string[], flag: string, alias?: string): string[] {
  const flags = [flag, ...(alias ? [`-${alias}`] : [])];
  const out: string[] = [];
  for (let i = 0; i < raw.length && raw[i] !== '--'; i++) {
    const a = raw[i] as string;
    for (const f of flags) {
      if (a === f) out.push(raw[i + 1] ?? '');
      else if (a.startsWith(`${f}=`)) out.push(a.slice(f.length + 1));
    }
  }
  return out;
}

/** What was typed after a flag (`--ef abc`, `--ef=abc`, `-k abc`). */
function rawValue(raw: string[], flag: string, alias?: string): string | undefined {
  const flags = [flag, ...(alias ? [`-${alias}`] : [])];
  for (let i = 0; i < raw.length; i++) {
    const a = raw[i] as string;
    for (const f of flags) {
      if (a === f) return raw[i + 1];
      if (a.startsWith(`${f}=`)) return a.slice(f.length + 1);
    }
  }
  return undefined;
}
