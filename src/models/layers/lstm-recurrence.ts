/**
 * The LSTM recurrence as one op: every time step of one layer, given the input projection of all
 * steps. One fused kernel per layer (forward and gradient) where the backend has it, else the same
 * maths as tfjs ops, one small group per step, which autodiff differentiates.
 */
import * as tf from '@tensorflow/tfjs';
import { LSTM_RECURRENCE, LSTM_RECURRENCE_GRAD, hasFusedKernel } from '../../core/fused-kernels.js';
import { ShapeError } from '../../errors.js';

export interface LstmRecurrenceResult {
  /** h at every step, time-major [steps·batch, H]. */
  outputs: tf.Tensor2D;
  /** Final hidden state [batch, H]. */
  h: tf.Tensor2D;
  /** Final cell state [batch, H]. */
  c: tf.Tensor2D;
}

let gradientRegistered = false;

function registerGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: LSTM_RECURRENCE,
    inputsToSave: ['weightHhT', 'h0', 'c0'],
    // outputs, gates and cells; h and c are copies of the last step.
    outputsToSave: [true, false, false, true, true],
    gradFunc: (dy, saved) => {
      // The engine hands zeros for outputs without a gradient; null is handled too.
      const dys = (Array.isArray(dy) ? dy : [dy]) as Array<tf.Tensor | null | undefined>;
      const [weightHhT, h0, c0, outputs, gates, cells] = saved;
      // gates and cells never reach the caller (the op frees them), so their dys are such zeros:
      // free them now rather than at the end of the backward pass.
      dys[3]?.dispose();
      dys[4]?.dispose();
      const inputs: tf.NamedTensorMap = { weightHhT: weightHhT!, h0: h0!, c0: c0!, outputs: outputs!, gates: gates!, cells: cells! };
      const [dOutputs, dH, dC] = dys;
      if (dOutputs) inputs.dOutputs = dOutputs;
      if (dH) inputs.dH = dH;
      if (dC) inputs.dC = dC;
      const [dProjected, dWeightHhT, dH0, dC0] = tf.engine().runKernel(LSTM_RECURRENCE_GRAD, inputs) as tf.Tensor[];
      return { projected: () => dProjected!, weightHhT: () => dWeightHhT!, h0: () => dH0!, c0: () => dC0! };
    },
  });
}

/**
 * The recurrence of one LSTM layer over `steps` steps of `batch` sequences. `projected` is
 * [steps·batch, 4H], time-major, already holding x·W_ihᵀ + b_ih + b_hh; `weightHhT` is W_hhᵀ
 * [H, 4H]. h0 and c0 [batch, H] are zeros when absent (PyTorch). Differentiable.
 */
export function lstmRecurrence(
  projected: tf.Tensor2D,
  weightHhT: tf.Tensor2D,
  steps: number,
  batch: number,
  h0?: tf.Tensor2D,
  c0?: tf.Tensor2D,
): LstmRecurrenceResult {
  const H = weightHhT.shape[0];
  if (weightHhT.shape[1] !== 4 * H) throw new ShapeError('LSTM weightHhT', `[H, 4H]`, weightHhT.shape);
  if (projected.shape[0] !== steps * batch || projected.shape[1] !== 4 * H) {
    throw new ShapeError('LSTM projected input', `[${steps * batch}, ${4 * H}]`, projected.shape);
  }
  if (!hasFusedKernel(LSTM_RECURRENCE) || projected.dtype !== 'float32') return composedRecurrence(projected, weightHhT, steps, h0, c0);
  registerGradient();
  return tf.tidy(() => {
    const inputs = { projected, weightHhT, h0: h0 ?? tf.zeros([batch, H]), c0: c0 ?? tf.zeros([batch, H]) };
    const [outputs, h, c] = tf.engine().runKernel(LSTM_RECURRENCE, inputs) as tf.Tensor2D[];
    // The tape saved its own references to gates and cells; tidy frees the originals and any zero state.
    return { outputs, h, c };
  });
}

/** The recurrence as tfjs ops, for backends without the kernel. */
function composedRecurrence(
  projected: tf.Tensor2D,
  weightHhT: tf.Tensor2D,
  steps: number,
  h0?: tf.Tensor2D,
  c0?: tf.Tensor2D,
): LstmRecurrenceResult {
  // One step without a split: tfjs's gradient of a one-way split fails (it gets a lone dy, not a list).
  const stepInputs = steps === 1 ? [projected] : (tf.split(projected, steps, 0) as tf.Tensor2D[]);

  let h = h0;
  let c = c0;
  const hiddenStates: tf.Tensor2D[] = [];
  for (let t = 0; t < steps; t++) {
    const hPrev = h;
    const cPrev = c;
    // Per-step tidy keeps memory flat on long inputs; tensors a gradient needs are kept by the tape.
    const next = tf.tidy(() => {
      const gates = hPrev ? stepInputs[t].add(tf.matMul(hPrev, weightHhT)) : stepInputs[t];
      const [gateI, gateF, gateG, gateO] = tf.split(gates, 4, 1);
      const inputGate = tf.sigmoid(gateI);
      const candidate = tf.tanh(gateG);
      const outputGate = tf.sigmoid(gateO);
      const cNew = cPrev ? tf.sigmoid(gateF).mul(cPrev).add(inputGate.mul(candidate)) : inputGate.mul(candidate);
      const hNew = outputGate.mul(tf.tanh(cNew));
      return [hNew, cNew] as tf.Tensor2D[];
    });
    h = next[0];
    c = next[1];
    hiddenStates.push(h);
  }
  const outputs = steps === 1 ? hiddenStates[0] : (tf.concat(hiddenStates, 0) as tf.Tensor2D);
  return { outputs, h: h as tf.Tensor2D, c: c as tf.Tensor2D };
}
