/**
 * `--layer N` on a standard export: a transformers.js-ready `onnx/model.onnx` from optimum
 * exposes only `last_hidden_state`, but its nodes keep the PyTorch module paths. The output of
 * layer N-1's last LayerNorm is hidden_states.N (the embeddings' LayerNorm is hidden_states.0),
 * as in transformers' `output_hidden_states`; this adds that tensor to the graph's outputs as
 * `hidden_states.N`. Known namings (optimum's exports):
 *   BERT, XLM-R, RoBERTa, MPNet, ELECTRA   /encoder/layer.K/output/LayerNorm/...
 *   DistilBERT                             /transformer/layer.K/output_layer_norm/...
 *   embeddings (all of them)               /embeddings/LayerNorm/...
 * optionally under a prefix (/bert/..., /roberta/...). The layer's tensor is the output of the
 * last node of that module in graph order (a LayerNormalization op, or the final Add of a
 * LayerNorm decomposed into elementary ops by older opsets).
 */
import { createError } from '../core/errors.js';
import { DataType, valueInfo, type OnnxModel, type OnnxValueInfo } from './onnx.js';

const LAYER_OUTPUT = [
  /^(?:\/[\w.-]+)*?\/encoder\/layer\.(\d+)\/output\/LayerNorm\//,
  /^(?:\/[\w.-]+)*?\/transformer\/layer\.(\d+)\/output_layer_norm\//,
];
const EMBEDDINGS = /^(?:\/[\w.-]+)*?\/embeddings\/LayerNorm\//;

/** The tensor of each hidden state the graph's node names show: index 0 the embeddings, i the output of layer i-1. */
export function findLayerOutputs(model: OnnxModel): Map<number, string> {
  const found = new Map<number, string>();
  for (const node of model.graph.node) {
    const name = node.name ?? '';
    const out = node.output[0];
    if (!out) continue;
    if (EMBEDDINGS.test(name)) {
      found.set(0, out);
      continue;
    }
    for (const re of LAYER_OUTPUT) {
      const m = re.exec(name);
      // nodes come in graph (topological) order: the last one of a module is its output
      if (m) found.set(Number(m[1]) + 1, out);
    }
  }
  return found;
}

/**
 * The model with `hidden_states.<layer>` added to its outputs (the model is changed in place and
 * returned), and the tensor tapped. Refused, with what was found, when the naming is not known.
 */
export function tapLayer(model: OnnxModel, layer: number, file: string): { model: OnnxModel; tensor: string } {
  const g = model.graph;
  const name = `hidden_states.${layer}`;
  if (g.output.some((o) => o.name === name)) return { model, tensor: name };
  const found = findLayerOutputs(model);
  const tensor = found.get(layer);
  if (tensor === undefined) {
    const have = [...found.keys()].sort((a, b) => a - b);
    throw createError(
      'MODEL',
      have.length
        ? `${file}: no layer ${layer} to tap: its nodes show hidden states ${have.join(', ')} (0 = embeddings, N = output of layer N-1)`
        : `${file}: exposes only ${g.output.map((o) => o.name).join(', ')}, and its node names follow no known export naming (optimum's /encoder/layer.N/output/LayerNorm/..., /transformer/layer.N/output_layer_norm/..., /embeddings/LayerNorm/...): export the model with per-layer outputs (see the README)`,
      { param: 'layer' },
    );
  }
  const last = g.output.find((o) => o.name === 'last_hidden_state') ?? g.output[0];
  g.node.push({ name: `lsar/tap/${name}`, opType: 'Identity', input: [tensor], output: [name] });
  g.output.push(outputLike(name, last));
  return { model, tensor };
}

/** An output described as `like` is (element type and shape), or float [batch, sequence, hidden] when unknown. */
function outputLike(name: string, like: OnnxValueInfo | undefined): OnnxValueInfo {
  const t = like?.type?.tensorType;
  if (t) return { name, type: { tensorType: { elemType: t.elemType, ...(t.shape ? { shape: t.shape } : {}) } } };
  return valueInfo(name, DataType.FLOAT, ['batch_size', 'sequence_length', 'hidden_size']);
}
