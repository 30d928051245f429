/** Shared option parsing for the commands. */
import { createError } from '../core/errors.js';

/** A whole-number option, or undefined when absent. */
export function intOption(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n)) throw createError('USAGE', `--${name} expects a whole number, got ${JSON.stringify(value)}`);
  return n;
}

export function stringList(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}
