/**
 * What every native kernel needs: the addon, typed access to tensor memory of the backend, and the
 * cpu backend's kernel of the same name for the cases a native kernel does not cover.
 */
import * as tf from '@tensorflow/tfjs';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon, TypedArray } from './addon.js';
import { BufferPool } from './buffer-pool.js';

export const NATIVE_BACKEND = 'native';

let current: NativeAddon | null = null;

/**
 * Floating-point operations of the matrix-product and convolution kernels since the last reset
 * (2 per multiply-add), for throughput figures (`npm run bench`).
 */
export const flopCounter = { flops: 0 };

/** Tensor memory of the native backend (see buffer-pool.ts); up to 2 GiB kept for reuse. */
export const pool = new BufferPool(2 * 1024 ** 3);

export function setAddon(addon: NativeAddon): void {
  current = addon;
}

export function addon(): NativeAddon {
  if (!current) throw new Error('native backend: the addon is not loaded');
  return current;
}

export interface KernelCall {
  inputs: tf.NamedTensorInfoMap;
  backend: MathBackendCPU;
  attrs?: tf.NamedAttrMap;
}

/**
 * The values of a tensor in the backend's store, as the typed array its dtype implies: no copy,
 * except where the cpu backend's Cast kept the source storage (int32 or bool data cast to float32,
 * bool to int32 share the original array), which native code must not reinterpret.
 */
export function values<T extends TypedArray = Float32Array>(backend: MathBackendCPU, info: tf.TensorInfo): T {
  const stored = backend.data.get(info.dataId)!.values as TypedArray;
  if (info.dtype === 'float32' && !(stored instanceof Float32Array)) return Float32Array.from(stored) as T;
  if (info.dtype === 'int32' && !(stored instanceof Int32Array)) return Int32Array.from(stored) as T;
  return stored as T;
}

export function shapeArray(shape: readonly number[]): Int32Array {
  return Int32Array.from(shape);
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes per element of the dtypes native layout kernels move; null for others. */
export function elementBytes(dtype: tf.DataType): number | null {
  if (dtype === 'float32' || dtype === 'int32') return 4;
  if (dtype === 'bool') return 1;
  return null;
}

/** Output memory for a kernel that writes every element (contents are not zeroed). */
export function allocate(dtype: 'float32', size: number): Float32Array;
export function allocate(dtype: tf.DataType, size: number): TypedArray;
export function allocate(dtype: tf.DataType, size: number): TypedArray {
  if (dtype === 'float32') return new Float32Array(pool.take(size * 4), 0, size);
  if (dtype === 'int32') return new Int32Array(pool.take(size * 4), 0, size);
  if (dtype === 'bool') return new Uint8Array(pool.take(size), 0, size);
  throw new Error(`native backend: cannot allocate ${dtype}`);
}

/** Runs the cpu backend's kernel (the native backend stores tensors the way it does). */
export function fallback(name: string, call: KernelCall): tf.TensorInfo | tf.TensorInfo[] {
  const kernel = tf.getKernel(name, 'cpu');
  if (!kernel) throw new Error(`native backend: no kernel ${name} to fall back to`);
  return kernel.kernelFunc(call as unknown as Parameters<tf.KernelFunc>[0]);
}

export type NativeKernel = (call: KernelCall) => tf.TensorInfo | tf.TensorInfo[];

export function kernel(kernelName: string, kernelFunc: NativeKernel): tf.KernelConfig {
  return { kernelName, backendName: NATIVE_BACKEND, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
