/** Facts about the machine and software a benchmark ran on. */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { TorchVersions } from './torch-process.js';

export interface MachineFacts {
  dateIso: string;
  cpuModel: string;
  /** Widest x86 vector extensions the CPU reports (PyTorch's kernels use them; wasm SIMD is 128-bit). */
  cpuVectorExtensions: string;
  logicalCores: number;
  loadAverage1m: number;
  node: string;
  tfjs: string;
  backend: string;
  /** wasm feature flags as tfjs detected them (SIMD, threads). */
  backendDetails: string;
  torch: TorchVersions | null;
}

function cpuModelName(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':').slice(1).join(':').trim();
  } catch {
    // not Linux: fall through to os.cpus()
  }
  return cpus()[0]?.model ?? 'unknown';
}

function cpuVectorExtensions(): string {
  try {
    const flagsLine = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags'));
    const flags = new Set((flagsLine ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
    return ['sse4_2', 'avx2', 'fma', 'avx512f'].filter((f) => flags.has(f)).join(' ') || 'unknown';
  } catch {
    return 'unknown';
  }
}

async function backendDetails(): Promise<string> {
  if (tf.getBackend() === 'native') {
    const { loadNativeAddon } = await import('../../src/engine/native/addon-node.js');
    const load = loadNativeAddon();
    if (!load.addon) return '';
    const v = load.addon.versions();
    return `oneDNN ${v.onednn}, ${v.openblas.split(' ').slice(0, 2).join(' ')}, ${load.addon.getThreads()} thread(s)`;
  }
  if (tf.getBackend() !== 'wasm') return '';
  const flags: string[] = [];
  for (const [flag, label] of [
    ['WASM_HAS_SIMD_SUPPORT', 'SIMD'],
    ['WASM_HAS_MULTITHREAD_SUPPORT', 'threads'],
  ] as const) {
    try {
      flags.push(`${label} ${(await tf.env().getAsync(flag)) ? 'yes' : 'no'}`);
    } catch {
      flags.push(`${label} ?`);
    }
  }
  return flags.join(', ');
}

export async function machineFacts(torch: TorchVersions | null): Promise<MachineFacts> {
  return {
    dateIso: new Date().toISOString(),
    cpuModel: cpuModelName(),
    cpuVectorExtensions: cpuVectorExtensions(),
    logicalCores: cpus().length,
    loadAverage1m: loadavg()[0],
    node: process.version,
    tfjs: tf.version.tfjs,
    backend: tf.getBackend(),
    backendDetails: await backendDetails(),
    torch,
  };
}

export function currentLoadAverage(): number {
  return loadavg()[0];
}

/**
 * Single-call sgemm rate of the native backend (1024³ products through its BatchMatMul kernel, best
 * of 5): the ceiling its training GFLOP/s compares to. Undefined on other backends.
 */
export function sgemmGflops(): number | undefined {
  if (tf.getBackend() !== 'native') return undefined;
  const n = 1024;
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  let best = Infinity;
  for (let i = 0; i < 6; i++) {
    const started = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    const seconds = (performance.now() - started) / 1000;
    c.dispose();
    if (i > 0) best = Math.min(best, seconds);
  }
  a.dispose();
  b.dispose();
  return (2 * n ** 3) / best / 1e9;
}
