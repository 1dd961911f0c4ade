/** The fused LSTM recurrence (src/core/fused-kernels.ts) and its gradient on lstm.cc. */
import * as tf from '@tensorflow/tfjs';
import { LSTM_RECURRENCE, LSTM_RECURRENCE_GRAD } from '../../../core/fused-kernels.js';
import { addon, allocate, kernel, values, type KernelCall } from '../context.js';

/** steps, batch and H from the [batch, H] state and the [steps·batch, ·] time-major rows. */
function dimensions(state: tf.TensorInfo, rows: number): { steps: number; batch: number; hidden: number } {
  const [batch, hidden] = state.shape as [number, number];
  return { steps: batch === 0 ? 0 : rows / batch, batch, hidden };
}

function forward({ inputs, backend }: KernelCall): tf.TensorInfo[] {
  const { projected, weightHhT, h0, c0 } = inputs as Record<string, tf.TensorInfo>;
  const { steps, batch, hidden } = dimensions(h0!, projected!.shape[0]!);
  const outputs = allocate('float32', steps * batch * hidden);
  const h = allocate('float32', batch * hidden);
  const c = allocate('float32', batch * hidden);
  const gates = allocate('float32', steps * batch * 4 * hidden);
  const cells = allocate('float32', steps * batch * hidden);
  addon().lstmForward(
    values(backend, projected!), values(backend, weightHhT!), values(backend, h0!), values(backend, c0!),
    outputs, h, c, gates, cells, steps, batch, hidden,
  );
  return [
    backend.makeTensorInfo([steps * batch, hidden], 'float32', outputs),
    backend.makeTensorInfo([batch, hidden], 'float32', h),
    backend.makeTensorInfo([batch, hidden], 'float32', c),
    backend.makeTensorInfo([steps * batch, 4 * hidden], 'float32', gates),
    backend.makeTensorInfo([steps * batch, hidden], 'float32', cells),
  ];
}

function gradient({ inputs, backend }: KernelCall): tf.TensorInfo[] {
  const { weightHhT, h0, c0, outputs, gates, cells, dOutputs, dH, dC } = inputs as Record<string, tf.TensorInfo | undefined>;
  const { steps, batch, hidden } = dimensions(h0!, outputs!.shape[0]!);
  const optional = (t: tf.TensorInfo | undefined) => (t ? values(backend, t) : null);
  const dProjected = allocate('float32', steps * batch * 4 * hidden);
  const dWeightHhT = allocate('float32', hidden * 4 * hidden);
  const dH0 = allocate('float32', batch * hidden);
  const dC0 = allocate('float32', batch * hidden);
  addon().lstmBackward(
    values(backend, weightHhT!), values(backend, h0!), values(backend, c0!),
    values(backend, outputs!), values(backend, gates!), values(backend, cells!),
    optional(dOutputs), optional(dH), optional(dC),
    dProjected, dWeightHhT, dH0, dC0, steps, batch, hidden,
  );
  return [
    backend.makeTensorInfo([steps * batch, 4 * hidden], 'float32', dProjected),
    backend.makeTensorInfo([hidden, 4 * hidden], 'float32', dWeightHhT),
    backend.makeTensorInfo([batch, hidden], 'float32', dH0),
    backend.makeTensorInfo([batch, hidden], 'float32', dC0),
  ];
}

export const lstmKernels: tf.KernelConfig[] = [
  kernel(LSTM_RECURRENCE, forward),
  kernel(LSTM_RECURRENCE_GRAD, gradient),
];
