/**
 * Transpose, Slice, SplitV and Concat as strided copies. Slices that are one contiguous run stay
 * views of their input, as on the cpu backend (no copy at all).
 */
import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { addon, allocate, elementBytes, fallback, kernel, shapeArray, sizeOf, values, type KernelCall } from '../context.js';

function transpose(call: KernelCall): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs } = call;
  const x = inputs.x!;
  const bytes = elementBytes(x.dtype);
  if (bytes === null) return fallback(tf.Transpose, call);
  const perm = attrs!.perm as number[];
  const outShape = perm.map((p) => x.shape[p]!);
  const out = allocate(x.dtype, sizeOf(outShape));
  addon().transpose(values(backend, x), shapeArray(x.shape), Int32Array.from(perm), out, bytes);
  return backend.makeTensorInfo(outShape, x.dtype, out);
}

function sliceInfo(backend: MathBackendCPU, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const bytes = elementBytes(x.dtype)!;
  const source = values(backend, x);
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const offset = tf.slice_util.computeFlatOffset(begin, tf.util.computeStrides(x.shape));
    return backend.makeTensorInfo(size, x.dtype, source.subarray(offset, offset + sizeOf(size)));
  }
  const out = allocate(x.dtype, sizeOf(size));
  addon().slice(source, shapeArray(x.shape), Int32Array.from(begin), Int32Array.from(size), out, bytes);
  return backend.makeTensorInfo(size, x.dtype, out);
}

function slice(call: KernelCall): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs } = call;
  const x = inputs.x!;
  if (elementBytes(x.dtype) === null) return fallback(tf.Slice, call);
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs!.begin as number[], attrs!.size as number[]);
  tf.slice_util.assertParamsValid(x as tf.Tensor, begin, size);
  return sliceInfo(backend, x, begin, size);
}

function splitV(call: KernelCall): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs } = call;
  const x = inputs.x!;
  if (elementBytes(x.dtype) === null) return fallback(tf.SplitV, call);
  const axis = tf.util.parseAxisParam(attrs!.axis as number, x.shape)[0]!;
  const splits = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs!.numOrSizeSplits as number | number[], axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  const size = x.shape.slice();
  return splits.map((s) => {
    size[axis] = s;
    const part = sliceInfo(backend, x, begin.slice(), size.slice());
    begin[axis]! += s;
    return part;
  });
}

function concat(call: KernelCall): tf.TensorInfo | tf.TensorInfo[] {
  const { backend, attrs } = call;
  const all = call.inputs as unknown as tf.TensorInfo[];
  const dtype = all[0]!.dtype;
  const bytes = elementBytes(dtype);
  if (bytes === null || all.some((t) => t.dtype !== dtype)) return fallback(tf.Concat, call);
  const axis = tf.util.parseAxisParam(attrs!.axis as number, all[0]!.shape)[0]!;
  const outShape = tf.backend_util.computeOutShape(all.map((t) => t.shape), axis);
  const parts = all.filter((t) => sizeOf(t.shape) > 0);
  const out = allocate(dtype, sizeOf(outShape));
  if (parts.length > 0) {
    const outer = sizeOf(outShape.slice(0, axis));
    const inner = Int32Array.from(parts.map((t) => sizeOf(t.shape.slice(axis))));
    addon().concat(parts.map((t) => values(backend, t)), inner, outer, out, bytes);
  }
  return backend.makeTensorInfo(outShape, dtype, out);
}

export const layoutKernels: tf.KernelConfig[] = [
  kernel(tf.Transpose, transpose),
  kernel(tf.Slice, slice),
  kernel(tf.SplitV, splitV),
  kernel(tf.Concat, concat),
];
