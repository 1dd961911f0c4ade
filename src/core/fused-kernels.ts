/**
 * Names and attributes of voxkit's fused kernels: one kernel where tfjs's granularity would run
 * many (batch normalisation in training, …). A backend may register them (the native backend
 * does); ops fall back to the composed tfjs version on backends that do not, so models never name a
 * backend.
 */
import * as tf from '@tensorflow/tfjs';

/** Inputs x, scale, offset → [y, mean, variance]; attrs { epsilon }. Normalises over the last axis. */
export const BATCH_NORM_TRAINING = 'VoxkitBatchNormTraining';
/** Inputs dy, x, mean, variance, scale, dMean, dVariance → [dx, dScale, dOffset]; attrs { epsilon }. */
export const BATCH_NORM_TRAINING_GRAD = 'VoxkitBatchNormTrainingGrad';

/** Whether the active backend has its own kernel for `name`. */
export function hasFusedKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}
