/** The fused Adam/AdamW update (src/core/fused-kernels.ts) on adam.cc. */
import * as tf from '@tensorflow/tfjs';
import { ADAM_STEP, type AdamStepAttrs } from '../../../core/fused-kernels.js';
import { addon, allocate, kernel, sizeOf, values, type KernelCall } from '../context.js';

function adamStep({ inputs, backend, attrs }: KernelCall): tf.TensorInfo[] {
  const param = inputs.param!;
  const a = attrs as unknown as AdamStepAttrs;
  const size = sizeOf(param.shape);
  const amsgrad = inputs.maxExpAvgSq !== undefined;
  const outs = [allocate('float32', size), allocate('float32', size), allocate('float32', size)];
  const outMax = amsgrad ? allocate('float32', size) : null;
  addon().adamStep(
    values(backend, param), values(backend, inputs.grad!), values(backend, inputs.expAvg!), values(backend, inputs.expAvgSq!),
    amsgrad ? values<Float32Array>(backend, inputs.maxExpAvgSq!) : null, outs[0]!, outs[1]!, outs[2]!, outMax,
    Float64Array.from([a.beta1, a.beta2, a.eps, a.stepSize, a.biasCorrection2Sqrt, a.weightDecay, a.decayFactor, a.maximize ? 1 : 0]),
  );
  if (outMax) outs.push(outMax);
  return outs.map((o) => backend.makeTensorInfo(param.shape, 'float32', o));
}

export const adamKernels: tf.KernelConfig[] = [kernel(ADAM_STEP, adamStep)];
