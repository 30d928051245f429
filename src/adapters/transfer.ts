/** Worker-side helpers: results whose buffers move back to the main thread, and errors sent as data. */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { isLsarError } from '../core/errors.js';
import type { TaskResult } from './worker-protocol.js';

/** A result whose buffers are moved (not copied) back to the main thread. */
export function transferring<T>(value: T, buffers: ArrayBuffer[]): T {
  return move({ [transferableSymbol]: buffers, [valueSymbol]: value } as never) as T;
}

/** Run `f`, returning lsar's own errors as data (code, message template, parameters). */
export async function wrapped<T>(f: () => Promise<T>): Promise<TaskResult<T>> {
  try {
    return { ok: await f() };
  } catch (e) {
    if (isLsarError(e)) return { error: { code: e.code, template: e.template, ...(e.param ? { param: e.param } : {}), params: e.params } };
    throw e;
  }
}
