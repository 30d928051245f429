/** HTTP plumbing of lsar serve: routes, the bearer key check, the request body with its limit. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApiError } from './openai.js';

export const CREATED = Math.floor(Date.now() / 1000);

export function methodNotAllowed(method: string, url: string, allowed: string): ApiError {
  return new ApiError(
    405,
    `Method ${method} is not allowed on ${url}; use ${allowed}`,
    'invalid_request_error',
    null,
    'method_not_allowed',
    { allow: allowed },
  );
}

export function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Bearer key check in constant time (digests of equal length are compared). */
export function authorized(header: string | undefined, digest: Buffer): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  const given = sha256(m ? (m[1] as string).trim() : '');
  return timingSafeEqual(given, digest) && m !== null;
}

/** The body, refused with 413 past `limit` bytes (by Content-Length at once, or while reading). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = (n: string) =>
      new ApiError(413, `The request body is ${n} bytes; at most ${limit}.`, 'invalid_request_error', null, 'request_too_large', {
        connection: 'close',
      });
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(tooLarge(String(declared)));
      return;
    }
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(`over ${limit}`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('the client went away')));
  });
}
