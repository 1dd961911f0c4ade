import * as tf from '@tensorflow/tfjs';
import { Module } from '../module.js';
import { uniformInit } from './init.js';

/** PyTorch `nn.Linear`: weight [out, in], bias [out]. Input [..., in] → [..., out]. */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean } = {},
  ) {
    super();
    // PyTorch's default init: U(-1/sqrt(in), 1/sqrt(in)) for both weight (kaiming_uniform a=√5) and bias.
    // (A zero-width input gives bound 0, as PyTorch's reset_parameters does.)
    const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
    this.weight = this.param('weight', uniformInit([outFeatures, inFeatures], -bound, bound));
    if (options.bias ?? true) this.bias = this.param('bias', uniformInit([outFeatures], -bound, bound));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const x2 = x.reshape([-1, this.inFeatures]);
      // Explicit transpose: matMul's transpose flags leave the fast path on the wasm backend.
      let y = tf.matMul(x2, this.weight.transpose());
      if (this.bias) y = y.add(this.bias);
      return y.reshape([...lead, this.outFeatures]);
    });
  }
}
