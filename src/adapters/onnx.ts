/**
 * ONNX models in and out, through protobufjs and ONNX's own schema (assets/onnx.proto, from
 * onnx 1.12): decode a model into plain objects, change it, encode it again. Loaded lazily.
 */
import { fileURLToPath } from 'node:url';
import type * as Protobuf from 'protobufjs';
import { requireOptional } from '../io/optional.js';

/** ONNX TensorProto.DataType values lsar uses. */
export const DataType = { FLOAT: 1, INT64: 7, FLOAT16: 10, DOUBLE: 11 } as const;

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int64Data?: (number | bigint)[];
  dataLocation?: number;
  externalData?: { key: string; value: string }[];
}
export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number | bigint;
  s?: Uint8Array;
  t?: OnnxTensor;
  ints?: (number | bigint)[];
  floats?: number[];
}
export interface OnnxNode {
  name?: string;
  opType: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute?: OnnxAttribute[];
}
export interface OnnxDim {
  dimValue?: number | bigint;
  dimParam?: string;
}
export interface OnnxValueInfo {
  name: string;
  type?: { tensorType?: { elemType: number; shape?: { dim: OnnxDim[] } } };
}
export interface OnnxGraph {
  name?: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  valueInfo?: OnnxValueInfo[];
}
export interface OnnxModel {
  irVersion: number | bigint;
  producerName?: string;
  producerVersion?: string;
  opsetImport: { domain?: string; version: number | bigint }[];
  graph: OnnxGraph;
  metadataProps?: { key: string; value: string }[];
}

let modelType: Protobuf.Type | undefined;
function schema(): Protobuf.Type {
  if (!modelType) {
    const pb = requireOptional<typeof Protobuf>('protobufjs', 'Reading and writing ONNX models');
    const proto = fileURLToPath(new URL('../../assets/onnx.proto', import.meta.url));
    modelType = pb.loadSync(proto).lookupType('onnx.ModelProto');
  }
  return modelType;
}

/** Decode an ONNX model (bytes of a .onnx file). */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  const t = schema();
  return t.toObject(t.decode(bytes), { longs: Number, defaults: false, arrays: true }) as OnnxModel;
}

/** Encode an ONNX model. */
export function encodeModel(model: OnnxModel): Uint8Array {
  const t = schema();
  return t.encode(t.fromObject(model)).finish();
}

/** A float32 tensor (initializer) from values. */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): OnnxTensor {
  const data = Float32Array.from(values as ArrayLike<number>);
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer) };
}

/** An int64 tensor (initializer) from values. */
export function int64Tensor(name: string, dims: number[], values: ArrayLike<number>): OnnxTensor {
  const data = BigInt64Array.from(Array.from(values as ArrayLike<number>, (v) => BigInt(v)));
  return { name, dims, dataType: DataType.INT64, rawData: new Uint8Array(data.buffer) };
}

/** A value description: element type and shape (numbers fixed, strings symbolic). */
export function valueInfo(name: string, elemType: number, shape: (number | string)[]): OnnxValueInfo {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** Attributes by kind (AttributeProto.AttributeType). */
export const attr = {
  f: (name: string, f: number): OnnxAttribute => ({ name, type: 1, f }),
  i: (name: string, i: number): OnnxAttribute => ({ name, type: 2, i }),
  t: (name: string, t: OnnxTensor): OnnxAttribute => ({ name, type: 4, t }),
  ints: (name: string, ints: number[]): OnnxAttribute => ({ name, type: 7, ints }),
};
