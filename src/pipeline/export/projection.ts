/**
 * The projection alone, for runtimes that receive vectors: an ONNX model (input `embeddings`
 * [n, d] -> output `projected` [n, d], optionally L2-normalised) or safetensors (basis, means,
 * metadata), beside the artifact's .npy sidecars.
 */
import { createError, opt } from '../../core/errors.js';
import { needsLanguage, outputDim, type Projection } from '../../core/projection.js';
import { planFor } from '../../core/apply.js';
import { DataType, encodeModel, valueInfo, type OnnxModel } from '../../adapters/onnx.js';
import { projectionFiles, saveProjectionSafetensors } from '../../io/artifact.js';
import { refuseOverwrite } from '../../io/same-file.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { VERSION } from '../../version.js';
import { appendProjection, GraphBuilder } from './graph.js';

export interface ProjectionExportOptions {
  format: 'onnx' | 'safetensors';
  out: string;
  /** lir and demean, ONNX: the language the model applies to. */
  lang?: string;
  /** ONNX: L2-normalise the output rows. */
  normalize?: boolean;
}

/** The ONNX model of a projection (as core/projector.ts applies it, in float32). */
export function projectionModel(p: Projection, options: { lang?: string; normalize?: boolean } = {}): OnnxModel {
  if (needsLanguage(p.method) && options.lang === undefined) {
    throw createError(
      'LANG_REQUIRED',
      `method "${p.method}" subtracts or removes per-language terms: an ONNX model applies one language's (${opt('lang')}); the projection knows ${p.languages.map((l) => l.lang).join(', ')}`,
      { param: 'lang' },
    );
  }
  const plan = planFor(p, options.lang !== undefined ? { lang: options.lang } : {});
  const model: OnnxModel = {
    irVersion: 8,
    producerName: 'lsar',
    producerVersion: VERSION,
    opsetImport: [{ version: 13 }],
    graph: {
      name: `lsar-${p.method}`,
      node: [],
      initializer: [],
      input: [valueInfo('embeddings', DataType.FLOAT, ['n', p.dim])],
      output: [],
    },
    metadataProps: [
      { key: 'lsar.method', value: p.method },
      { key: 'lsar.remove', value: String(p.remove) },
      ...(options.lang !== undefined ? [{ key: 'lsar.lang', value: options.lang }] : []),
      { key: 'lsar.normalize', value: String(options.normalize === true) },
    ],
  };
  const b = new GraphBuilder(model.graph);
  const y = appendProjection(b, 'embeddings', plan, options.normalize === true);
  model.graph.node.push({ name: 'lsar/output', opType: 'Identity', input: [y], output: ['projected'] });
  model.graph.output.push(valueInfo('projected', DataType.FLOAT, ['n', outputDim(p)]));
  return model;
}

export async function exportProjection(p: Projection, o: ProjectionExportOptions): Promise<string> {
  await refuseOverwrite([{ path: o.out, param: 'out' }], projectionFiles(p));
  if (o.format === 'safetensors') {
    await saveProjectionSafetensors(o.out, p);
    return o.out;
  }
  await writeFileAtomic(o.out, encodeModel(projectionModel(p, o)));
  return o.out;
}
