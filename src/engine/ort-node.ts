/**
 * ONNX Runtime (onnxruntime-node) as an inference engine: the encoder is exported to ONNX in memory
 * when it loads (no file is written or cached: export takes tens of milliseconds, far less than
 * the session's own graph optimisation) and runs in a multi-threaded CPU session. Front ends and
 * RTVC's partial-utterance logic stay in TypeScript (the same code as the tfjs path), so both
 * engines see identical network inputs.
 *
 * onnxruntime-node is an optional dependency: `loadOnnxRuntime()` returns undefined when it is
 * missing or its native library cannot load, and `--engine auto` then falls back to tfjs silently.
 */
import { availableParallelism } from 'node:os';
import type * as Ort from 'onnxruntime-node';
import { VoxkitError } from '../errors.js';
import type { EmbeddingEngine } from '../api/embed.js';
import { computeFeatures } from '../features/feature-spec.js';
import type { SpeakerEncoder } from '../models/encoder.js';
import type { MelFrames } from '../models/rtvc-encoder.js';
import { type FrontendLocation, type OnnxExport, exportOnnx } from '../export/onnx/export.js';

export type OrtModule = typeof Ort;

let ortModule: Promise<OrtModule | undefined> | undefined;

/** onnxruntime-node, or undefined when it is not installed or its native binary does not load. */
export function loadOnnxRuntime(): Promise<OrtModule | undefined> {
  ortModule ??= import('onnxruntime-node').then(
    (m) => ((m as unknown as { default?: OrtModule }).default ?? m) as OrtModule,
    () => undefined,
  );
  return ortModule;
}

/** Intra-op threads when none are given: VOXKIT_ORT_THREADS, else every core Node may use. */
export function defaultOrtThreads(): number {
  const env = Number(process.env.VOXKIT_ORT_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(1, availableParallelism());
}

export interface OrtEngineOptions {
  /** Intra-op threads of the session (default `defaultOrtThreads()`). */
  threads?: number;
  /**
   * Where voxceleb log-mel models compute their front end: 'separate' (default: the TypeScript
   * front end, bit-identical features to the tfjs engine) or 'inside' the ONNX graph.
   */
  frontend?: FrontendLocation;
  /** Largest batch per session run (longer batches are split; default 32). */
  maxBatch?: number;
}

/** An encoder's network in an ONNX Runtime session. */
export class OrtEngine implements EmbeddingEngine {
  readonly engine = 'ort';
  readonly architecture: string;
  readonly sampleRateHz: number;
  readonly embeddingDim: number;
  readonly melFrames?: (wave: Float32Array) => MelFrames;
  readonly embedFrames?: (data: Float32Array, shape: [number, number, number]) => Promise<Float32Array>;

  private constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    private readonly encoder: SpeakerEncoder,
    readonly exported: OnnxExport,
    readonly threads: number,
    private readonly maxBatch: number,
  ) {
    this.architecture = encoder.architecture;
    this.sampleRateHz = encoder.sampleRateHz;
    this.embeddingDim = encoder.embeddingDim;
    const partial = encoder as Partial<{ melFrames(wave: Float32Array): MelFrames }>;
    if (exported.inputKind === 'rtvc-mel' && typeof partial.melFrames === 'function') {
      const mel = partial.melFrames.bind(encoder);
      this.melFrames = (wave) => mel(wave);
      this.embedFrames = (data, shape) => this.run(data, shape);
    }
  }

  /**
   * Exports `encoder` (eval mode, current weights) to ONNX and opens a session on it. Throws
   * E_USAGE when onnxruntime-node is not available.
   */
  static async create(encoder: SpeakerEncoder, options: OrtEngineOptions = {}): Promise<OrtEngine> {
    const ort = await loadOnnxRuntime();
    if (!ort) throw new VoxkitError('E_USAGE', 'the ort engine needs onnxruntime-node, which is not installed or cannot load here; use --engine tfjs');
    const threads = options.threads ?? defaultOrtThreads();
    const exported = exportOnnx(encoder, { frontend: hasVoxcelebFrontend(encoder) ? (options.frontend ?? 'separate') : undefined });
    const session = await ort.InferenceSession.create(exported.bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new OrtEngine(ort, session, encoder, exported, threads, options.maxBatch ?? 32);
  }

  async embedWaves(waves: readonly Float32Array[]): Promise<Float32Array[]> {
    const kind = this.exported.inputKind;
    if (kind === 'rtvc-mel' || kind === 'frames') {
      throw new VoxkitError('E_USAGE', `${this.architecture} does not embed waveforms directly (${kind === 'rtvc-mel' ? 'use embedWaveform, which cuts partial utterances' : 'it takes feature frames'})`);
    }
    const out: Float32Array[] = [];
    for (let start = 0; start < waves.length; start += this.maxBatch) {
      const chunk = waves.slice(start, start + this.maxBatch);
      let data: Float32Array;
      let shape: number[];
      if (kind === 'voxceleb-logmel' || kind === 'kaldi-fbank') {
        ({ data, shape } = computeFeatures(this.encoder.featureSpec(), chunk));
      } else {
        ({ data, shape } = computeFeatures({ kind: 'waveform', source: this.architecture, sampleRateHz: this.sampleRateHz }, chunk));
      }
      const flat = await this.run(data, shape);
      for (let i = 0; i < chunk.length; i++) out.push(flat.slice(i * this.embeddingDim, (i + 1) * this.embeddingDim));
    }
    return out;
  }

  /** Runs the session on one input tensor; returns the `embedding` output, row-major. */
  async run(data: Float32Array, shape: readonly number[]): Promise<Float32Array> {
    const input = new this.ort.Tensor('float32', data, shape);
    const results = await this.session.run({ [this.exported.inputName]: input });
    return results[this.exported.outputNames[0]].data as Float32Array;
  }

  dispose(): void {
    void this.session.release();
  }
}

function hasVoxcelebFrontend(encoder: SpeakerEncoder): boolean {
  return ['ResNetSE34L', 'ResNetSE34V2', 'VGGVox'].includes(encoder.architecture);
}
