/**
 * `lsar export --model`: an encoder in the Hub export layout whose ONNX graph also computes,
 * after the encoder, the sentence vectors lsar would make from it: the chosen layer, pooled
 * (mean over the attention mask, special tokens in or out, or the first token), optionally
 * L2-normalised as the fitted embeddings were, projected, and optionally normalised again, as
 * a new output `sentence_embedding` [batch, d]. The encoder's own outputs stay.
 */
import { copyFile, readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve, relative, isAbsolute } from 'node:path';
import { createError, opt } from '../../core/errors.js';
import type { Pooling } from '../../core/pooling.js';
import { needsLanguage, outputDim, type Projection } from '../../core/projection.js';
import { planFor } from '../../core/apply.js';
import { DataType, decodeModel, encodeModel, valueInfo, type OnnxModel, type OnnxValueInfo } from '../../adapters/onnx.js';
import { Encoder, MODEL_FILE, type Dtype, type LsarExport } from '../../adapters/transformers.js';
import { loadProjection, projectionFiles } from '../../io/artifact.js';
import { writeDirAtomic } from '../../io/atomic.js';
import { tapLayer } from '../../adapters/layer-tap.js';
import { VERSION } from '../../version.js';
import { checkSameModel, manifestOf, resolveSettings, type Settings } from '../services/embedding-settings.js';
import { projectionKey } from '../services/search/index.js';
import { appendNormalize, appendPooling, appendProjection, GraphBuilder, MIN_OPSET } from './graph.js';

export interface ModelExportOptions {
  /** Hub id or local model directory (Hub export layout). */
  model: string;
  /** A projection (artifact JSON, its directory, or .safetensors), or a loaded one; none: pooling only. */
  projection?: string | Projection | undefined;
  /** The model directory to write (replaced atomically). */
  out: string;
  /** Pool `hidden_states.<layer>` (default: as the projection's embeddings were made, else the last layer). */
  layer?: number | null | undefined;
  pooling?: Pooling | undefined;
  excludeSpecial?: boolean | undefined;
  /** L2-normalise the output rows (after the projection). */
  normalize?: boolean | undefined;
  /** Which weights to rewrite (onnx/model.onnx, model_fp16.onnx, model_quantized.onnx). */
  dtype?: Dtype | undefined;
  cacheDir?: string | undefined;
  offline?: boolean | undefined;
  revision?: string | undefined;
}

export interface ModelExportSummary {
  out: string;
  model: string;
  onnxFile: string;
  opset: number;
  export: LsarExport;
  files: string[];
  warnings: string[];
}

/** Export `model` with the projection (and pooling) inside; see the module comment. */
/** Refuse an output directory that is, holds or lies inside the model read, or holds the projection read. */
function checkOut(out: string, root: string, projection: Projection | undefined): void {
  const within = (a: string, b: string) => {
    const r = relative(a, b);
    return r === '' || (!r.startsWith('..') && !isAbsolute(r));
  };
  if (within(resolve(root), out) || within(out, resolve(root))) {
    throw createError('OUTPUT', `${out}: the export would overwrite or nest with the model it reads (${root}); choose another directory`, {
      param: 'out',
    });
  }
  const inside = projectionFiles(projection).find((f) => within(out, resolve(f)));
  if (inside)
    throw createError(
      'OUTPUT',
      `${out}: the export would replace the directory holding the projection it reads (${inside}); choose another directory`,
      {
        param: 'out',
      },
    );
}

/** The model's graph, checked for what export needs: opset, the pooled output, the inputs, free lsar/ names. */
async function openGraph(
  root: string,
  onnxFile: string,
  hiddenName: string,
): Promise<{ model: OnnxModel; hidden: OnnxValueInfo; opset: number }> {
  const file = join(root, onnxFile);
  const model = decodeModel(await readFile(file));
  const opset = Number(model.opsetImport.find((e) => !e.domain || e.domain === 'ai.onnx')?.version ?? 0);
  if (opset < MIN_OPSET) {
    throw createError(
      'MODEL',
      `${file}: ONNX opset ${opset}; lsar export needs ${MIN_OPSET} or later: export the model again with a newer opset (optimum-cli export onnx --opset 14)`,
    );
  }
  const g = model.graph;
  // a standard export (no per-layer outputs): the layer's output is added to the graph (the export writes a new graph anyway)
  const layer = /^hidden_states\.(\d+)$/.exec(hiddenName);
  if (layer && !g.output.some((v) => v.name.startsWith('hidden_states.'))) tapLayer(model, Number(layer[1]), file);
  const hidden = g.output.find((v) => v.name === hiddenName);
  if (!hidden) {
    const layers = g.output.map((v) => v.name).filter((n) => n.startsWith('hidden_states.'));
    throw createError(
      'MODEL',
      `${file}: the graph has no output "${hiddenName}"${layers.length ? `; it exposes ${layers.join(', ')}` : '; its ONNX export exposes only the last layer (see the README on exporting per-layer hidden states)'}`,
      { param: 'layer' },
    );
  }
  const inputNames = new Set(g.input.map((v) => v.name));
  for (const need of ['input_ids', 'attention_mask']) {
    if (!inputNames.has(need))
      throw createError('MODEL', `${file}: the graph has no input "${need}" (inputs: ${[...inputNames].join(', ')})`);
  }
  const taken = [...g.node.flatMap((n) => [...n.input, ...n.output]), ...g.initializer.map((t) => t.name)].filter((n) =>
    n.startsWith('lsar/'),
  );
  if (taken.length) throw createError('MODEL', `${file}: names under lsar/ are taken (${taken[0]}): export from the original model`);
  const elem = hidden.type?.tensorType?.elemType;
  if (elem !== undefined && elem !== DataType.FLOAT && elem !== DataType.FLOAT16) {
    throw createError('MODEL', `${file}: ${hiddenName} has ONNX element type ${elem}; lsar export reads float32 or float16`);
  }
  return { model, hidden, opset };
}

