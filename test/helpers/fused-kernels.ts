/** Shared by the fused-kernel tests: run a case on one backend, compare named results. */
import * as tf from '@tensorflow/tfjs';
import { assertClose, type Tolerance } from './close.js';

/** Named float outputs of one run (values, gradients). */
export type Results = Record<string, Float32Array>;

export async function onBackend<T>(name: 'cpu' | 'native', run: () => T): Promise<T> {
  await tf.setBackend(name);
  return run();
}

export function assertSameResults(actual: Results, expected: Results, tol: Tolerance, label: string): void {
  for (const key of Object.keys(expected)) assertClose(actual[key]!, expected[key]!, tol, `${label}: ${key}`);
}
