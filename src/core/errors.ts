/**
 * One table of error codes for the whole library. Every thrown error is an `LsarError`
 * made with `createError(code, message, { param?, cause? })`. Messages describe the value
 * ("rank must be an integer from 1 to 3, got 4: ..."); an option a message names is marked
 * with `opt('rank')`: `error.message` shows it by its library name, and the CLI shows its
 * flag (`error.format(flagOf)`), from the option schema, without rewriting the text. `param`
 * names the parameter the bad value came from. The CLI prints `lsar: <message>` on one line
 * and exits 1, or 2 for the codes in `USAGE_CODES`.
 */
export const ERROR_CODES = {
  USAGE: 'bad usage: a missing or conflicting option',
  RANGE: 'a numeric parameter is out of its range',
  NOT_FOUND: 'a file or directory does not exist',
  NPY_HEADER: 'truncated or corrupt .npy header',
  NPY_DTYPE: 'unsupported .npy dtype',
  NPY_ORDER: 'Fortran-ordered .npy',
  NPY_SHAPE: 'unsupported .npy shape',
  NPY_TRUNCATED: '.npy data shorter than its header says',
  JSONL: 'malformed JSON Lines input',
  EMPTY: 'an input holds no rows',
  DIM_MISMATCH: 'embedding dimensions disagree',
  NON_FINITE: 'NaN or Inf in the input, or a value beyond the output type',
  TOO_FEW_LANGUAGES: 'fitting needs at least two languages',
  DUPLICATE_LANGUAGE: 'a language was given twice',
  BAD_LANGUAGE: 'not a language label',
  RANK_RANGE: 'rank out of range',
  REMOVE_RANGE: 'remove out of range',
  DIMS_RANGE: 'dims out of range',
  UNKNOWN_METHOD: 'unknown method',
  LANG_REQUIRED: 'the method needs the input language',
  UNKNOWN_LANGUAGE: 'the projection has no such language',
  ARTIFACT: 'a projection artifact is invalid',
  INDEX: 'a saved search index is invalid or was built from other data',
  OUTPUT: 'an output cannot be written',
  STORE: 'a vector store (PostgreSQL, PGlite) cannot be reached, or its table does not fit',
  INPUT: 'an input file is malformed',
  MODEL: 'a model cannot be found or loaded',
  DEPENDENCY: 'an optional package is not installed',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes that mean "the call was wrong" rather than "the data was": the CLI exits 2 for these. */
export const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'USAGE',
  'RANGE',
  'RANK_RANGE',
  'REMOVE_RANGE',
  'DIMS_RANGE',
  'UNKNOWN_METHOD',
]);

export interface ErrorDetails {
  /** The parameter the bad value came from (library option name, e.g. "rank", "k", "lang"). */
  param?: string;
  /** Other options the error is about (by their library names); those marked in the message are added. */
  params?: string[];
  /** The underlying error, when this one wraps another. */
  cause?: unknown;
}

/** An option's name between the mathematical brackets U+27E6 and U+27E7 (never in lsar's own text). */
const MARK = /\u27e6([A-Za-z0-9_]+)\u27e7/g;

/** A message with its marked options shown by their library names. */
export function plainMessage(template: string): string {
  return template.replace(MARK, '$1');
}

/** A message with its marked options shown by `name` (the CLI: their flags). */
export function formatMessage(template: string, name: (param: string) => string): string {
  return template.replace(MARK, (_, p: string) => name(p));
}

/** An option named in a message: shown by its library name in `message`, by its flag by the CLI. */
export function opt(name: string): string {
  return `\u27e6${name}\u27e7`;
}

export class LsarError extends Error {
  readonly code: ErrorCode;
  readonly param: string | undefined;
  /** Every option the error is about: `param`, those marked in the message, and `details.params`. */
  readonly params: string[];
  /** The message with its options marked (see `opt`). */
  readonly template: string;
  constructor(code: ErrorCode, template: string, details: ErrorDetails = {}) {
    super(plainMessage(template), details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'LsarError';
    this.code = code;
    this.template = template;
    this.param = details.param;
    const marked = [...template.matchAll(MARK)].map((m) => m[1] as string);
    this.params = [...new Set([...(details.param ? [details.param] : []), ...marked, ...(details.params ?? [])])];
  }

  /** The message with every marked option shown by `name` (the CLI: its flag). */
  format(name: (param: string) => string): string {
    return formatMessage(this.template, name);
  }
}

export function createError(code: ErrorCode, message: string, details?: ErrorDetails): LsarError {
  return new LsarError(code, message, details);
}

export function isLsarError(e: unknown): e is LsarError {
  return e instanceof LsarError;
}

/**
 * Check a numeric parameter: an integer (unless `integer: false`) within [min, max].
 * The message names the parameter and the accepted range.
 */
export function checkNumber(param: string, value: number, range: { min?: number; max?: number; integer?: boolean; why?: string }): number {
  const integer = range.integer !== false;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!integer || Number.isInteger(value)) &&
    (range.min === undefined || value >= range.min) &&
    (range.max === undefined || value <= range.max);
  if (!ok) {
    const kind = integer ? 'an integer' : 'a number';
    const span =
      range.min !== undefined && range.max !== undefined
        ? ` from ${range.min} to ${range.max}`
        : range.min !== undefined
          ? ` >= ${range.min}`
          : range.max !== undefined
            ? ` <= ${range.max}`
            : '';
    throw createError('RANGE', `${opt(param)} must be ${kind}${span}, got ${String(value)}${range.why ? `: ${range.why}` : ''}`, { param });
  }
  return value;
}

/** The first line of an error's message (at most 300 characters), for messages that quote a library's error. */
export function firstLine(e: unknown): string {
  return (String((e as Error)?.message ?? e).split('\n')[0] as string).slice(0, 300);
}
