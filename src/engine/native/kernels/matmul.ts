/** BatchMatMul and _FusedMatMul on OpenBLAS sgemm (transposes go to BLAS, which handles them in its packing). */
import * as tf from '@tensorflow/tfjs';
import { ACTIVATION } from '../addon.js';
import { addon, allocate, fallback, flopCounter, kernel, sizeOf, values, type KernelCall } from '../context.js';

function matmul(call: KernelCall, name: string, fused: boolean): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs } = call;
  const a = inputs.a!;
  const b = inputs.b!;
  const transposeA = Boolean(attrs?.transposeA);
  const transposeB = Boolean(attrs?.transposeB);
  const activation = (attrs?.activation as string | undefined) ?? 'linear';
  const bias = fused ? inputs.bias : undefined;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return fallback(name, call);
  if (fused && (inputs.preluActivationWeights || !(activation in ACTIVATION))) return fallback(name, call);
  const m = transposeA ? a.shape[a.shape.length - 1]! : a.shape[a.shape.length - 2]!;
  const k = transposeA ? a.shape[a.shape.length - 2]! : a.shape[a.shape.length - 1]!;
  const kb = transposeB ? b.shape[b.shape.length - 1]! : b.shape[b.shape.length - 2]!;
  const n = transposeB ? b.shape[b.shape.length - 2]! : b.shape[b.shape.length - 1]!;
  if (k !== kb) return fallback(name, call);
  const batchShapeA = a.shape.slice(0, -2);
  const batchShapeB = b.shape.slice(0, -2);
  const batchA = sizeOf(batchShapeA);
  const batchB = sizeOf(batchShapeB);
  let batchShape: number[];
  if (batchA === batchB && batchShapeA.length === batchShapeB.length) batchShape = batchShapeA;
  else if (batchB === 1) batchShape = batchShapeA.length >= batchShapeB.length ? batchShapeA : [...batchShapeB.map(() => 1).slice(batchShapeA.length), ...batchShapeA];
  else if (batchA === 1) batchShape = batchShapeB.length >= batchShapeA.length ? batchShapeB : [...batchShapeA.map(() => 1).slice(batchShapeB.length), ...batchShapeB];
  else return fallback(name, call);
  let biasValues: Float32Array | null = null;
  if (bias) {
    const size = sizeOf(bias.shape);
    const trailingOnly = bias.shape.slice(0, -1).every((d) => d === 1);
    if (bias.dtype !== 'float32' || !(size === 1 || (size === n && trailingOnly))) return fallback(name, call);
    biasValues = values<Float32Array>(backend, bias);
  }
  const out = allocate('float32', Math.max(batchA, batchB) * m * n);
  addon().matmul(
    values(backend, a), values(backend, b), out, batchA, batchB, m, k, n,
    transposeA ? 1 : 0, transposeB ? 1 : 0, biasValues, ACTIVATION[activation as keyof typeof ACTIVATION],
  );
  flopCounter.flops += 2 * Math.max(batchA, batchB) * m * n * k;
  return backend.makeTensorInfo([...batchShape, m, n], 'float32', out);
}

export const matmulKernels: tf.KernelConfig[] = [
  kernel(tf.BatchMatMul, (call) => matmul(call, tf.BatchMatMul, false)),
  kernel(tf._FusedMatMul, (call) => matmul(call, tf._FusedMatMul, true)),
];
