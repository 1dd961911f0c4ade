/**
 * The `native` tfjs backend: the cpu backend's tensor store and kernels, with the kernels that
 * dominate training replaced by the native addon's (OpenBLAS, oneDNN, OpenMP loops). Tensors are
 * plain typed arrays that both sides read and write in place. Any kernel the addon does not cover,
 * or a case a native kernel declines (other dtypes, NCHW, prelu), runs the cpu backend's kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { registerReluGradient } from '../../core/fused-kernels.js';
import type { NativeAddon } from './addon.js';
import { NATIVE_BACKEND, pool, setAddon } from './context.js';
import { adamKernels } from './kernels/adam.js';
import { batchNormKernels } from './kernels/batch-norm.js';
import { convKernels } from './kernels/conv.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { ge2eKernels } from './kernels/ge2e.js';
import { layoutKernels } from './kernels/layout.js';
import { lstmKernels } from './kernels/lstm.js';
import { matmulKernels } from './kernels/matmul.js';
import { reduceKernels } from './kernels/reduce.js';

export { NATIVE_BACKEND };

type StoredValues = Float32Array | Int32Array | Uint8Array;

/** The cpu backend's store, with its memory recycled through the buffer pool. */
class NativeBackend extends MathBackendCPU {
  constructor() {
    super();
    // The cpu backend's first write advises installing tfjs-node; this backend is the fast path.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  private stored(dataId: tf.DataId): StoredValues | undefined {
    const values = this.data.has(dataId) ? this.data.get(dataId)!.values : undefined;
    return ArrayBuffer.isView(values) ? (values as StoredValues) : undefined;
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId {
    const dataId = super.write(values, shape, dtype);
    if (ArrayBuffer.isView(values)) pool.retain(values as StoredValues);
    return dataId;
  }

  override move(dataId: tf.DataId, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    super.move(dataId, values, shape, dtype, refCount);
    if (ArrayBuffer.isView(values)) pool.retain(values as StoredValues);
  }

  override disposeData(dataId: tf.DataId, force?: boolean): boolean {
    const values = this.stored(dataId);
    const disposed = super.disposeData(dataId, force);
    if (values && disposed && !this.data.has(dataId)) pool.release(values);
    return disposed;
  }

  override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
    const values = this.stored(dataId);
    if (values) pool.escape(values);
    return super.readSync(dataId);
  }

  override async read(dataId: tf.DataId): Promise<tf.backend_util.BackendValues> {
    return this.readSync(dataId);
  }

  override dispose(): void {
    pool.clear();
    super.dispose();
  }
}

/** Every kernel the addon provides. */
export const NATIVE_KERNELS: readonly tf.KernelConfig[] = [
  ...matmulKernels, ...convKernels, ...elementwiseKernels, ...reduceKernels, ...layoutKernels, ...batchNormKernels, ...adamKernels, ...lstmKernels,
  ...ge2eKernels,
];

let registered = false;

/**
 * Registers the `native` backend (idempotent). `threads` sizes the pools of OpenMP, OpenBLAS and
 * oneDNN together.
 */
export function registerNativeBackend(addon: NativeAddon, threads: number): void {
  addon.setThreads(threads);
  if (registered) return;
  setAddon(addon);
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), 0);
  const own = new Set(NATIVE_KERNELS.map((k) => k.kernelName));
  // VOXKIT_NATIVE_DISABLE=Name,… leaves those kernels to the cpu backend (A/B measurements, bisecting).
  const skip = new Set((typeof process !== 'undefined' ? (process.env.VOXKIT_NATIVE_DISABLE ?? '') : '').split(','));
  for (const config of NATIVE_KERNELS) if (!skip.has(config.kernelName)) tf.registerKernel(config); else own.delete(config.kernelName);
  for (const config of tf.getKernelsForBackend('cpu')) {
    if (!own.has(config.kernelName)) tf.registerKernel({ ...config, backendName: NATIVE_BACKEND });
  }
  // Gradients are registered by kernel name, so every gradient the umbrella package knows applies;
  // ReLU's is replaced by one that uses the fused kernel here and tfjs's formula elsewhere.
  registerReluGradient();
  registered = true;
}
