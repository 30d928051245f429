/** Atomic outputs: write to a temporary file beside the target, then rename. */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { createError, LsarError } from '../core/errors.js';

/** Temporary files being written right now (removed by `removeActiveTemps` on a signal). */
const active = new Set<string>();

/**
 * A temporary path beside `target` (`.<name>.tmp-<pid>-<random>`), after removing the
 * temporaries that earlier runs left in that directory when they were killed (their process
 * no longer exists).
 */
export async function tempPathFor(target: string): Promise<string> {
  await removeStaleTemps(dirname(target));
  const p = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  active.add(p);
  return p;
}

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/** A temporary of lsar's: `.<name>.tmp-<pid>-<8 hex>`, or the `.json` (index description) or `.crc` (Parquet rewrite) beside one. */
const TEMP = /^\..+\.tmp-(\d+)-[0-9a-f]{8}(?:\.json|\.crc)?$/;

/** Remove the temporaries in `dir` whose writing process is gone (killed with -9, power loss). */
export async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const pid = Number(TEMP.exec(n)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid)) await discard(join(dir, n));
  }
}

/** The one error of a failed write: the output named, the system's reason (ENOSPC, EIO, ...) given. */
export function writeError(target: string, e: unknown): Error {
  if (e instanceof LsarError || (e as { code?: string }).code === undefined) return e as Error;
  return createError('OUTPUT', `${target}: cannot write (${systemReason(e)})`, { cause: e });
}

/** "ENOSPC: no space left on device" of a Node system error, without the syscall and temporary path that follow. */
export function systemReason(e: unknown): string {
  return String((e as Error).message).replace(/, (?:open|write|rename|mkdir|close|fsync|unlink|rmdir|scandir|stat|lstat) .*$|, write$/, '');
}

/**
 * Refuse, before any work, an output file path that cannot be written: a directory there, or a
 * file where one of its parent directories should be.
 */
export async function checkOutputFile(target: string): Promise<void> {
  const s = await stat(target).catch(() => undefined);
  if (s?.isDirectory()) throw createError('OUTPUT', `${target}: is a directory; expected a file path`);
  if (!s) await checkOutputDir(dirname(target));
}

/** Ready to write the file `target`: not a directory, its directory made. */
export async function prepareOutputFile(target: string): Promise<void> {
  await checkOutputFile(target);
  await ensureParentDir(target);
}

/** Refuse, before any work, an output directory that cannot be made: a file there or where a parent should be. */
export async function checkOutputDir(dir: string): Promise<void> {
  let p = resolve(dir);
  for (;;) {
    const s = await stat(p).catch(() => undefined);
    if (s) {
      if (!s.isDirectory())
        throw createError(
          'OUTPUT',
          `${p === resolve(dir) ? dir : p}: is a file; expected a directory${p === resolve(dir) ? '' : ` (to hold ${dir})`}`,
        );
      return;
    }
    const up = dirname(p);
    if (up === p) return;
    p = up;
  }
}

/**
 * Make an output directory (and its parents); returns `undo`, which removes the directories
 * this call made if they are still empty (a run that failed before writing anything there
 * leaves no empty directory behind).
 */
export async function makeOutputDir(dir: string): Promise<() => Promise<void>> {
  await checkOutputDir(dir);
  let first: string | undefined;
  try {
    first = await mkdir(dir, { recursive: true });
  } catch (e) {
    throw createError('OUTPUT', `${dir}: cannot create the directory (${systemReason(e)})`);
  }
  return async () => {
    if (first === undefined) return;
    const top = resolve(first);
    for (let p = resolve(dir); ; p = dirname(p)) {
      await removeStaleTemps(p);
      try {
        await rmdir(p);
      } catch {
        return; // not empty: something was written there
      }
      if (p === top || dirname(p) === p) return;
    }
  };
}

/** Remove a temporary (or a file this run wrote) on the way out of a failure: never a second error. */
export async function discard(path: string): Promise<void> {
  await rm(path, { force: true, recursive: true }).catch(() => undefined);
}

/** The temporary file is gone (renamed into place or removed). */
export function releaseTemp(path: string): void {
  active.delete(path);
}

/** Remove every temporary file still being written (for SIGINT/SIGTERM/SIGHUP handlers and a closed stdout). */
export function removeActiveTemps(): void {
  for (const p of active) {
    try {
      rmSync(p, { force: true, recursive: true });
      rmSync(`${p}.json`, { force: true });
    } catch {
      // best effort
    }
  }
  active.clear();
}

/** Make the directory that will hold `target` (a file or a directory). */
export async function ensureParentDir(target: string): Promise<void> {
  await checkOutputDir(dirname(target));
  try {
    await mkdir(dirname(target), { recursive: true });
  } catch (e) {
    throw createError('OUTPUT', `${target}: cannot create its directory (${systemReason(e)})`);
  }
}

/**
 * Write a directory atomically: `fill` writes into a fresh temporary directory beside
 * `target`, which then replaces `target` (an earlier one is removed only after the new one
 * is in place). Nothing half-written is left under `target` on failure.
 */
export async function writeDirAtomic(target: string, fill: (dir: string) => Promise<void>): Promise<void> {
  await ensureParentDir(target);
  const tmp = await tempPathFor(target);
  let old: string | undefined;
  try {
    await mkdir(tmp);
    await fill(tmp);
    try {
      await rename(tmp, target);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EISDIR') throw e;
      // replace the existing directory: move it aside, move the new one in, then remove it
      old = await tempPathFor(target);
      await rename(target, old);
      try {
        await rename(tmp, target);
      } catch (e2) {
        await rename(old, target);
        releaseTemp(old);
        old = undefined;
        throw e2;
      }
    }
    releaseTemp(tmp);
  } catch (e) {
    await discard(tmp);
    releaseTemp(tmp);
    throw writeError(target, e);
  } finally {
    if (old) {
      await discard(old);
      releaseTemp(old);
    }
  }
}

/** Write a whole file atomically. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await prepareOutputFile(target);
  const tmp = await tempPathFor(target);
  try {
    await writeFile(tmp, data);
    await rename(tmp, target);
    releaseTemp(tmp);
  } catch (e) {
    await discard(tmp);
    releaseTemp(tmp);
    throw writeError(target, e);
  }
}

/** A text file written in pieces to a temporary file, renamed into place on `close()`. */
export class AtomicTextWriter {
  private constructor(
    readonly path: string,
    private tmp: string,
    private fh: import('node:fs/promises').FileHandle,
  ) {}

  static async create(path: string): Promise<AtomicTextWriter> {
    await prepareOutputFile(path);
    const tmp = await tempPathFor(path);
    const { open } = await import('node:fs/promises');
    try {
      return new AtomicTextWriter(path, tmp, await open(tmp, 'w'));
    } catch (e) {
      releaseTemp(tmp);
      throw writeError(path, e);
    }
  }

  async write(text: string): Promise<void> {
    const bytes = Buffer.from(text, 'utf8');
    try {
      // a full disk can take part of a write without an error: write the rest until it refuses
      for (let off = 0; off < bytes.length;) off += (await this.fh.write(bytes, off, bytes.length - off)).bytesWritten;
    } catch (e) {
      throw writeError(this.path, e);
    }
  }

  async close(): Promise<void> {
    try {
      await this.fh.close();
      await rename(this.tmp, this.path);
    } catch (e) {
      await discard(this.tmp);
      releaseTemp(this.tmp);
      throw writeError(this.path, e);
    }
    releaseTemp(this.tmp);
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await discard(this.tmp);
    releaseTemp(this.tmp);
  }
}
