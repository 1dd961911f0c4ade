/**
 * The similarity logits of the GE2E losses, [speakers·utterances, speakers] rows (speaker-major)
 * from embeddings [speakers, utterances ≥ 2, dim] and the learned scale w and bias b: each
 * utterance against every speaker's centroid, its own speaker's without the utterance itself.
 * RTVC's (rtvc-ge2e.ts) and voxceleb_trainer's (ge2e.ts) differ only in how vectors are normalised
 * and in a floor, so both are one fused kernel (forward and gradient) where the backend has it,
 * with those as attributes; elsewhere the composed tfjs ops, which autodiff differentiates.
 */
import * as tf from '@tensorflow/tfjs';
import { GE2E_SIMILARITY, GE2E_SIMILARITY_GRAD, type Ge2eSimilarityAttrs, hasFusedKernel } from '../core/fused-kernels.js';
import { COSINE_EPS, l2Normalize } from './normalize.js';

/** Added to centroid norms before dividing (RTVC's epsilon). */
const CENTROID_NORM_EPS = 1e-5;
/** voxceleb_trainer's floor on similarities. */
const MIN_SIMILARITY = 1e-6;

const RTVC_ATTRS: Ge2eSimilarityAttrs = { centroidEps: CENTROID_NORM_EPS, centroidEpsAdded: true, utteranceEps: 0, minSimilarity: -Infinity };
const COSINE_ATTRS: Ge2eSimilarityAttrs = { centroidEps: COSINE_EPS, centroidEpsAdded: false, utteranceEps: COSINE_EPS, minSimilarity: MIN_SIMILARITY };

/** Constant float32 [speakers·utterances, speakers] masks of a batch shape: row j·M + i has its 1 at column j. */
export interface SpeakerMasks {
  oneHot: tf.Tensor2D;
  /** 1 − oneHot. */
  otherSpeakers: tf.Tensor2D;
}

let gradientRegistered = false;

function registerGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: GE2E_SIMILARITY,
    inputsToSave: ['embeddings', 'weight', 'bias'],
    outputsToSave: [false, true],
    gradFunc: (dy, saved, attrs) => {
      const [dLogits, dSimilarity] = dy as Array<tf.Tensor | null | undefined>;
      // similarity never reaches the caller (the op frees it): its dy is the engine's zeros, if any.
      dSimilarity?.dispose();
      const [embeddings, weight, bias, similarity] = saved;
      const [dEmbeddings, dWeight, dBias] = tf.engine().runKernel(
        GE2E_SIMILARITY_GRAD,
        { dLogits: dLogits!, embeddings: embeddings!, weight: weight!, bias: bias!, similarity: similarity! },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
      return { embeddings: () => dEmbeddings!, weight: () => dWeight!, bias: () => dBias! };
    },
  });
}

function fusable(embeddings: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor): boolean {
  return hasFusedKernel(GE2E_SIMILARITY) && [embeddings, weight, bias].every((t) => t.dtype === 'float32') && weight.size === 1 && bias.size === 1;
}

