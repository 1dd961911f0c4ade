/**
 * Training-mode batch normalisation over the last axis, returning the batch statistics for the
 * running averages. One fused kernel (forward and gradient) where the backend has it, else tfjs's
 * composed moments + multiply-add, which autodiff differentiates.
 */
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, hasFusedKernel } from '../../core/fused-kernels.js';

export interface BatchNormTrainingResult<T extends tf.Tensor> {
  y: T;
  /** Batch mean per channel. */
  mean: tf.Tensor1D;
  /** Biased batch variance per channel. */
  variance: tf.Tensor1D;
}

let gradientRegistered = false;

function registerGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAINING,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, true, true],
    gradFunc: (dy, saved, attrs) => {
      const [dY, dMean, dVariance] = dy as tf.Tensor[];
      const [x, scale, mean, variance] = saved;
      const [dx, dScale, dOffset] = tf.engine().runKernel(
        BATCH_NORM_TRAINING_GRAD,
        { dy: dY!, x: x!, mean: mean!, variance: variance!, scale: scale!, dMean: dMean!, dVariance: dVariance! },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
      return { x: () => dx!, scale: () => dScale!, offset: () => dOffset! };
    },
  });
}

/** Composed version: what every backend without the fused kernel runs. */
function composed<T extends tf.Tensor>(x: T, scale: tf.Tensor | undefined, offset: tf.Tensor | undefined, epsilon: number): BatchNormTrainingResult<T> {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const y = tf.tidy(() => {
    // y = x * s + t with s = γ / √(var + eps): one multiply-add per element.
    let s = tf.rsqrt(variance.add(epsilon));
    if (scale) s = s.mul(scale);
    let t = mean.mul(s).neg();
    if (offset) t = t.add(offset);
    return x.mul(s).add(t) as T;
  });
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

export function batchNormTraining<T extends tf.Tensor>(
  x: T,
  scale: tf.Tensor | undefined,
  offset: tf.Tensor | undefined,
  epsilon: number,
): BatchNormTrainingResult<T> {
  if (!hasFusedKernel(BATCH_NORM_TRAINING) || x.dtype !== 'float32') return composed(x, scale, offset, epsilon);
  registerGradient();
  const channels = x.shape[x.shape.length - 1]!;
  // The kernel always takes both; a BatchNorm without affine parameters uses γ = 1, β = 0.
  const ownScale = scale ?? tf.ones([channels]);
  const ownOffset = offset ?? tf.zeros([channels]);
  const [y, mean, variance] = tf.engine().runKernel(
    BATCH_NORM_TRAINING,
    { x, scale: ownScale, offset: ownOffset },
    { epsilon },
  ) as tf.Tensor[];
  if (!scale) ownScale.dispose();
  if (!offset) ownOffset.dispose();
  return { y: y as T, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
