/**
 * RTVC's utterance embedding (`encoder/inference.py`: `compute_partial_slices`, `embed_utterance`):
 * the waveform is cut into overlapping partial utterances of 160 mel frames (1.6 s), each is
 * embedded, and the utterance embedding is the L2-normalised mean of the partial embeddings.
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError, VoxkitError } from '../errors.js';
import type { MelFrames } from './rtvc-encoder.js';

/** A half-open index range [start, end). */
export type SliceRange = [start: number, end: number];

export interface PartialSliceOptions {
  /** Mel frames per partial utterance (RTVC `partials_n_frames`, 160 = 1.6 s). */
  partialFrames?: number;
  /** Fraction of a partial shared with the next one, in [0, 1) (default 0.5 → step of 80 frames). */
  overlap?: number;
  /**
   * The last partial is kept only if the real (unpadded) samples cover at least this fraction of
   * it, in (0, 1] (default 0.75); a lone partial is always kept.
   */
  minPadCoverage?: number;
  /** Waveform samples per mel frame (the STFT hop: RTVC 10 ms at 16 kHz = 160). */
  samplesPerFrame?: number;
}

export interface PartialSlices {
  /** Sample ranges; the last one may extend past the waveform (zero-pad up to its end). */
  waveSlices: SliceRange[];
  /** Mel frame ranges, one per partial: waveSlices[i] = melSlices[i] × samplesPerFrame. */
  melSlices: SliceRange[];
}

export const DEFAULT_PARTIAL_SLICE_OPTIONS: Readonly<Required<PartialSliceOptions>> = Object.freeze({
  partialFrames: 160,
  overlap: 0.5,
  minPadCoverage: 0.75,
  samplesPerFrame: 160,
});

/** numpy's `np.round`: halves go to the even neighbour. */
function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Where to cut a waveform of `nSamples` samples and its mel frames into partial utterances, with
 * RTVC's exact arithmetic: frames = ⌈(nSamples + 1) / hop⌉, step = max(round(partial·(1 − overlap)), 1),
 * starts 0, step, … below max(1, frames − partial + step + 1), then the last partial is dropped
 * when its coverage (nSamples − start)/(partial·hop) is below `minPadCoverage` and others remain.
 */
export function computePartialSlices(nSamples: number, options: PartialSliceOptions = {}): PartialSlices {
  const { partialFrames, overlap, minPadCoverage, samplesPerFrame } = { ...DEFAULT_PARTIAL_SLICE_OPTIONS, ...options };
  if (!Number.isInteger(nSamples) || nSamples < 0) {
    throw new VoxkitError('E_USAGE', `computePartialSlices: nSamples must be a non-negative integer, got ${nSamples}`);
  }
  if (!Number.isInteger(partialFrames) || partialFrames < 1) {
    throw new VoxkitError('E_USAGE', `computePartialSlices: partialFrames must be a positive integer, got ${partialFrames}`);
  }
  if (!Number.isInteger(samplesPerFrame) || samplesPerFrame < 1) {
    throw new VoxkitError('E_USAGE', `computePartialSlices: samplesPerFrame must be a positive integer, got ${samplesPerFrame}`);
  }
  if (!(overlap >= 0 && overlap < 1)) {
    throw new VoxkitError('E_USAGE', `computePartialSlices: overlap must be in [0, 1), got ${overlap}`);
  }
  if (!(minPadCoverage > 0 && minPadCoverage <= 1)) {
    throw new VoxkitError('E_USAGE', `computePartialSlices: minPadCoverage must be in (0, 1], got ${minPadCoverage}`);
  }

  const nFrames = Math.ceil((nSamples + 1) / samplesPerFrame);
  const frameStep = Math.max(roundHalfToEven(partialFrames * (1 - overlap)), 1);
  const steps = Math.max(1, nFrames - partialFrames + frameStep + 1);
  const waveSlices: SliceRange[] = [];
  const melSlices: SliceRange[] = [];
  for (let start = 0; start < steps; start += frameStep) {
    melSlices.push([start, start + partialFrames]);
    waveSlices.push([start * samplesPerFrame, (start + partialFrames) * samplesPerFrame]);
  }

  const [lastStart, lastEnd] = waveSlices[waveSlices.length - 1];
  const coverage = (nSamples - lastStart) / (lastEnd - lastStart);
  if (coverage < minPadCoverage && melSlices.length > 1) {
    melSlices.pop();
    waveSlices.pop();
  }
  return { waveSlices, melSlices };
}

/** What `embedUtterance` needs from an encoder (RtvcEncoder has it). */
export interface PartialUtteranceEncoder {
  /** Frames [frames, numMels] of one waveform; frame i starts at sample i·samplesPerFrame. */
  melFrames(wave: Float32Array): MelFrames;
  /** Embeddings [batch, dim] from frames [batch, frames, numMels]. */
  forward(features: tf.Tensor): tf.Tensor2D;
}

export interface EmbedUtteranceOptions extends PartialSliceOptions {
  /** false: embed the whole utterance in one pass instead (RTVC `using_partials=False`). Default true. */
  usingPartials?: boolean;
}

