/**
 * The GE2E loss of the Real-Time-Voice-Cloning speaker encoder (`encoder/model.py:
 * SpeakerEncoder.similarity_matrix` and `.loss`; Wan et al. 2018, §2.1). For utterance i of speaker
 * j, the similarity to speaker k's centroid is a dot product with
 *
 * - the inclusive centroid mean_i e_ki / (‖mean‖ + 1e-5) for k ≠ j,
 * - the exclusive centroid c = (Σ_i' e_ji' − e_ji)/(M − 1), as c / (‖c‖ + 1e-5), for k = j,
 *
 * then scaled and shifted by the learned `similarity_weight` (init 10) and `similarity_bias`
 * (init −5), both of shape [1]; loss = cross-entropy over the N·M rows of the [N, M, N] matrix
 * against each row's own speaker. Unlike voxceleb_trainer's `ge2e`, there is no cosine
 * re-normalisation of the utterances and no clamp. The embeddings are expected L2-normalised (the
 * encoder's output), as the reference assumes.
 *
 * RTVC trains with the gradients of w and b scaled by 0.01 and the global gradient norm clipped at
 * 3 (`do_gradient_ops`): that is this loss's {@link GradientPolicy}. `accuracy` = top-1 % of the
 * similarity rows; RTVC itself logs the batch EER ({@link ge2eBatchEer}).
 */
import * as tf from '@tensorflow/tfjs';
import { top1Accuracy } from './accuracy.js';
import { interpolatedEer } from '../eval/metrics.js';
import { crossEntropy } from './cross-entropy.js';
import { type GradientPolicy, type LossInput, type LossOutput, SpeakerLoss } from './loss.js';
import { metricBatch } from './loss-input.js';
import { type SpeakerMasks, rtvcSimilarityRows } from './ge2e-similarity.js';

/** RTVC `do_gradient_ops`: w/b gradients ×0.01, then `clip_grad_norm_(parameters, 3)`. */
export const RTVC_GE2E_GRADIENT_POLICY: Readonly<GradientPolicy> = Object.freeze({
  scale: Object.freeze({ similarity_weight: 0.01, similarity_bias: 0.01 }),
  clipNorm: 3,
});

export interface CentroidGe2eLossConfig {
  /** Initial similarity scale (default 10). */
  initW?: number;
  /** Initial similarity bias (default −5). */
  initB?: number;
  /** When given, embeddings must have this last dimension. */
  embeddingDim?: number;
}

/** Row targets for a batch shape: one-hot of each row's speaker (and its complement), and the speaker indices. */
interface SpeakerTargets extends SpeakerMasks {
  speakers: number;
  utterancesPerSpeaker: number;
  /** int32 [N·M]. */
  labels: tf.Tensor1D;
}

export class RtvcGe2eLoss extends SpeakerLoss {
  readonly name: string = 'rtvc-ge2e';
  readonly minUtterancesPerSpeaker: number = 2;
  readonly needsLabels: boolean = false;
  override readonly gradientPolicy: Readonly<GradientPolicy> = RTVC_GE2E_GRADIENT_POLICY;
  readonly embeddingDim?: number;
  /** Learned similarity scale, shape [1]. */
  readonly similarityWeight: tf.Variable;
  /** Learned similarity bias, shape [1]. */
  readonly similarityBias: tf.Variable;
  private targetsCache?: SpeakerTargets;

  constructor(config: CentroidGe2eLossConfig = {}) {
    super();
    this.embeddingDim = config.embeddingDim;
    this.similarityWeight = this.param('similarity_weight', tf.tensor1d([config.initW ?? 10]));
    this.similarityBias = this.param('similarity_bias', tf.tensor1d([config.initB ?? -5]));
  }

  /**
   * The reference's similarity matrix [speakers j, utterances i, centroids k] of embeddings
   * [speakers, utterances ≥ 2, dim], including w and b.
   */
  similarityMatrix(embeddings: tf.Tensor): tf.Tensor3D {
    const batch = metricBatch(this.name, { embeddings }, 2, this.embeddingDim);
    return tf.tidy(() => {
      const rows = this.similarityRows(batch.embeddings, this.speakerTargets(batch.speakers, batch.utterancesPerSpeaker));
      return rows.reshape([batch.speakers, batch.utterancesPerSpeaker, batch.speakers]) as tf.Tensor3D;
    });
  }

  /** embeddings [speakers, utterances ≥ 2, dim] (L2-normalised); labels are ignored. */
  forward(input: LossInput): LossOutput {
    const batch = metricBatch(this.name, input, 2, this.embeddingDim);
    return tf.tidy(() => {
      const targets = this.speakerTargets(batch.speakers, batch.utterancesPerSpeaker);
      const logits = this.similarityRows(batch.embeddings, targets);
      return { loss: crossEntropy(logits, targets.oneHot), accuracy: top1Accuracy(logits, targets.labels) };
    });
  }

  /** Similarity rows [N·M, N] (speaker-major), the reference's `sim_matrix.reshape(N·M, N)`. */
  protected similarityRows(embeddings: tf.Tensor3D, targets: SpeakerTargets): tf.Tensor2D {
    return rtvcSimilarityRows(embeddings, this.similarityWeight, this.similarityBias, targets);
  }

  /** Constant targets for a batch shape, built once and kept across calls and tidy scopes. */
  protected speakerTargets(speakers: number, utterancesPerSpeaker: number): SpeakerTargets {
    const cached = this.targetsCache;
    if (cached && cached.speakers === speakers && cached.utterancesPerSpeaker === utterancesPerSpeaker) return cached;
    this.disposeTargets();
    const rows = speakers * utterancesPerSpeaker;
    const labelValues = new Int32Array(rows);
    const oneHotValues = new Float32Array(rows * speakers);
    for (let row = 0; row < rows; row++) {
      const speaker = Math.floor(row / utterancesPerSpeaker);
      labelValues[row] = speaker;
      oneHotValues[row * speakers + speaker] = 1;
    }
    this.targetsCache = {
      speakers,
      utterancesPerSpeaker,
      oneHot: tf.keep(tf.tensor2d(oneHotValues, [rows, speakers])),
      otherSpeakers: tf.keep(tf.tensor2d(oneHotValues.map((v) => 1 - v), [rows, speakers])),
      labels: tf.keep(tf.tensor1d(labelValues, 'int32')),
    };
    return this.targetsCache;
  }

  private disposeTargets(): void {
    const cached = this.targetsCache;
    if (!cached) return;
    cached.oneHot.dispose();
    cached.otherSpeakers.dispose();
    cached.labels.dispose();
    this.targetsCache = undefined;
  }

  override dispose(): void {
    this.disposeTargets();
    super.dispose();
  }
}

/**
 * RTVC's batch EER (a fraction in [0, 1]) of a GE2E similarity matrix [speakers, utterances,
 * speakers]: every (utterance, centroid) score, target when the centroid is the utterance's own
 * speaker, through scikit-learn's ROC and Brent's root of 1 − x − tpr(x) (`SpeakerEncoder.loss`).
 * For logging: reads the values back from the backend.
 */
export function ge2eBatchEer(similarity: tf.Tensor): number {
  const [speakers, utterances, centroids] = similarity.shape;
  const scores = similarity.dataSync();
  const labels = new Uint8Array(scores.length);
  for (let j = 0; j < speakers; j++) {
    for (let i = 0; i < utterances; i++) labels[(j * utterances + i) * centroids + j] = 1;
  }
  return interpolatedEer(scores, labels);
}