/** The sentence_embedding output: pooling, input normalisation, the projection and output normalisation appended to the graph. */
function appendSentenceEmbedding(
  model: OnnxModel,
  opset: number,
  hidden: OnnxValueInfo,
  settings: Settings,
  specialIds: number[],
  projection: Projection | undefined,
  normalize: boolean,
  dim: number,
): void {
  const g = model.graph;
  const b = new GraphBuilder(g, opset);
  let x =
    hidden.type?.tensorType?.elemType === DataType.FLOAT16
      ? b.one('Cast', [hidden.name], [{ name: 'to', type: 2, i: DataType.FLOAT }])
      : hidden.name;
  if (settings.pooling !== 'mean' && settings.pooling !== 'cls')
    throw createError(
      'USAGE',
      `${opt('pooling')} ${settings.pooling}: lsar export builds mean or cls pooling into the graph; embed with lsar instead`,
      {
        param: 'pooling',
      },
    );
  x = appendPooling(b, x, 'attention_mask', 'input_ids', {
    pooling: settings.pooling,
    excludeSpecial: settings.excludeSpecial,
    specialIds,
  });
  if (settings.normalizeInput) x = appendNormalize(b, x);
  if (projection && projection.method !== 'none') x = appendProjection(b, x, planFor(projection), normalize);
  else if (normalize) x = appendNormalize(b, x);
  g.node.push({ name: 'lsar/sentence_embedding', opType: 'Identity', input: [x], output: ['sentence_embedding'] });
  g.output.push(valueInfo('sentence_embedding', DataType.FLOAT, [batchDim(g.input.find((v) => v.name === 'input_ids')), dim]));
}

/** The exported model directory, atomically: the model's top-level files (config.json with lsar_export), the new graph and its external data. */
async function writeExport(out: string, root: string, model: OnnxModel, onnxFile: string, ex: LsarExport): Promise<string[]> {
  const files: string[] = [];
  await writeDirAtomic(out, async (dir) => {
    for (const e of await readdir(root, { withFileTypes: true })) {
      if (!e.isFile() || e.name.startsWith('.')) continue;
      if (e.name === 'config.json') {
        const config = JSON.parse(await readFile(join(root, e.name), 'utf8')) as Record<string, unknown>;
        await writeFile(join(dir, e.name), JSON.stringify({ ...config, lsar_export: ex }, null, 2) + '\n');
      } else await copyFile(join(root, e.name), join(dir, e.name));
      files.push(e.name);
    }
    await mkdir(join(dir, 'onnx'));
    await writeFile(join(dir, onnxFile), encodeModel(model));
    files.push(onnxFile);
    for (const ext of externalFiles(model)) {
      await copyFile(join(root, 'onnx', ext), join(dir, 'onnx', ext));
      files.push(join('onnx', ext));
    }
  });
  return files.sort();
}

