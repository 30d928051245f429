/** Atomic outputs: write to a temporary file beside the target, then rename. */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createError } from '../core/errors.js';

/** Temporary files being written right now (removed by `removeActiveTemps` on a signal). */
const active = new Set<string>();

/**
 * A temporary path beside `target` (`.<name>.tmp-<pid>-<random>`), after removing the
 * temporaries of `target` that earlier runs left behind when they were killed (their
 * process no longer exists).
 */
export async function tempPathFor(target: string): Promise<string> {
  await removeStaleTemps(target);
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

/** Remove temporaries of `target` whose writing process is gone (killed with -9, power loss). */
export async function removeStaleTemps(target: string): Promise<void> {
  const prefix = `.${basename(target)}.tmp-`;
  let names: string[];
  try {
    names = await readdir(dirname(target));
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(n.slice(prefix.length))?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && !isAlive(pid)) await rm(join(dirname(target), n), { force: true, recursive: true });
  }
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

export async function ensureParentDir(target: string): Promise<void> {
  try {
    await mkdir(dirname(target), { recursive: true });
  } catch (e) {
    throw createError('OUTPUT', `${target}: cannot create its directory (${(e as Error).message})`);
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
    await rm(tmp, { force: true, recursive: true });
    releaseTemp(tmp);
    if ((e as { code?: string }).code) throw createError('OUTPUT', `${target}: cannot write (${(e as Error).message})`);
    throw e;
  } finally {
    if (old) {
      await rm(old, { force: true, recursive: true });
      releaseTemp(old);
    }
  }
}

/** Write a whole file atomically. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await ensureParentDir(target);
  const tmp = await tempPathFor(target);
  try {
    await writeFile(tmp, data);
    await rename(tmp, target);
    releaseTemp(tmp);
  } catch (e) {
    await rm(tmp, { force: true });
    releaseTemp(tmp);
    if ((e as { code?: string }).code) throw createError('OUTPUT', `${target}: cannot write (${(e as Error).message})`);
    throw e;
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
    await ensureParentDir(path);
    const tmp = await tempPathFor(path);
    const { open } = await import('node:fs/promises');
    try {
      return new AtomicTextWriter(path, tmp, await open(tmp, 'w'));
    } catch (e) {
      throw createError('OUTPUT', `${path}: cannot write (${(e as Error).message})`);
    }
  }

  async write(text: string): Promise<void> {
    await this.fh.write(text);
  }

  async close(): Promise<void> {
    await this.fh.close();
    await rename(this.tmp, this.path);
    releaseTemp(this.tmp);
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
    releaseTemp(this.tmp);
  }
}
