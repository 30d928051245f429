/** One wording for the system errors of reading a file the user named. */
import { createError, type LsarError } from '../core/errors.js';

/**
 * The error for `path` that could not be read: missing, a directory where `expected` was
 * wanted, not readable (permissions), or another system reason given as it is.
 */
export function readError(path: string, e: unknown, expected = 'a file', suffix = ''): LsarError {
  const code = (e as { code?: string }).code;
  const s = suffix ? ` ${suffix}` : '';
  if (code === 'ENOENT') return createError('NOT_FOUND', `${path}: no such file${s}`, { cause: e });
  if (code === 'ENOTDIR')
    return createError('NOT_FOUND', `${path}: no such file${s} (a part of the path is a file, not a directory)`, { cause: e });
  if (code === 'EISDIR') return createError('INPUT', `${path}: is a directory, expected ${expected}${s}`, { cause: e });
  if (code === 'EACCES' || code === 'EPERM')
    return createError('INPUT', `${path}: cannot read it${s} (${code}: permission denied)`, { cause: e });
  return createError('INPUT', `${path}: cannot read it${s} (${(e as Error).message})`, { cause: e });
}
