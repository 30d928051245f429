/** The error contract: a code from one table, the parameter named, options marked in the message (shown as flags by the CLI). */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createError, ERROR_CODES, isLsarError, opt, type LsarError } from '../../src/core/errors.js';
import { validate } from '../../src/core/schema.js';
import { fileMomentsInPool, fromWire } from '../../src/adapters/pool.js';
import { wrapped } from '../../src/adapters/transfer.js';
import { encodeNpy } from '../../src/io/npy.js';
import { fitFromArrays } from '../../src/pipeline/fit.js';
import { planted, tempDir } from '../helpers.js';

async function caught(f: () => unknown): Promise<LsarError> {
  try {
    await f();
  } catch (e) {
    if (isLsarError(e)) return e;
    throw e;
  }
  throw new Error('expected an LsarError');
}

describe('errors', () => {
  it('marked options read as their names in message, as flags through format()', () => {
    const e = createError('USAGE', `${opt('indexOut')} needs ${opt('k')}`, { param: 'indexOut' });
    expect(e.message).toBe('indexOut needs k');
    expect(e.format((p) => (p.length === 1 ? `-${p}` : `--${p}`))).toBe('--indexOut needs -k');
    expect(e.params).toEqual(['indexOut', 'k']);
    expect(e.code in ERROR_CODES).toBe(true);
  });

  it('schema validation: code and param of each kind of bad value', async () => {
    const schema = {
      k: { type: 'integer', min: 1, max: 10, description: 'k' },
      mode: { type: 'string', choices: ['a', 'b'], description: 'mode' },
      out: { type: 'string', required: true, description: 'out' },
    } as const;
    expect(await caught(() => validate(schema, { out: 'x', k: 0 }))).toMatchObject({ code: 'RANGE', param: 'k' });
    expect(await caught(() => validate(schema, { out: 'x', k: 'abc' }))).toMatchObject({ code: 'USAGE', param: 'k' });
    expect(await caught(() => validate(schema, { out: 'x', mode: 'c' }))).toMatchObject({ code: 'USAGE', param: 'mode' });
    expect(await caught(() => validate(schema, {}))).toMatchObject({ code: 'USAGE', param: 'out' });
    expect(await caught(() => validate(schema, { out: ['a', 'b'] }))).toMatchObject({ code: 'USAGE', param: 'out' });
    expect(validate(schema, { out: 'x', k: '3' })).toMatchObject({ out: 'x', k: 3 });
  });

  it('fitting: the code and the parameter of a rank out of range', async () => {
    const e = await caught(() => fitFromArrays(planted(['en', 'de', 'fr'], 10, 8, 1), 8, { method: 'lsar', rank: 5 }));
    expect(e).toMatchObject({ code: 'RANK_RANGE', param: 'rank' });
  });

  it('an error crosses a thread with its code, parameter and marked template', async () => {
    const wire = await wrapped(async () => {
      throw createError('RANGE', `${opt('recallSample')} must be at least 1`, { param: 'recallSample' });
    });
    if (!('error' in wire)) throw new Error('expected an error');
    const back = fromWire(wire.error) as LsarError;
    expect(back).toMatchObject({ code: 'RANGE', param: 'recallSample', message: 'recallSample must be at least 1' });
    expect(back.format(() => '--recall-sample')).toBe('--recall-sample must be at least 1');
    // and through a real worker: a NaN row read on the pool
    const dir = await tempDir();
    const x = new Float32Array(8).fill(1);
    x[5] = Number.NaN;
    await writeFile(join(dir, 'nan.npy'), encodeNpy(x, [2, 4]));
    expect(await caught(() => fileMomentsInPool(join(dir, 'nan.npy'), {}))).toMatchObject({
      code: 'NON_FINITE',
      message: expect.stringMatching(/row 1 holds NaN/),
    });
  });
});
