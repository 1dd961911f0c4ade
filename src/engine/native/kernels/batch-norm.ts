/** The fused training-mode batch normalisation (src/core/fused-kernels.ts) on batch_norm.cc. */
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from '../../../core/fused-kernels.js';
import { addon, allocate, kernel, sizeOf, values, type KernelCall } from '../context.js';

function forward({ inputs, backend, attrs }: KernelCall): tf.TensorInfo[] {
  const x = inputs.x!;
  const channels = x.shape[x.shape.length - 1]!;
  const y = allocate('float32', sizeOf(x.shape));
  const mean = new Float32Array(channels);
  const variance = new Float32Array(channels);
  addon().batchNormTraining(
    values(backend, x), values(backend, inputs.scale!), values(backend, inputs.offset!), y, mean, variance,
    channels, Number(attrs!.epsilon),
  );
  return [
    backend.makeTensorInfo(x.shape, 'float32', y),
    backend.makeTensorInfo([channels], 'float32', mean),
    backend.makeTensorInfo([channels], 'float32', variance),
  ];
}

function gradient({ inputs, backend, attrs }: KernelCall): tf.TensorInfo[] {
  const x = inputs.x!;
  const channels = x.shape[x.shape.length - 1]!;
  const dx = allocate('float32', sizeOf(x.shape));
  const dScale = new Float32Array(channels);
  const dOffset = new Float32Array(channels);
  addon().batchNormTrainingGrad(
    values(backend, inputs.dy!), values(backend, x), values(backend, inputs.mean!), values(backend, inputs.variance!),
    values(backend, inputs.scale!), values(backend, inputs.dMean!), values(backend, inputs.dVariance!),
    dx, dScale, dOffset, channels, Number(attrs!.epsilon),
  );
  return [
    backend.makeTensorInfo(x.shape, 'float32', dx),
    backend.makeTensorInfo([channels], 'float32', dScale),
    backend.makeTensorInfo([channels], 'float32', dOffset),
  ];
}

export const batchNormKernels: tf.KernelConfig[] = [
  kernel(BATCH_NORM_TRAINING, forward),
  kernel(BATCH_NORM_TRAINING_GRAD, gradient),
];
