/**
 * An output must never be one of the run's inputs: not the same path, nor a hard link to it,
 * nor a symbolic link to it. Files are compared by device and inode (after following links),
 * not by their names.
 */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createError } from '../core/errors.js';
import { checkOutputDir } from './atomic.js';

/** Device and inode of what `path` names (links followed), or undefined when it does not exist. */
async function identity(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

export interface Output {
  path: string;
  /** The library option the output was given by (the CLI names its flag). */
  param?: string;
  /** An existing directory may be replaced (a sharded index); otherwise an output must be a file. */
  mayBeDirectory?: boolean;
}

/**
 * Refuse, before any work, any output that is (or links to) one of the inputs, that is a
 * directory where a file is written, or whose parent is a file. Outputs that do not exist yet
 * are fine; inputs that do not exist are left for the reader to report.
 */
export async function refuseOverwrite(
  outputs: (Output | string)[],
  inputs: (string | { path: string; what: string } | undefined)[],
): Promise<void> {
  for (const o of outputs) {
    const { path, param, mayBeDirectory } = typeof o === 'string' ? { path: o, param: undefined, mayBeDirectory: false } : o;
    if (path === '-') continue;
    const s = await stat(path).catch(() => undefined);
    if (s?.isDirectory() && !mayBeDirectory)
      throw createError('OUTPUT', `${path}: is a directory; expected a file path`, param !== undefined ? { param } : {});
    if (!s) await checkOutputDir(dirname(path));
  }
  const known = new Map<string, { path: string; what?: string }>();
  for (const i of inputs) {
    if (i === undefined) continue;
    const input = typeof i === 'string' ? { path: i } : i;
    if (input.path === '-') continue;
    const id = await identity(input.path);
    if (id !== undefined && !known.has(id)) known.set(id, input);
  }
  if (known.size === 0) return;
  for (const o of outputs) {
    const { path, param } = typeof o === 'string' ? { path: o, param: undefined } : o;
    if (path === '-') continue;
    const id = await identity(path);
    const input = id !== undefined ? known.get(id) : undefined;
    if (input !== undefined) {
      const link = input.path === path ? '' : ', the same file through a link';
      throw createError(
        'OUTPUT',
        `${path}: the output would overwrite the input ${input.path}${input.what ? ` (${input.what}${link})` : link ? ` (${link.slice(2)})` : ''}; choose another output`,
        param !== undefined ? { param } : {},
      );
    }
  }
}
