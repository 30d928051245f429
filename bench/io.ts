/** Plain I/O baselines and best-of timing. */
import { open } from 'node:fs/promises';
import { time } from './lib.js';

const BLOCK = 8 << 20;

/** Copy a file in 8 MiB blocks through user space. */
export async function plainCopy(src: string, dst: string): Promise<void> {
  const a = await open(src, 'r');
  const b = await open(dst, 'w');
  const buf = new Uint8Array(BLOCK);
  let pos = 0;
  for (;;) {
    const { bytesRead } = await a.read(buf, 0, BLOCK, pos);
    if (bytesRead === 0) break;
    await b.write(buf, 0, bytesRead, pos);
    pos += bytesRead;
  }
  await a.close();
  await b.close();
}

/** The best (shortest) of `n` timed runs. */
export async function best<T>(n: number, f: () => Promise<T>): Promise<[number, T]> {
  let out: [number, T] | undefined;
  for (let i = 0; i < n; i++) {
    const r = await time(f);
    if (!out || r[0] < out[0]) out = r;
  }
  return out as [number, T];
}
