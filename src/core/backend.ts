/**
 * Compute engine selection. In Node the default is `native` (voxkit's addon on oneDNN and OpenBLAS,
 * built at install when the system libraries are there) and otherwise `wasm`; `cpu` is the pure-JS
 * reference; `tensorflow` is @tensorflow/tfjs-node when the user has installed it (optional: its
 * install downloads libtensorflow).
 */
import * as tf from '@tensorflow/tfjs';
import { VoxkitError } from '../errors.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';

export type BackendName = 'native' | 'wasm' | 'cpu' | 'tensorflow';
export const BACKEND_NAMES: readonly BackendName[] = ['native', 'wasm', 'cpu', 'tensorflow'];

const isNode = typeof process !== 'undefined' && Boolean(process.versions?.node);

let wasmRegistered = false;

async function registerWasm(): Promise<void> {
  if (wasmRegistered) return;
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // In Node the .wasm binaries sit beside the package's dist files.
  if (typeof process !== 'undefined' && process.versions?.node) {
    const { createRequire } = await import('node:module');
    const { dirname, join } = await import('node:path');
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    wasm.setWasmPaths(join(dir, '/'));
  }
  wasmRegistered = true;
}

/**
 * Why the native backend is unavailable, or null when it loads. Node only (the browser has no
 * addon). Loading is attempted once.
 */
export async function nativeBackendProblem(): Promise<string | null> {
  if (!isNode) return 'the native backend exists in Node.js only';
  const { loadNativeAddon } = await import('../engine/native/addon-node.js');
  const load = loadNativeAddon();
  return load.addon ? null : load.reason;
}

/** Threads of the native backend: VOXKIT_NATIVE_THREADS, else every core. */
async function nativeThreads(): Promise<number> {
  const env = Number(process.env.VOXKIT_NATIVE_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  const os = await import('node:os');
  return os.availableParallelism();
}

/** The backend named by VOXKIT_BACKEND, else native when its addon loads, else wasm. */
export async function defaultBackend(): Promise<BackendName> {
  const env = isNode ? process.env.VOXKIT_BACKEND : undefined;
  if (env && (BACKEND_NAMES as readonly string[]).includes(env)) return env as BackendName;
  return (await nativeBackendProblem()) === null ? 'native' : 'wasm';
}

/** Selects and initialises a backend; idempotent. Returns the name of the active backend. */
export async function useBackend(requested?: BackendName): Promise<BackendName> {
  const name = requested ?? (await defaultBackend());
  if (name === 'native') {
    const problem = await nativeBackendProblem();
    if (problem !== null) {
      throw new VoxkitError('E_USAGE', `backend "native" is unavailable: ${problem}; see "Native backend" in the README, or use --backend wasm`);
    }
    const [{ loadNativeAddon }, { registerNativeBackend }] = await Promise.all([
      import('../engine/native/addon-node.js'),
      import('../engine/native/backend.js'),
    ]);
    const load = loadNativeAddon();
    if (load.addon) registerNativeBackend(load.addon, await nativeThreads());
  } else if (name === 'wasm') {
    await registerWasm();
  } else if (name === 'tensorflow') {
    try {
      // Optional dependency, not declared: resolved at run time only.
      const moduleName = '@tensorflow/tfjs-node';
      await import(moduleName);
    } catch (cause) {
      throw new VoxkitError(
        'E_USAGE',
        'backend "tensorflow" needs @tensorflow/tfjs-node, which is not installed (npm install @tensorflow/tfjs-node); use --backend wasm or cpu',
        { cause },
      );
    }
  } else if (name !== 'cpu') {
    throw new VoxkitError('E_USAGE', `unknown backend "${name}"; valid: ${BACKEND_NAMES.join(', ')}`);
  }
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) throw new VoxkitError('E_USAGE', `could not initialise the ${name} backend`);
  }
  await tf.ready();
  if (name === 'wasm') registerWasmTrainingKernels();
  return name;
}

export { tf };
