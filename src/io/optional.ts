/** Optional packages (hnswlib-node, @huggingface/transformers, onnxruntime-node, parquet-wasm, apache-arrow), loaded on first use with a clear message when absent. */
import { createRequire } from 'node:module';
import { createError } from '../core/errors.js';

const require = createRequire(import.meta.url);

/**
 * The packages npm drops together when onnxruntime-node's install script fails: the script
 * downloads GPU libraries (on linux/x64), so offline or behind a proxy it fails, and npm then
 * removes onnxruntime-node and everything that needs it. Its CPU build ships in the npm package;
 * skipping the script keeps it.
 */
const ONNXRUNTIME = new Set(['@huggingface/transformers', 'onnxruntime-node']);
export const ONNXRUNTIME_INSTALL = 'npm install --onnxruntime-node-install=skip';

function missing(name: string, forWhat: string, e: unknown, hint?: string): never {
  const fix = ONNXRUNTIME.has(name)
    ? `${ONNXRUNTIME_INSTALL} (npm drops it when onnxruntime-node's install script cannot download GPU libraries; its CPU build needs no download)`
    : `npm install ${name}${hint ? ` (${hint})` : ''}`;
  throw createError('DEPENDENCY', `${forWhat} needs the package ${name}, which is not installed: ${fix}`, { cause: e });
}

function missingName(e: unknown, name: string): string | undefined {
  const code = (e as { code?: string }).code;
  if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  const message = String((e as Error).message);
  // the package of `name` (without a subpath), or, for @huggingface/transformers present without
  // onnxruntime-node, the latter
  const pkg = name
    .split('/')
    .slice(0, name.startsWith('@') ? 2 : 1)
    .join('/');
  const candidates = ONNXRUNTIME.has(pkg) ? [...ONNXRUNTIME] : [pkg];
  return candidates.find((n) => message.includes(`'${n}'`) || message.includes(`'${n}/`));
}

/** A CommonJS optional package, required synchronously. */
export function requireOptional<T>(name: string, forWhat: string, hint?: string): T {
  try {
    return require(name) as T;
  } catch (e) {
    const absent = missingName(e, name);
    if (absent) missing(absent, forWhat, e, hint);
    throw e;
  }
}

/** An ES module optional package. */
export async function importOptional<T>(name: string, forWhat: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (e) {
    const absent = missingName(e, name);
    if (absent) missing(absent, forWhat, e);
    throw e;
  }
}
