/**
 * The `native` tfjs backend: the cpu backend's tensor store and kernels, with the kernels that
 * dominate training replaced by the native addon's (OpenBLAS, oneDNN, OpenMP loops). Tensors are
 * plain typed arrays that both sides read and write in place. Any kernel the addon does not cover,
 * or a case a native kernel declines (other dtypes, NCHW, prelu), runs the cpu backend's kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './addon.js';
import { NATIVE_BACKEND, setAddon } from './context.js';
import { batchNormKernels } from './kernels/batch-norm.js';
import { convKernels } from './kernels/conv.js';
import { elementwiseKernels } from './kernels/elementwise.js';
import { layoutKernels } from './kernels/layout.js';
import { lstmKernels } from './kernels/lstm.js';
import { matmulKernels } from './kernels/matmul.js';
import { reduceKernels } from './kernels/reduce.js';

export { NATIVE_BACKEND };

class NativeBackend extends MathBackendCPU {
  constructor() {
    super();
    // The cpu backend's first write advises installing tfjs-node; this backend is the fast path.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }
}

/** Every kernel the addon provides. */
export const NATIVE_KERNELS: readonly tf.KernelConfig[] = [
  ...matmulKernels, ...convKernels, ...elementwiseKernels, ...reduceKernels, ...layoutKernels, ...batchNormKernels, ...lstmKernels,
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
  for (const config of NATIVE_KERNELS) tf.registerKernel(config);
  for (const config of tf.getKernelsForBackend('cpu')) {
    if (!own.has(config.kernelName)) tf.registerKernel({ ...config, backendName: NATIVE_BACKEND });
  }
  // Gradients are registered by kernel name, so every gradient the umbrella package knows applies.
  registered = true;
}
