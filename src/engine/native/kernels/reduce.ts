/**
 * Sum, Mean, Max, Min, Prod, ArgMax, ArgMin over any axes of float32 tensors. Adjacent axes reduce in
 * place; other sets are transposed so the reduced axes come last (as tfjs's own kernels do).
 */
import * as tf from '@tensorflow/tfjs';
import { addon, allocate, fallback, kernel, shapeArray, sizeOf, values, type KernelCall } from '../context.js';

/** reduce.cc's ReduceOp codes. */
const REDUCE: Record<string, number> = {
  [tf.Sum]: 0, [tf.Mean]: 1, [tf.Max]: 2, [tf.Min]: 3, [tf.Prod]: 4, [tf.ArgMax]: 5, [tf.ArgMin]: 6,
};

function reduce(name: string, call: KernelCall): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs } = call;
  const x = inputs.x!;
  if (x.dtype !== 'float32' || x.shape.length === 0 || sizeOf(x.shape) === 0) return fallback(name, call);
  const rank = x.shape.length;
  // tf.max names its axes reductionIndices; the other reductions name them axis.
  const axisAttr = (name === tf.ArgMax || name === tf.ArgMin ? [attrs?.axis as number] : name === tf.Max ? attrs?.reductionIndices : attrs?.axis) as number | number[];
  const axes = tf.util.parseAxisParam(axisAttr, x.shape).sort((p, q) => p - q);
  if (axes.length === 0) return fallback(name, call);
  const keepDims = Boolean(attrs?.keepDims);
  const [outShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
  let source = values(backend, x);
  let shape = x.shape;
  let reduceAxes = axes;
  if (axes[axes.length - 1]! - axes[0]! + 1 !== axes.length) {
    const perm = tf.backend_util.getAxesPermutation(axes, rank)!;
    shape = perm.map((p) => x.shape[p]!);
    const moved = new Float32Array(sizeOf(shape));
    addon().transpose(source, shapeArray(x.shape), Int32Array.from(perm), moved, 4);
    source = moved;
    reduceAxes = tf.backend_util.getInnerMostAxes(axes.length, rank);
  }
  const arg = name === tf.ArgMax || name === tf.ArgMin;
  const out = allocate(arg ? 'int32' : 'float32', sizeOf(outShape)) as Float32Array | Int32Array;
  addon().reduce(source, shapeArray(shape), Int32Array.from(reduceAxes), out, REDUCE[name]!);
  const finalShape = keepDims ? tf.backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
  return backend.makeTensorInfo(finalShape, arg ? 'int32' : 'float32', out);
}

export const reduceKernels: tf.KernelConfig[] = Object.keys(REDUCE).map((name) => kernel(name, (call) => reduce(name, call)));
