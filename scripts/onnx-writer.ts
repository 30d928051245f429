/**
 * The fixture generator's small graph vocabulary, encoded with lsar's ONNX adapter
 * (protobufjs and ONNX's own schema, src/adapters/onnx.ts), the same code lsar export uses.
 */
import { attr, DataType, encodeModel as encode, valueInfo, type OnnxAttribute, type OnnxTensor } from '../src/adapters/onnx.js';

export const FLOAT = DataType.FLOAT;
export const INT64 = DataType.INT64;

export interface Tensor {
  name: string;
  dims: number[];
  type: typeof FLOAT | typeof INT64;
  data: Float32Array | BigInt64Array;
}

export type Attr = { name: string } & ({ f: number } | { i: number } | { ints: number[] } | { t: Tensor });

export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Attr[];
}

export interface ValueInfo {
  name: string;
  type: typeof FLOAT | typeof INT64;
  /** numbers are fixed sizes, strings symbolic dimensions. */
  shape: (number | string)[];
}

function tensor(t: Tensor): OnnxTensor {
  return { name: t.name, dims: t.dims, dataType: t.type, rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) };
}

function attribute(a: Attr): OnnxAttribute {
  if ('f' in a) return attr.f(a.name, a.f);
  if ('i' in a) return attr.i(a.name, a.i);
  if ('ints' in a) return attr.ints(a.name, a.ints);
  return attr.t(a.name, tensor(a.t));
}

export function encodeModel(
  graph: { name: string; nodes: Node[]; initializers: Tensor[]; inputs: ValueInfo[]; outputs: ValueInfo[] },
  opset = 17,
): Uint8Array {
  return encode({
    irVersion: 8,
    producerName: 'lsar scripts/make-fixture-model.ts',
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: graph.name,
      node: graph.nodes.map((n, i) => ({
        input: n.inputs,
        output: n.outputs,
        name: `${n.op}_${i}`,
        opType: n.op,
        ...(n.attrs ? { attribute: n.attrs.map(attribute) } : {}),
      })),
      initializer: graph.initializers.map(tensor),
      input: graph.inputs.map((v) => valueInfo(v.name, v.type, v.shape)),
      output: graph.outputs.map((v) => valueInfo(v.name, v.type, v.shape)),
    },
  });
}
