/** Optional packages (hnswlib-node, @huggingface/transformers, onnxruntime-node, parquet-wasm, apache-arrow), loaded on first use with a clear message when absent. */
import { createRequire } from 'node:module';
import { createError } from '../core/errors.js';

const require = createRequire(import.meta.url);

function missing(name: string, forWhat: string, e: unknown, hint?: string): never {
  throw createError(
    'DEPENDENCY',
    `${forWhat} needs the package ${name}, which is not installed: npm install ${name}${hint ? ` (${hint})` : ''}`,
    { cause: e },
  );
}

function isMissing(e: unknown, name: string): boolean {
  const code = (e as { code?: string }).code;
  return (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && String((e as Error).message).includes(name);
}

/** A CommonJS optional package, required synchronously. */
export function requireOptional<T>(name: string, forWhat: string, hint?: string): T {
  try {
    return require(name) as T;
  } catch (e) {
    if (isMissing(e, name)) missing(name, forWhat, e, hint);
    throw e;
  }
}

/** An ES module optional package. */
export async function importOptional<T>(name: string, forWhat: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (e) {
    if (isMissing(e, name)) missing(name, forWhat, e);
    throw e;
  }
}
