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

/**
 * Every step of one LSTM layer (time-major, gate columns i, f, g, o): inputs projected
 * [steps·batch, 4H] (x·W_ihᵀ + both biases), weightHhT [H, 4H], h0, c0 [batch, H] → [outputs
 * [steps·batch, H] (h at every step), h, c [batch, H], gates [steps·batch, 4H] (activated), cells
 * [steps·batch, H] (c at every step)]. The last two are for the gradient.
 */
export const LSTM_RECURRENCE = 'VoxkitLstmRecurrence';
/**
 * Inputs weightHhT, h0, c0, outputs, gates, cells and, each only when it has one, dOutputs, dH, dC
 * → [dProjected, dWeightHhT, dH0, dC0].
 */
export const LSTM_RECURRENCE_GRAD = 'VoxkitLstmRecurrenceGrad';

/**
 * The GE2E similarity logits: inputs embeddings [S, M, D] (S speakers, M ≥ 2 utterances each),
 * weight, bias (one value each) → [logits [S·M, S], similarity [S·M, S]]; attrs
 * {@link Ge2eSimilarityAttrs}. Row j·M + i is utterance i of speaker j against every speaker's
 * centroid (the mean of its utterances), its own speaker's without the utterance itself; logits =
 * max(similarity, minSimilarity)·weight + bias. similarity (before the floor) is for the gradient.
 */
export const GE2E_SIMILARITY = 'VoxkitGe2eSimilarity';
/** Inputs dLogits, embeddings, weight, bias, similarity → [dEmbeddings, dWeight, dBias]; attrs as the forward. */
export const GE2E_SIMILARITY_GRAD = 'VoxkitGe2eSimilarityGrad';

export interface Ge2eSimilarityAttrs {
  /** Epsilon of the centroid normalisation. */
  centroidEps: number;
  /** true: c / (‖c‖ + eps) (RTVC); false: c / max(‖c‖, eps) (cosine similarity). */
  centroidEpsAdded: boolean;
  /** 0: utterances enter the dot products as given; > 0: as e / max(‖e‖, utteranceEps). */
  utteranceEps: number;
  /** Floor on similarities before the scale; −Infinity for none. */
  minSimilarity: number;
}

/**
 * Inputs param, grad, expAvg, expAvgSq[, maxExpAvgSq] → [param, expAvg, expAvgSq[, maxExpAvgSq]];
 * attrs {@link AdamStepAttrs}. One Adam/AdamW update, bit-identical to the composed one.
 */
export const ADAM_STEP = 'VoxkitAdamStep';

export interface AdamStepAttrs {
  beta1: number;
  beta2: number;
  eps: number;
  /** lr / (1 − β1^t). */
  stepSize: number;
  /** √(1 − β2^t). */
  biasCorrection2Sqrt: number;
  /** L2 penalty added to the gradient (Adam); 0 when decoupled. */
  weightDecay: number;
  /** AdamW's parameter factor 1 − lr·wd; 0 for coupled decay. */
  decayFactor: number;
  maximize: boolean;
}

/** Inputs dy, x → dy · step(x): the ReLU gradient in one pass instead of Step, Cast and Multiply. */
export const RELU_GRAD = 'VoxkitReluGrad';

/**
 * Replaces tfjs's ReLU gradient with one that runs {@link RELU_GRAD} where the active backend has
 * it, and tfjs's own formula (`dy · step(x)`) everywhere else. Gradients are registered globally by
 * kernel name, so this is done once, by a backend that provides the kernel.
 */
export function registerReluGradient(): void {
  tf.registerGradient({
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      const grad = dy as tf.Tensor;
      if (hasFusedKernel(RELU_GRAD) && grad.dtype === 'float32' && x!.dtype === 'float32') {
        return { x: () => tf.engine().runKernel(RELU_GRAD, { dy: grad, x: x! }) as tf.Tensor };
      }
      return { x: () => tf.mul(grad, tf.cast(tf.step(x!), 'float32')) };
    },
  });
}

/** Whether the active backend has its own kernel for `name`. */
export function hasFusedKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}
