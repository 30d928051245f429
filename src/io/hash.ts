/**
 * Content hashes: the one place lsar computes them (input provenance, artifact sidecars,
 * model files, embedding inputs, search-index keys). Hex digests of SHA-256.
 */
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';

export const HASH_ALGORITHM = 'sha256';

export interface Hasher {
  update(bytes: ArrayBufferView | string): Hasher;
  digest(): string;
}

export function createHasher(): Hasher {
  const h: Hash = createHash(HASH_ALGORITHM);
  const hasher: Hasher = {
    update(bytes) {
      h.update(typeof bytes === 'string' ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return hasher;
    },
    digest: () => h.digest('hex'),
  };
  return hasher;
}

/** Hex digest of some bytes (typed arrays are hashed as their raw bytes). */
export function hashBytes(...parts: (ArrayBufferView | string)[]): string {
  const h = createHasher();
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Hex digest of a whole file, read in 4 MiB blocks. */
export async function hashFile(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const h = createHasher();
    const buf = new Uint8Array(4 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
    return h.digest();
  } finally {
    await fh.close();
  }
}