export interface UtteranceEmbedding {
  /** The utterance embedding [dim]. */
  embedding: Float32Array;
  /** One embedding [dim] per partial (empty when `usingPartials` is false). */
  partialEmbeddings: Float32Array[];
  /** Sample range of each partial (empty when `usingPartials` is false). */
  waveSlices: SliceRange[];
  /** Mel frame range of each partial (empty when `usingPartials` is false). */
  melSlices: SliceRange[];
}

/**
 * RTVC `embed_utterance` for one preprocessed waveform (16 kHz, after `preprocess_wav`): zero-pads
 * the waveform to the end of the last partial, computes its mel once, embeds all partials in one
 * batch, and returns mean(partials) / ‖mean(partials)‖₂ (no epsilon, float32 like numpy).
 */
export function embedUtterance(
  encoder: PartialUtteranceEncoder,
  wave: Float32Array,
  options: EmbedUtteranceOptions = {},
): UtteranceEmbedding {
  const plan = planPartialBatch(encoder, wave, options);
  return combinePartials(plan, embedFrameBatch(encoder, plan.data, plan.shape));
}

/** What `embedUtteranceAsync` needs: mel frames and an (asynchronous) batch embedder, e.g. an ONNX Runtime session. */
export interface AsyncPartialUtteranceEncoder {
  melFrames(wave: Float32Array): MelFrames;
  /** Embeddings [batch · dim] (row-major) of frames [batch, frames, numMels]. */
  embedFrames(data: Float32Array, shape: [number, number, number]): Promise<Float32Array>;
}

/** `embedUtterance` with an asynchronous embedder: the same slicing, batch and averaging. */
export async function embedUtteranceAsync(
  encoder: AsyncPartialUtteranceEncoder,
  wave: Float32Array,
  options: EmbedUtteranceOptions = {},
): Promise<UtteranceEmbedding> {
  const plan = planPartialBatch(encoder, wave, options);
  return combinePartials(plan, await encoder.embedFrames(plan.data, plan.shape));
}

/** The frame batch `embed_utterance` feeds the network, and how to read its output back. */
interface PartialBatch {
  data: Float32Array;
  shape: [number, number, number];
  /** Absent when embedding the whole utterance in one pass. */
  slices?: PartialSlices;
}

function planPartialBatch(encoder: { melFrames(wave: Float32Array): MelFrames }, wave: Float32Array, options: EmbedUtteranceOptions): PartialBatch {
  if (options.usingPartials === false) {
    const mel = encoder.melFrames(wave);
    return { data: mel.data, shape: [1, mel.frames, mel.numMels] };
  }
  const slices = computePartialSlices(wave.length, options);
  const { waveSlices, melSlices } = slices;
  const paddedLength = waveSlices[waveSlices.length - 1][1];
  let padded = wave;
  if (paddedLength > wave.length) {
    padded = new Float32Array(paddedLength);
    padded.set(wave);
  }
  const mel = encoder.melFrames(padded);
  const partialFrames = melSlices[0][1] - melSlices[0][0];
  const lastMelEnd = melSlices[melSlices.length - 1][1];
  if (lastMelEnd > mel.frames) {
    throw new ShapeError('embedUtterance mel', `at least ${lastMelEnd} frames for the partials`, [mel.frames, mel.numMels]);
  }
  const rowSize = partialFrames * mel.numMels;
  const batch = new Float32Array(melSlices.length * rowSize);
  melSlices.forEach(([start], i) => batch.set(mel.data.subarray(start * mel.numMels, start * mel.numMels + rowSize), i * rowSize));
  return { data: batch, shape: [melSlices.length, partialFrames, mel.numMels], slices };
}

function combinePartials(plan: PartialBatch, flat: Float32Array): UtteranceEmbedding {
  if (!plan.slices) return { embedding: flat.slice(), partialEmbeddings: [], waveSlices: [], melSlices: [] };
  const { waveSlices, melSlices } = plan.slices;
  const dim = flat.length / melSlices.length;
  const partialEmbeddings = melSlices.map((_, i) => flat.slice(i * dim, (i + 1) * dim));
  return { embedding: normalizedMean(partialEmbeddings), partialEmbeddings, waveSlices, melSlices };
}

function embedFrameBatch(encoder: PartialUtteranceEncoder, data: Float32Array, shape: [number, number, number]): Float32Array {
  const frames = tf.tensor3d(data, shape);
  try {
    const embeddings = encoder.forward(frames);
    try {
      return embeddings.dataSync() as Float32Array;
    } finally {
      embeddings.dispose();
    }
  } finally {
    frames.dispose();
  }
}

/** numpy float32 semantics: mean over rows, then divide by the vector's 2-norm. */
function normalizedMean(rows: readonly Float32Array[]): Float32Array {
  const dim = rows[0].length;
  const mean = new Float32Array(dim);
  for (const row of rows) for (let d = 0; d < dim; d++) mean[d] = Math.fround(mean[d] + row[d]);
  let sumSquares = 0;
  for (let d = 0; d < dim; d++) {
    mean[d] = Math.fround(mean[d] / rows.length);
    sumSquares += mean[d] * mean[d];
  }
  const norm = Math.fround(Math.sqrt(sumSquares));
  const out = new Float32Array(dim);
  for (let d = 0; d < dim; d++) out[d] = mean[d] / norm;
  return out;
}
