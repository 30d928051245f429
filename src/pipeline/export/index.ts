/**
 * `lsar export`: the projection where pipelines run. With a model, the encoder with pooling and
 * the projection inside (./model.ts); without, the projection alone as ONNX or safetensors
 * (./projection.ts).
 */
import { createError, opt } from '../../core/errors.js';
import type { Projection } from '../../core/projection.js';
import { validate, type OptionsOf, type Schema } from '../../core/schema.js';
import { projectionOf, projectionOption } from '../../io/artifact.js';
import { madeLikeSchema } from '../services/embedding-settings.js';
import { exportModel, type ModelExportSummary } from './model.js';
import { exportProjection } from './projection.js';
import { canonicalLanguageOptions } from '../../io/languages.js';

export const exportSchema = {
  projection: { type: 'string', alias: 'p', description: 'Projection from lsar fit (JSON, its directory, or .safetensors)' },
  ...madeLikeSchema,
  model: {
    type: 'string',
    description:
      'Encoder to export with the projection inside: Hub id or local directory (Hub export layout); without it, the projection alone',
    group: 'Model export (--model):',
  },
  out: {
    type: 'string',
    alias: 'o',
    required: true,
    description: 'With --model: the model directory to write; alone: the .onnx or .safetensors file (written atomically)',
  },
  format: {
    type: 'string',
    choices: ['onnx', 'safetensors'],
    description: 'The projection alone: onnx (embeddings [n, d] -> projected [n, d]) or safetensors (basis, means, metadata)',
    defaultText: 'from --out',
  },
  lang: { type: 'string', alias: 'l', description: 'The projection alone as ONNX, lir and demean: the language it applies to' },
  normalize: { type: 'boolean', default: false, description: 'L2-normalise the output rows (after the projection)' },
} as const satisfies Schema;

export type ExportOptions = Omit<OptionsOf<typeof exportSchema>, 'projection'> & { projection?: string | Projection | undefined };

export type ExportSummary =
  | ({ kind: 'model' } & ModelExportSummary)
  | { kind: 'projection'; method: string; dim: number; remove: number; format: 'onnx' | 'safetensors'; out: string };

/** The library call behind `lsar export`. */
export async function exportArtifact(given: ExportOptions): Promise<ExportSummary> {
  const o = canonicalLanguageOptions(validate(exportSchema, { ...given, projection: projectionOption(given.projection) }), ['lang']);
  if (o.model !== undefined) {
    if (o.format === 'safetensors')
      throw createError(
        'USAGE',
        `${opt('format')} safetensors is for the projection alone; with ${opt('model')}, export writes an encoder directory (ONNX)`,
        {
          param: 'format',
        },
      );
    if (o.lang !== undefined)
      throw createError(
        'USAGE',
        `${opt('lang')} is for the projection alone (lir and demean): an exported encoder cannot be told the language`,
        { param: 'lang' },
      );
    const summary = await exportModel({
      ...o,
      model: o.model,
      ...(given.projection !== undefined ? { projection: given.projection } : {}),
    });
    return { kind: 'model', ...summary };
  }
  if (given.projection === undefined)
    throw createError(
      'USAGE',
      `lsar export needs ${opt('projection')} (the projection alone), or ${opt('model')} and ${opt('projection')} (the encoder with it inside)`,
      { param: 'projection' },
    );
  const byName = /\.safetensors$/i.test(o.out) ? 'safetensors' : /\.onnx$/i.test(o.out) ? 'onnx' : undefined;
  const format = o.format ?? byName;
  if (!format)
    throw createError('USAGE', `${opt('out')} ${o.out}: name a .onnx or .safetensors file, or give ${opt('format')}`, { param: 'out' });
  if (byName !== undefined && byName !== format)
    throw createError('USAGE', `${opt('out')} ${o.out} names a .${byName} file, but ${opt('format')} is ${format}: make them agree`, {
      param: 'format',
    });
  if (format === 'safetensors' && (o.normalize || o.lang !== undefined))
    throw createError(
      'USAGE',
      `${opt('normalize')} and ${opt('lang')} apply to the ONNX projection; safetensors holds the arrays (basis, means) as fitted`,
      {
        param: o.normalize ? 'normalize' : 'lang',
      },
    );
  const p = await projectionOf(given.projection);
  const out = await exportProjection(p, { format, out: o.out, ...(o.lang !== undefined ? { lang: o.lang } : {}), normalize: o.normalize });
  return { kind: 'projection', method: p.method, dim: p.dim, remove: p.remove, format, out };
}