export async function exportModel(o: ModelExportOptions): Promise<ModelExportSummary> {
  const warnings: string[] = [];
  const projection = typeof o.projection === 'string' ? await loadProjection(o.projection) : o.projection;
  if (projection && needsLanguage(projection.method)) {
    throw createError(
      'USAGE',
      `${projection.method} ${projection.method === 'lir' ? "removes each language's own subspace" : "subtracts each language's mean"}: it needs the input's language, which a model does not know when it runs; export it alone for one language with --format onnx --lang <code>, or fit lsar (no language needed)`,
      { param: 'projection' },
    );
  }
  const manifest = manifestOf(projection);
  const settings = resolveSettings(o, manifest, typeof o.projection === 'string' ? o.projection : 'the projection', 'exporting', warnings);
  const dtype = o.dtype ?? 'fp32';
  const encoder = await Encoder.load({
    model: o.model,
    dtype,
    ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
    ...(o.offline ? { offline: true } : {}),
    ...(o.revision ? { revision: o.revision } : {}),
    threads: 1,
  });
  const root = encoder.root;
  const specialIds = [...encoder.specialIds].sort((a, b) => a - b);
  const info = encoder.info;
  const st = encoder.st;
  await encoder.dispose();
  const name = info.path ?? info.id;
  if (
    st &&
    (st.dense.length > 0 || st.normalize || (o.pooling === undefined && st.pooling !== undefined && st.pooling !== settings.pooling))
  )
    throw createError(
      'USAGE',
      `${name} is a sentence-transformers model (${st.modules.join(', ')}): lsar export builds mean or cls pooling into the graph, not its ${[
        ...(st.pooling && st.pooling !== settings.pooling ? [`${st.pooling} pooling`] : []),
        ...(st.dense.length ? ['Dense layers'] : []),
        ...(st.normalize ? ['Normalize'] : []),
      ].join(', ')}; embed it with lsar embed (which applies them), or export its Transformer alone from a copy without modules.json`,
      { param: 'model' },
    );
  if (info.export || info.outputs.includes('sentence_embedding')) {
    throw createError('USAGE', `${name} already has a sentence_embedding output (made by lsar export?): export from the original model`, {
      param: 'model',
    });
  }
  checkSameModel(manifest, info.files, name);
  const out = resolve(o.out);
  checkOut(out, root, projection);
  const onnxFile = join('onnx', MODEL_FILE[dtype]);
  const hiddenName = settings.layer === null ? 'last_hidden_state' : `hidden_states.${settings.layer}`;
  const { model, hidden, opset } = await openGraph(root, onnxFile, hiddenName);
  const d = hiddenSize(hidden) ?? (await configHiddenSize(root));
  if (projection && d !== undefined && d !== projection.dim) {
    throw createError(
      'DIM_MISMATCH',
      `${name}: hidden size ${d}, but the projection was fitted on dimension ${projection.dim}: fit on embeddings of this model`,
      { param: 'projection' },
    );
  }
  const dim = projection ? outputDim(projection) : d;
  if (dim === undefined)
    throw createError(
      'MODEL',
      `${join(root, onnxFile)}: cannot tell the hidden size (no shape on ${hiddenName}, no hidden_size in config.json)`,
    );
  const normalize = o.normalize === true;
  appendSentenceEmbedding(model, opset, hidden, settings, specialIds, projection, normalize, dim);
  const ex: LsarExport = {
    projection: projection
      ? {
          method: projection.method,
          ...(projection.rank !== undefined ? { rank: projection.rank } : {}),
          remove: projection.remove,
          key: projectionKey(projection),
          languages: projection.languages.map((l) => l.lang),
        }
      : null,
    ...settings,
    normalize,
    dtype,
    lsarVersion: VERSION,
  };
  model.metadataProps = [
    ...(model.metadataProps ?? []).filter((p) => p.key !== 'lsar.export'),
    { key: 'lsar.export', value: JSON.stringify(ex) },
  ];
  const files = await writeExport(out, root, model, onnxFile, ex);
  return { out, model: name, onnxFile, opset, export: ex, files, warnings };
}

function hiddenSize(v: OnnxValueInfo): number | undefined {
  const dims = v.type?.tensorType?.shape?.dim;
  const last = dims?.[dims.length - 1]?.dimValue;
  return last !== undefined ? Number(last) : undefined;
}

async function configHiddenSize(root: string): Promise<number | undefined> {
  try {
    const c = JSON.parse(await readFile(join(root, 'config.json'), 'utf8')) as { hidden_size?: number; dim?: number; d_model?: number };
    return c.hidden_size ?? c.d_model ?? c.dim;
  } catch {
    return undefined;
  }
}

/** The batch dimension's name (or size) as the model's input_ids declares it. */
function batchDim(v: OnnxValueInfo | undefined): string | number {
  const first = v?.type?.tensorType?.shape?.dim?.[0];
  if (first?.dimParam) return first.dimParam;
  if (first?.dimValue !== undefined) return Number(first.dimValue);
  return 'batch_size';
}

/** Files holding tensors stored outside the .onnx (large models): copied beside it. */
function externalFiles(model: OnnxModel): string[] {
  const names = new Set<string>();
  for (const t of model.graph.initializer) {
    if (t.dataLocation !== 1) continue;
    const loc = t.externalData?.find((e) => e.key === 'location')?.value;
    if (loc) names.add(loc);
  }
  return [...names];
}
