/**
 * From a waveform to an embedding, the way each reference project does it. Browser-safe: no Node
 * APIs (file loading is in load-encoder-node.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { VoxkitError } from '../errors.js';
import { l2Normalize } from '../core/vectors.js';
import { evalCrops } from '../audio/eval-crops.js';
import { preprocessWav } from '../audio/rtvc-preprocess.js';
import type { SpeakerEncoder } from '../models/encoder.js';
import type { EmbeddingStrategy } from '../models/registry.js';
import { embedUtteranceAsync, type PartialUtteranceEncoder, type SliceRange } from '../models/partial-utterances.js';
import type { MelFrames } from '../models/rtvc-encoder.js';

export interface EmbedOptions {
  /**
   * voxceleb_trainer evaluation crops: this many evenly spaced crops of `cropFrames` frames
   * (default: the whole utterance in one pass).
   */
  crops?: number;
  /** Frames per crop (cropFrames·160 + 240 samples); voxceleb_trainer evaluates with 400. */
  cropFrames?: number;
  /** RTVC: embed the whole utterance in one pass instead of 1.6 s partials. */
  usingPartials?: boolean;
  /** Used in error messages. */
  file?: string;
}

export interface EmbeddingResult {
  /**
   * The recording's embedding. Whole-utterance voxceleb models: the network output as is. With
   * crops: the L2-normalised mean of the L2-normalised crop embeddings. RTVC: `embed_utterance`.
   */
  embedding: Float32Array;
  /** Raw network output per crop (voxceleb models with `crops`). */
  crops?: Float32Array[];
  /** RTVC: embedding and sample range of each 1.6 s partial. */
  partials?: { embeddings: Float32Array[]; waveSlices: SliceRange[] };
}

/** Shortest input that every built-in front-end can frame (one 25 ms window). */
const MIN_SAMPLES = 400;

export { l2Normalize, cosineSimilarity } from '../core/vectors.js';

/**
 * An inference engine for an encoder's network: what `embedWaveform` needs, implemented by the
 * tfjs encoders (`tfjsEngine`) and by ONNX Runtime sessions (src/engine/ort-node.ts). Front ends
 * (and RTVC's partial-utterance logic) stay in TypeScript, shared by every engine.
 */
export interface EmbeddingEngine {
  /** Which runtime runs the network ('tfjs', 'ort'). */
  readonly engine: string;
  readonly architecture: string;
  readonly sampleRateHz: number;
  readonly embeddingDim: number;
  /** Embeddings, one row per waveform, of equal-length waveforms (voxceleb models, RawNet3). */
  embedWaves(waves: readonly Float32Array[]): Promise<Float32Array[]>;
  /** RTVC: mel frames of one waveform. */
  melFrames?(wave: Float32Array): MelFrames;
  /** RTVC: embeddings [batch · dim] (row-major) of frames [batch, frames, numMels]. */
  embedFrames?(data: Float32Array, shape: [number, number, number]): Promise<Float32Array>;
  /** Frees the engine's resources (sessions; a tfjs engine leaves its encoder to its owner). */
  dispose(): void;
}

export function isEmbeddingEngine(x: SpeakerEncoder | EmbeddingEngine): x is EmbeddingEngine {
  return typeof (x as Partial<EmbeddingEngine>).embedWaves === 'function';
}

/** A tfjs encoder as an EmbeddingEngine (the encoder stays owned by the caller). */
export function tfjsEngine(encoder: SpeakerEncoder): EmbeddingEngine {
  const engine: EmbeddingEngine = {
    engine: 'tfjs',
    architecture: encoder.architecture,
    sampleRateHz: encoder.sampleRateHz,
    embeddingDim: encoder.embeddingDim,
    embedWaves: async (waves) => {
      const out = encoder.embed(waves);
      try {
        return rows(out);
      } finally {
        out.dispose();
      }
    },
    dispose: () => undefined,
  };
  if (isPartialUtteranceEncoder(encoder)) {
    engine.melFrames = (wave) => encoder.melFrames(wave);
    engine.embedFrames = async (data, shape) => {
      const frames = tf.tensor3d(data, shape);
      try {
        const out = encoder.forward(frames);
        try {
          return (out.dataSync() as Float32Array).slice();
        } finally {
          out.dispose();
        }
      } finally {
        frames.dispose();
      }
    };
  }
  return engine;
}

function isPartialUtteranceEncoder(e: SpeakerEncoder): e is SpeakerEncoder & PartialUtteranceEncoder {
  return typeof (e as Partial<PartialUtteranceEncoder>).melFrames === 'function';
}

function rows(t: tf.Tensor2D): Float32Array[] {
  const [n, d] = t.shape;
  const flat = t.dataSync() as Float32Array;
  return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
}

/**
 * Embeds one mono waveform at `encoder.sampleRateHz`.
 * @param encoder a tfjs encoder or any EmbeddingEngine (e.g. an ONNX Runtime session)
 * @param strategy how the registry says this encoder turns recordings into embeddings
 */
export async function embedWaveform(
  encoder: SpeakerEncoder | EmbeddingEngine,
  strategy: EmbeddingStrategy,
  wave: Float32Array,
  options: EmbedOptions = {},
): Promise<EmbeddingResult> {
  return embedWithEngine(isEmbeddingEngine(encoder) ? encoder : tfjsEngine(encoder), strategy, wave, options);
}

/** `embedWaveform` through an EmbeddingEngine: the same checks, crops and partials. */
async function embedWithEngine(engine: EmbeddingEngine, strategy: EmbeddingStrategy, wave: Float32Array, options: EmbedOptions): Promise<EmbeddingResult> {
  const { file } = options;
  if (strategy === 'feature-frames') {
    throw new VoxkitError(
      'E_USAGE',
      `${engine.architecture} takes precomputed feature frames, not audio (use its forward() on [batch, frames, features] from the library)`,
      { file },
    );
  }
  if (strategy === 'rtvc-partials') {
    const wav = await preprocessWav(wave, engine.sampleRateHz);
    if (wav.length === 0) throw new VoxkitError('E_DATA', 'no speech found (the whole recording was trimmed as silence)', { file });
    const { melFrames, embedFrames } = engine;
    if (!melFrames || !embedFrames) {
      throw new VoxkitError('E_USAGE', `${engine.architecture} cannot embed partial utterances (it has no mel front-end)`, { file });
    }
    const result = await embedUtteranceAsync({ melFrames, embedFrames }, wav, { usingPartials: options.usingPartials });
    return {
      embedding: result.embedding,
      partials: result.partialEmbeddings.length ? { embeddings: result.partialEmbeddings, waveSlices: result.waveSlices } : undefined,
    };
  }
  if (wave.length < MIN_SAMPLES) {
    throw new VoxkitError('E_DATA', `too short to embed (${wave.length} samples; at least ${MIN_SAMPLES} needed)`, { file });
  }
  if (options.crops !== undefined && options.crops > 0) {
    const crops = evalCrops(wave, { numCrops: options.crops, cropFrames: options.cropFrames ?? 400 });
    const cropEmbeddings = await engine.embedWaves(crops);
    const dim = cropEmbeddings[0].length;
    const mean = new Float32Array(dim);
    for (const c of cropEmbeddings) {
      const n = l2Normalize(c);
      for (let i = 0; i < dim; i++) mean[i] += n[i] / cropEmbeddings.length;
    }
    return { embedding: l2Normalize(mean), crops: cropEmbeddings };
  }
  return { embedding: (await engine.embedWaves([wave]))[0] };
}
