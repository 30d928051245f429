/**
 * One table of error codes for the whole library. Every thrown error is an
 * `LsarError` made with `createError(code, message)`; the CLI prints
 * `lsar: <message> [<code>]` on one line and exits non-zero.
 */
export const ERROR_CODES = {
  USAGE: 'bad command-line usage',
  NOT_FOUND: 'a file or directory does not exist',
  NPY_HEADER: 'truncated or corrupt .npy header',
  NPY_DTYPE: 'unsupported .npy dtype',
  NPY_ORDER: 'Fortran-ordered .npy',
  NPY_SHAPE: 'unsupported .npy shape',
  NPY_TRUNCATED: '.npy data shorter than its header says',
  JSONL: 'malformed JSON Lines input',
  EMPTY: 'an input holds no rows',
  DIM_MISMATCH: 'embedding dimensions disagree',
  NON_FINITE: 'NaN or Inf in the input',
  TOO_FEW_LANGUAGES: 'fitting needs at least two languages',
  DUPLICATE_LANGUAGE: 'a language was given twice',
  BAD_LANGUAGE: 'not a language code',
  RANK_RANGE: '--rank out of range',
  REMOVE_RANGE: '--remove out of range',
  UNKNOWN_METHOD: 'unknown method',
  LANG_REQUIRED: 'the method needs --lang',
  UNKNOWN_LANGUAGE: 'the projection has no such language',
  ARTIFACT: 'a projection artifact is invalid',
  OUTPUT: 'an output cannot be written',
  INPUT: 'an input file is malformed',
  MODEL: 'a model cannot be found or loaded',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class LsarError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'LsarError';
    this.code = code;
  }
}

export function createError(code: ErrorCode, message: string): LsarError {
  return new LsarError(code, message);
}

export function isLsarError(e: unknown): e is LsarError {
  return e instanceof LsarError;
}
