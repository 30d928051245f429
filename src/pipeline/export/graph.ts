/**
 * ONNX nodes for what lsar does after an encoder: pooling token states into sentence vectors
 * (attention-mask mean, special tokens in or out, or the first token), the projection
 * (x - offset, then x - (x B^T) B) and L2 normalisation, appended to a graph in place. The
 * numbers follow core/pooling.ts and core/projector.ts (here in float32).
 */
import type { ProjectionPlan } from '../../core/apply.js';
import { attr, DataType, floatTensor, int64Tensor, type OnnxGraph, type OnnxNode } from '../../adapters/onnx.js';

/** The oldest default-domain opset the appended nodes support (Equal on int64 ids needs 11). */
export const MIN_OPSET = 11;

/** A small builder over a graph: fresh names under a prefix, initializers and nodes appended. */
export class GraphBuilder {
  private n = 0;
  /**
   * @param opset the graph's default-domain opset: ReduceSum and Unsqueeze take their axes
   *   as an input from 13 on, as an attribute before (11 and 12 are supported).
   */
  constructor(
    readonly graph: OnnxGraph,
    readonly opset = 13,
    private readonly prefix = 'lsar',
  ) {
    if (opset < MIN_OPSET) throw new RangeError(`opset ${opset}: the pooling and projection nodes need opset ${MIN_OPSET} or later`);
  }

  name(what: string): string {
    return `${this.prefix}/${what}_${this.n++}`;
  }

  node(opType: string, input: string[], attribute: OnnxNode['attribute'] = [], outputs = 1): string[] {
    const output = Array.from({ length: outputs }, () => this.name(opType.toLowerCase()));
    this.graph.node.push({ name: this.name(`${opType}_node`), opType, input, output, ...(attribute.length ? { attribute } : {}) });
    return output;
  }

  one(opType: string, input: string[], attribute: OnnxNode['attribute'] = []): string {
    return this.node(opType, input, attribute)[0] as string;
  }

  reduceSum(x: string, axes: number[], keepdims: boolean): string {
    const k = attr.i('keepdims', keepdims ? 1 : 0);
    if (this.opset >= 13) return this.one('ReduceSum', [x, this.int64s('axes', [axes.length], axes)], [k]);
    return this.one('ReduceSum', [x], [attr.ints('axes', axes), k]);
  }

  unsqueeze(x: string, axes: number[]): string {
    if (this.opset >= 13) return this.one('Unsqueeze', [x, this.int64s('axes', [axes.length], axes)]);
    return this.one('Unsqueeze', [x], [attr.ints('axes', axes)]);
  }

  floats(what: string, dims: number[], values: ArrayLike<number>): string {
    const name = this.name(what);
    this.graph.initializer.push(floatTensor(name, dims, values));
    return name;
  }

  int64s(what: string, dims: number[], values: ArrayLike<number>): string {
    const name = this.name(what);
    this.graph.initializer.push(int64Tensor(name, dims, values));
    return name;
  }
}

export interface PoolingSpec {
  pooling: 'mean' | 'cls';
  excludeSpecial: boolean;
  /** Token ids counted as special (with excludeSpecial). */
  specialIds: number[];
}

/**
 * Sentence vectors [batch, hidden] from token states [batch, seq, hidden] (float32), the
 * attention mask and, to leave special tokens out, the input ids.
 */
export function appendPooling(b: GraphBuilder, hidden: string, attentionMask: string, inputIds: string, spec: PoolingSpec): string {
  if (spec.pooling === 'cls') return b.one('Gather', [hidden, b.int64s('zero', [], [0])], [attr.i('axis', 1)]);
  let mask = b.one('Cast', [attentionMask], [attr.i('to', DataType.FLOAT)]);
  if (spec.excludeSpecial && spec.specialIds.length > 0) {
    // 1 where input_ids is one of the special ids
    const ids = b.unsqueeze(inputIds, [-1]);
    const eq = b.one('Equal', [ids, b.int64s('special_ids', [spec.specialIds.length], spec.specialIds)]);
    const special = b.reduceSum(b.one('Cast', [eq], [attr.i('to', DataType.FLOAT)]), [-1], false);
    mask = b.one('Mul', [mask, b.one('Sub', [b.floats('one', [], [1]), special])]);
  }
  const m3 = b.unsqueeze(mask, [-1]);
  const sum = b.reduceSum(b.one('Mul', [hidden, m3]), [1], false);
  const count = b.reduceSum(m3, [1], false);
  // no counted token: the sum is 0, and so is the mean (as core/pooling.ts)
  return b.one('Div', [sum, b.one('Max', [count, b.floats('one', [], [1])])]);
}

/** L2-normalised rows of [n, d]; zero rows stay zero (as core/rows.ts). */
export function appendNormalize(b: GraphBuilder, x: string): string {
  const n2 = b.reduceSum(b.one('Mul', [x, x]), [-1], true);
  return b.one('Div', [x, b.one('Max', [b.one('Sqrt', [n2]), b.floats('tiny', [], [1e-30])])]);
}

/** The projection plan applied to vectors [n, d] (and, with `normalize`, L2-normalised rows). */
export function appendProjection(b: GraphBuilder, x: string, plan: ProjectionPlan, normalize: boolean): string {
  const d = plan.dim;
  let y = x;
  if (plan.offset) y = b.one('Sub', [y, b.floats('offset', [d], plan.offset)]);
  if (plan.basis && plan.basis.length > 0) {
    const k = plan.basis.length / d;
    const bt = new Float32Array(d * k);
    for (let j = 0; j < k; j++) for (let i = 0; i < d; i++) bt[i * k + j] = plan.basis[j * d + i] as number;
    const coef = b.one('MatMul', [y, b.floats('basis_t', [d, k], bt)]);
    y = b.one('Sub', [y, b.one('MatMul', [coef, b.floats('basis', [k, d], plan.basis)])]);
  }
  if (plan.transform) {
    // whiten: y @ T^T, T is k x d
    const k = plan.transform.length / d;
    const tt = new Float32Array(d * k);
    for (let j = 0; j < k; j++) for (let i = 0; i < d; i++) tt[i * k + j] = plan.transform[j * d + i] as number;
    y = b.one('MatMul', [y, b.floats('transform_t', [d, k], tt)]);
  }
  return normalize ? appendNormalize(b, y) : y;
}
