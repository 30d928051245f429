/**
 * A lock file for short critical sections shared by processes (two `lsar embed` runs updating
 * one manifest): created with O_EXCL, holding the owner's pid. A lock whose owner is gone
 * (killed) is taken over; a live owner is waited for, up to a time limit.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { createError } from '../core/errors.js';
import { ensureParentDir, isAlive } from './atomic.js';

export interface LockOptions {
  /** Give up after this long (default 60 s: the sections are short). */
  timeoutMs?: number;
  /** Poll interval (default 25 ms). */
  pollMs?: number;
}

async function tryTake(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'wx');
    await fh.writeFile(`${process.pid}\n`);
    await fh.close();
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'EEXIST') return false;
    throw createError('OUTPUT', `${path}: cannot create the lock file (${(e as Error).message})`, { cause: e });
  }
}

/** Run `fn` holding the lock `path` (removed afterwards, also when `fn` throws). */
export async function withLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  await ensureParentDir(path);
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (await tryTake(path)) break;
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !isAlive(owner)) {
      // its owner was killed: take it over
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw createError(
        'OUTPUT',
        `${path}: held by another lsar process (pid ${Number.isInteger(owner) ? owner : '?'}) for too long; if none runs, remove the file`,
      );
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 25));
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
