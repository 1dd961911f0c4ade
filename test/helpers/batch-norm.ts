import * as tf from '@tensorflow/tfjs';
import { Random } from '../../src/core/random.js';
import { BatchNorm } from '../../src/models/layers/batch-norm.js';
import type { Module } from '../../src/models/module.js';

/** Non-trivial BatchNorm statistics (seeded), so eval-mode BN is not an identity in a comparison. */
export function perturbBatchNorms(root: Module, seed: number): void {
  const random = new Random(seed);
  const fill = (v: tf.Variable, f: () => number) => v.assign(tf.tensor(Float32Array.from({ length: v.size }, f), v.shape));
  const visit = (m: Module) => {
    if (m instanceof BatchNorm) {
      if (m.weight) fill(m.weight, () => 0.8 + 0.4 * random.uniform());
      if (m.bias) fill(m.bias, () => 0.1 * random.normal());
      fill(m.runningMean, () => 0.1 * random.normal());
      fill(m.runningVar, () => 0.5 + random.uniform());
    }
    for (const [, child] of m.children()) visit(child);
  };
  visit(root);
}
