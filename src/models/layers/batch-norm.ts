import * as tf from '@tensorflow/tfjs';
import { Module } from '../module.js';
import { batchNormTraining } from './batch-norm-training.js';

/**
 * PyTorch `nn.BatchNorm1d/2d` over the last axis (channels-last activations: [batch, time, C] or
 * [batch, H, W, C], or [batch, C]). eps 1e-5, momentum 0.1 as in PyTorch. In train mode it uses the
 * batch statistics (biased variance) and updates the running stats with the unbiased variance.
 */
export class BatchNorm extends Module {
  readonly weight?: tf.Variable;
  readonly bias?: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly numBatchesTracked: tf.Variable;

  constructor(
    readonly numFeatures: number,
    readonly options: { eps?: number; momentum?: number; affine?: boolean } = {},
  ) {
    super();
    if (options.affine ?? true) {
      this.weight = this.param('weight', tf.ones([numFeatures]));
      this.bias = this.param('bias', tf.zeros([numFeatures]));
    }
    this.runningMean = this.buffer('running_mean', tf.zeros([numFeatures]));
    this.runningVar = this.buffer('running_var', tf.ones([numFeatures]));
    this.numBatchesTracked = this.buffer('num_batches_tracked', tf.scalar(0), 'int64');
  }

  get eps(): number {
    return this.options.eps ?? 1e-5;
  }

  forward<T extends tf.Tensor>(x: T): T {
    if (this.training) {
      const { y, mean, variance } = batchNormTraining(x, this.weight, this.bias, this.eps);
      const n = x.size / this.numFeatures;
      const momentum = this.options.momentum ?? 0.1;
      tf.tidy(() => {
        const unbiased = variance.mul(n / Math.max(n - 1, 1));
        this.runningMean.assign(this.runningMean.mul(1 - momentum).add(mean.mul(momentum)));
        this.runningVar.assign(this.runningVar.mul(1 - momentum).add(unbiased.mul(momentum)));
        this.numBatchesTracked.assign(this.numBatchesTracked.add(1));
      });
      mean.dispose();
      variance.dispose();
      return y;
    }
    return tf.tidy(() => this.normalize(x, this.runningMean, this.runningVar));
  }

  private normalize<T extends tf.Tensor>(x: T, mean: tf.Tensor, variance: tf.Tensor): T {
    // y = x * scale + shift with scale = γ / √(var + eps): one multiply-add per element.
    let scale = tf.rsqrt(variance.add(this.eps));
    if (this.weight) scale = scale.mul(this.weight);
    let shift = mean.mul(scale).neg();
    if (this.bias) shift = shift.add(this.bias);
    return x.mul(scale).add(shift) as T;
  }
}