function fused(embeddings: tf.Tensor3D, weight: tf.Tensor, bias: tf.Tensor, attrs: Ge2eSimilarityAttrs): tf.Tensor2D {
  registerGradient();
  return tf.tidy(() => {
    const [logits] = tf.engine().runKernel(GE2E_SIMILARITY, { embeddings, weight, bias }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    // The tape keeps its own reference to the similarity output; tidy frees the original.
    return logits as tf.Tensor2D;
  });
}

/**
 * RTVC's rows (`SpeakerEncoder.similarity_matrix` reshaped to [N·M, N]): dot products of the
 * utterances as given with the inclusive centroids c / (‖c‖ + 1e-5), with the exclusive one for the
 * own speaker, then × w + b.
 */
export function rtvcSimilarityRows(embeddings: tf.Tensor3D, weight: tf.Tensor, bias: tf.Tensor, targets: SpeakerMasks): tf.Tensor2D {
  if (fusable(embeddings, weight, bias)) return fused(embeddings, weight, bias, RTVC_ATTRS);
  return tf.tidy(() => composedRtvc(embeddings, weight, bias, targets));
}

/**
 * voxceleb_trainer's ge2e rows: cosine similarity (eps 1e-8) of each utterance to every centroid,
 * to the exclusive one for its own speaker, clamped at 1e-6 from below, then × w + b. `targets`: the
 * one-hot rows of {@link SpeakerMasks}.
 */
export function cosineSimilarityRows(embeddings: tf.Tensor3D, weight: tf.Tensor, bias: tf.Tensor, targets: tf.Tensor2D): tf.Tensor2D {
  if (fusable(embeddings, weight, bias)) return fused(embeddings, weight, bias, COSINE_ATTRS);
  return tf.tidy(() => composedCosine(embeddings, weight, bias, targets));
}

/** `x / (‖x‖₂ + eps)` along the last axis. */
function normalizeWithEps<T extends tf.Tensor>(x: T): T {
  return tf.div(x, tf.add(tf.sqrt(tf.sum(tf.square(x), -1, true)), CENTROID_NORM_EPS)) as T;
}

function composedRtvc(embeddings: tf.Tensor3D, weight: tf.Tensor, bias: tf.Tensor, targets: SpeakerMasks): tf.Tensor2D {
  const [speakers, utterancesPerSpeaker, dim] = embeddings.shape;
  const rows = speakers * utterancesPerSpeaker;
  const speakerSums = tf.sum(embeddings, 1, true);
  const inclusive = normalizeWithEps(tf.mean(embeddings, 1));
  const exclusive = normalizeWithEps(tf.div(tf.sub(speakerSums, embeddings), utterancesPerSpeaker - 1));
  // Explicit transpose: matMul's transpose flags leave the fast path on the wasm backend.
  const toCentroids = tf.matMul(embeddings.reshape([rows, dim]), inclusive.transpose());
  const toOwnCentroid = tf.sum(tf.mul(embeddings, exclusive), 2).reshape([rows, 1]);
  // Exact select by arithmetic (x·1 + 0 or 0 + y·1), differentiable and without a gather.
  const similarity = tf.add(tf.mul(toCentroids, targets.otherSpeakers), tf.mul(targets.oneHot, toOwnCentroid));
  return tf.add(tf.mul(similarity, weight), bias) as tf.Tensor2D;
}

function composedCosine(embeddings: tf.Tensor3D, weight: tf.Tensor, bias: tf.Tensor, targets: tf.Tensor2D): tf.Tensor2D {
  const [speakers, perSpeaker, dim] = embeddings.shape;
  const rows = speakers * perSpeaker;
  const utterances = l2Normalize(embeddings, COSINE_EPS);
  const speakerSums = tf.sum(embeddings, 1, true);
  const centroids = l2Normalize(tf.div(speakerSums, perSpeaker).reshape([speakers, dim]), COSINE_EPS);
  const exclusiveCentroids = l2Normalize(tf.div(tf.sub(speakerSums, embeddings), perSpeaker - 1), COSINE_EPS);
  // Rows in the reference's view(-1, N) order: speaker-major, utterance-minor.
  const allCentroids = tf.matMul(utterances.reshape([rows, dim]), centroids.transpose());
  const ownCentroid = tf.sum(tf.mul(utterances, exclusiveCentroids), 2).reshape([rows, 1]);
  // Exact select by arithmetic (x·1 + 0, 0 + d·1), so no broadcasting `where` is needed.
  const similarity = tf.add(tf.mul(allCentroids, tf.sub(1, targets)), tf.mul(targets, ownCentroid));
  return tf.add(tf.mul(tf.maximum(similarity, MIN_SIMILARITY), weight), bias) as tf.Tensor2D;
}
