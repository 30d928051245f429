/**
 * Option schemas: each verb declares its options once (name, type, range, default,
 * description), the library validates what it is given against that declaration (once, at
 * the start of the verb: types, ranges, choices, defaults filled in), and the CLI generates its
 * flags and their help from the same declaration (src/cli/schema-flags.ts). The TypeScript type
 * of a verb's options is derived from its schema, so the four things cannot drift apart.
 */
import { createError, opt } from './errors.js';

export type OptionType = 'string' | 'number' | 'integer' | 'boolean' | 'strings' | 'integers';

export interface OptionSpec {
  type: OptionType;
  /** What the option does (the CLI's --help line). */
  description: string;
  /** Applied by `validate` when the option is not given (stated here only). */
  default?: string | number | boolean | readonly string[];
  /** How --help shows a default that is computed ("L-1", "every core"); with `default`, overrides its text. */
  defaultText?: string;
  /** Numbers: inclusive range. */
  min?: number;
  max?: number;
  /** Strings (and lists of strings): the accepted values. */
  choices?: readonly string[];
  required?: boolean;
  /** The CLI: a one-letter short flag. */
  alias?: string;
  /** The CLI: a positional argument (variadic: takes the rest). */
  positional?: boolean | 'variadic';
  /** The CLI: the heading of --help it is listed under. */
  group?: string;
  /** Lists: the CLI flag may be repeated (`--in a --in b`); every list also splits on commas unless `noSplit`. */
  noSplit?: boolean;
}

export type Schema = Record<string, OptionSpec>;

type ValueOf<O extends OptionSpec> = O['type'] extends 'string'
  ? O extends { choices: readonly (infer C)[] }
    ? C
    : string
  : O['type'] extends 'number' | 'integer'
    ? number
    : O['type'] extends 'boolean'
      ? boolean
      : O['type'] extends 'strings'
        ? O extends { choices: readonly (infer C)[] }
          ? C[]
          : string[]
        : O['type'] extends 'integers'
          ? number[]
          : never;

/** The options a caller gives: required ones, and the others optional (undefined = not given). */
export type OptionsOf<S extends Schema> = {
  -readonly [K in keyof S as S[K] extends { required: true } ? K : never]: ValueOf<S[K]>;
} & {
  -readonly [K in keyof S as S[K] extends { required: true } ? never : K]?: ValueOf<S[K]> | undefined;
};

/** The options after validation: those with a default are always there. */
export type Resolved<S extends Schema> = {
  -readonly [K in keyof S as S[K] extends { required: true } | { default: unknown } ? K : never]: ValueOf<S[K]>;
} & {
  -readonly [K in keyof S as S[K] extends { required: true } | { default: unknown } ? never : K]?: ValueOf<S[K]>;
};

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? `a list` : String(v);
}

function range(spec: OptionSpec): string {
  return spec.min !== undefined && spec.max !== undefined
    ? ` from ${spec.min} to ${spec.max}`
    : spec.min !== undefined
      ? ` of at least ${spec.min}`
      : spec.max !== undefined
        ? ` of at most ${spec.max}`
        : '';
}

/** One number, checked: `name` names the option in messages. A string is parsed (the CLI's raw text). */
function checkNumberOption(name: string, spec: OptionSpec, value: unknown, inList = false): number {
  const integer = spec.type === 'integer' || spec.type === 'integers';
  const whole = integer ? 'a whole number' : 'a number';
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || Number.isNaN(n)) {
    throw createError(
      'USAGE',
      inList
        ? `${opt(name)} expects whole numbers separated by commas, got ${JSON.stringify(String(value))}`
        : `${opt(name)} expects ${whole}, got ${typeof value === 'number' ? 'NaN' : JSON.stringify(value)}`,
      { param: name },
    );
  }
  if (
    (integer && !Number.isInteger(n)) ||
    !Number.isFinite(n) ||
    (spec.min !== undefined && n < spec.min) ||
    (spec.max !== undefined && n > spec.max)
  ) {
    throw createError('RANGE', `${opt(name)} must be ${whole}${range(spec)}, got ${n}`, { param: name });
  }
  return n;
}

function checkChoice(name: string, spec: OptionSpec, v: string): string {
  if (spec.choices && !spec.choices.includes(v))
    throw createError('USAGE', `${opt(name)} must be one of ${spec.choices.join(', ')}; got ${JSON.stringify(v)}`, { param: name });
  return v;
}

/** A list option's items: an array, or a comma-separated string. */
function items(name: string, spec: OptionSpec, v: unknown): string[] {
  const raw = Array.isArray(v) ? v : [v];
  const out: string[] = [];
  for (const x of raw) {
    if (typeof x !== 'string' && typeof x !== 'number')
      throw createError('USAGE', `${opt(name)} expects a list, got ${describe(x)}`, { param: name });
    const parts = spec.noSplit ? [String(x)] : String(x).split(',');
    for (const p of parts) if (p.trim() !== '') out.push(p.trim());
  }
  return out;
}

/** One option's value, checked and converted. */
export function checkOption(name: string, spec: OptionSpec, value: unknown): unknown {
  switch (spec.type) {
    case 'number':
    case 'integer':
      if (Array.isArray(value)) throw createError('USAGE', `${opt(name)} takes one value, but was given ${value.length}`, { param: name });
      return checkNumberOption(name, spec, value);
    case 'boolean':
      if (typeof value !== 'boolean')
        throw createError('USAGE', `${opt(name)} expects true or false, got ${describe(value)}`, { param: name });
      return value;
    case 'string':
      if (Array.isArray(value)) throw createError('USAGE', `${opt(name)} takes one value, but was given ${value.length}`, { param: name });
      if (typeof value !== 'string') throw createError('USAGE', `${opt(name)} expects text, got ${describe(value)}`, { param: name });
      return checkChoice(name, spec, value);
    case 'strings':
      return items(name, spec, value).map((v) => checkChoice(name, spec, v));
    case 'integers':
      return items(name, spec, value).map((v) => checkNumberOption(name, spec, v, true));
  }
}

/**
 * Check `given` against `schema`: every option's type, range and choices (a message naming the
 * option), required ones present, defaults filled in. Keys the schema does not declare are
 * passed through untouched (callbacks, streams, objects a caller may give).
 */
export function validate<S extends Schema, G extends object>(schema: S, given: G): Omit<G, keyof S> & Resolved<S> {
  const out: Record<string, unknown> = { ...(given as Record<string, unknown>) };
  for (const [name, spec] of Object.entries(schema)) {
    const v = (given as Record<string, unknown>)[name];
    if (v === undefined || v === null) {
      if (spec.required) throw createError('USAGE', `${opt(name)} is required: ${spec.description}`, { param: name });
      if (spec.default !== undefined) out[name] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
      else delete out[name];
      continue;
    }
    out[name] = checkOption(name, spec, v);
  }
  return out as Omit<G, keyof S> & Resolved<S>;
}

/** Options of several schemas as one (later keys win). */
export function schemas<A extends Schema, B extends Schema>(a: A, b: B): A & B;
export function schemas<A extends Schema, B extends Schema, C extends Schema>(a: A, b: B, c: C): A & B & C;
export function schemas<A extends Schema, B extends Schema, C extends Schema, D extends Schema>(a: A, b: B, c: C, d: D): A & B & C & D;
export function schemas(...parts: Schema[]): Schema {
  return Object.assign({}, ...parts) as Schema;
}
