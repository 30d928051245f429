/** Reading corpus text files: UTF-8 (strict), one sentence per line. */
import { readError } from './fs-errors.js';
import { readFile } from 'node:fs/promises';
import { createError } from '../core/errors.js';

/** Non-empty lines of a UTF-8 file; invalid UTF-8 is refused naming the line. */
export async function readLines(path: string): Promise<string[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw readError(path, e, 'a text file');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Find the first line that does not decode.
    let line = 1;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, i));
        } catch {
          throw createError('INPUT', `${path}:${line}: not valid UTF-8 (expected UTF-8 text, one sentence per line)`);
        }
        line++;
        start = i + 1;
      }
    }
    throw createError('INPUT', `${path}: not valid UTF-8`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}
