/** Atomic outputs: write to a temporary file beside the target, then rename. */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createError } from '../core/errors.js';

/** Temporary files being written right now (removed by `removeActiveTemps` on a signal). */
const active = new Set<string>();

export function tempPathFor(target: string): string {
  const p = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  active.add(p);
  return p;
}

/** The temporary file is gone (renamed into place or removed). */
export function releaseTemp(path: string): void {
  active.delete(path);
}

/** Remove every temporary file still being written (for SIGINT/SIGTERM handlers). */
export function removeActiveTemps(): void {
  for (const p of active) {
    try {
      rmSync(p, { force: true });
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

/** Write a whole file atomically. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await ensureParentDir(target);
  const tmp = tempPathFor(target);
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
    const tmp = tempPathFor(path);
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
