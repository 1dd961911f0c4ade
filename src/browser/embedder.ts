/**
 * Speaker embeddings in the browser: an ONNX model exported by voxkit (`voxkit export`, or served
 * by `voxkit serve`) run by onnxruntime-web on its wasm backend. No Node APIs, no TensorFlow.js.
 *
 * Everything needed to use the model is read from the file itself (metadata_props written by the
 * exporter): the sample rate, the embedding strategy, and the front end. A `separate` export takes
 * voxceleb log-mel features, computed here by the same TypeScript front end the Node engines use
 * (`computeFeatures`), from the window and filterbank buffers the file carries; an `inside` export
 * takes the waveform. The result is the network's whole-utterance output, L2-normalised — the
 * same embedding `embedFile` gives in Node, up to float32 rounding.
 */
import * as ort from 'onnxruntime-web/wasm';
import { VoxkitError } from '../errors.js';
import { cosineSimilarity, l2Normalize } from '../core/vectors.js';
import { decodeModelSummary } from '../export/onnx/graph.js';
import { computeFeatures, type VoxcelebLogMelSpec } from '../features/feature-spec.js';
import { decodeWav, isWavHeader, toMono } from '../audio/wav.js';

export interface BrowserEmbedderOptions {
  /**
   * Folder URL holding onnxruntime-web's `ort-wasm-simd-threaded.{mjs,wasm}` (voxkit serve: `/ort/`).
   * Default: onnxruntime-web's own choice (next to the script).
   */
  wasmPaths?: string;
  /**
   * Wasm threads. Default: 1 unless the page is cross-origin isolated (multi-threaded wasm needs
   * SharedArrayBuffer, which browsers only grant to isolated pages).
   */
  numThreads?: number;
}

/** What the model file says about itself. */
export interface BrowserModelInfo {
  architecture: string;
  sampleRateHz: number;
  embeddingDim: number;
  /** 'inside': the graph takes waveforms; 'separate': it takes features computed here. */
  frontendLocation: 'inside' | 'separate';
  inputName: string;
  /** All metadata_props of the file. */
  metadata: Record<string, string>;
}

/** A decoded recording, mono at the model's rate. */
export interface BrowserAudio {
  samples: Float32Array;
  sampleRateHz: number;
  durationSec: number;
}

/** Shortest input every front end can frame (one 25 ms window at 16 kHz), as in embedWaveform. */
const MIN_SAMPLES = 400;

function fromBase64F32(text: string, what: string): Float32Array {
  const binary = atob(text);
  if (binary.length % 4 !== 0) throw new VoxkitError('E_CHECKPOINT', `model metadata: ${what} is not a float32 buffer`);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

function metadataNumber(metadata: Record<string, string>, key: string): number {
  const value = Number(metadata[key]);
  if (!Number.isFinite(value) || value <= 0) throw new VoxkitError('E_CHECKPOINT', `model metadata: "${key}" missing or invalid (not a voxkit ONNX export?)`);
  return value;
}

/** The voxceleb log-mel spec a `separate` export describes in its "frontend" metadata. */
export function frontendSpecFromMetadata(metadata: Record<string, string>): VoxcelebLogMelSpec {
  let settings: Record<string, unknown>;
  try {
    settings = JSON.parse(metadata.frontend ?? '') as Record<string, unknown>;
  } catch {
    throw new VoxkitError('E_CHECKPOINT', 'model metadata: "frontend" is not JSON');
  }
  if (settings.kind !== 'voxceleb-logmel') {
    throw new VoxkitError('E_CHECKPOINT', `model metadata: front end "${String(settings.kind)}" cannot be computed in the browser (only voxceleb-logmel)`);
  }
  if (typeof settings.window_f32_base64 !== 'string' || typeof settings.mel_filterbank_f32_base64 !== 'string') {
    throw new VoxkitError('E_CHECKPOINT', 'model metadata: the separate front end lacks its window/filterbank buffers');
  }
  const preEmphasis = settings.pre_emphasis;
  return {
    kind: 'voxceleb-logmel',
    source: metadata.architecture ?? 'model',
    sampleRateHz: Number(settings.sample_rate),
    numMels: Number(settings.n_mels),
    window: fromBase64F32(settings.window_f32_base64, 'window'),
    melFilterbank: fromBase64F32(settings.mel_filterbank_f32_base64, 'mel filterbank'),
    ...(typeof preEmphasis === 'number' ? { preEmphasis } : {}),
    logInput: settings.log === true,
  };
}

/**
 * Decodes audio bytes to mono at `sampleRateHz`. WAV goes through voxkit's own decoder and
 * libsamplerate (the same samples as `loadAudio` in Node); anything else through the browser's
 * `decodeAudioData`, which also resamples.
 */
export async function decodeAudioBytes(data: ArrayBuffer, sampleRateHz: number, name = 'audio'): Promise<BrowserAudio> {
  const bytes = new Uint8Array(data);
  let samples: Float32Array;
  if (isWavHeader(bytes)) {
    const decoded = decodeWav(bytes, name);
    samples = toMono(decoded.channels);
    if (decoded.sampleRateHz !== sampleRateHz) {
      // libsamplerate is 2 MB of JavaScript: a separate chunk, fetched only when a WAV needs it.
      const { resample } = await import('../audio/resample.js');
      samples = await resample(samples, decoded.sampleRateHz, sampleRateHz);
    }
  } else {
    if (typeof OfflineAudioContext === 'undefined') throw new VoxkitError('E_AUDIO_FORMAT', 'only WAV can be decoded here (no Web Audio)', { file: name });
    const context = new OfflineAudioContext(1, 1, sampleRateHz);
    let buffer: AudioBuffer;
    try {
      // decodeAudioData detaches its argument: give it a copy.
      buffer = await context.decodeAudioData(data.slice(0));
    } catch (cause) {
      throw new VoxkitError('E_AUDIO_FORMAT', `the browser cannot decode this audio (${(cause as Error).message ?? cause})`, { file: name, cause });
    }
    const channels = Array.from({ length: buffer.numberOfChannels }, (_, c) => buffer.getChannelData(c));
    samples = toMono(channels);
  }
  return { samples, sampleRateHz, durationSec: samples.length / sampleRateHz };
}

/** An exported voxkit encoder in an onnxruntime-web session. */
export class BrowserEmbedder {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly info: BrowserModelInfo,
    private readonly frontend: VoxcelebLogMelSpec | undefined,
  ) {}

  /** Loads a model from a URL or from its bytes. */
  static async load(model: string | URL | ArrayBuffer | Uint8Array, options: BrowserEmbedderOptions = {}): Promise<BrowserEmbedder> {
    let bytes: Uint8Array;
    if (typeof model === 'string' || model instanceof URL) {
      const response = await fetch(model);
      if (!response.ok) throw new VoxkitError('E_IO', `model download failed: HTTP ${response.status}`, { file: String(model) });
      bytes = new Uint8Array(await response.arrayBuffer());
    } else {
      bytes = model instanceof Uint8Array ? model : new Uint8Array(model);
    }
    const summary = decodeModelSummary(bytes);
    const { metadata } = summary;
    const strategy = metadata.embedding_strategy;
    if (strategy !== 'utterance') {
      throw new VoxkitError('E_CHECKPOINT', `${metadata.architecture ?? 'this model'} embeds with "${strategy}", which the browser build does not implement (whole-utterance models only)`);
    }
    const location = metadata.frontend_location === 'separate' ? 'separate' : 'inside';
    const inputName = summary.inputs[0]?.name ?? '';
    const info: BrowserModelInfo = {
      architecture: metadata.architecture ?? 'unknown',
      sampleRateHz: metadataNumber(metadata, 'sample_rate'),
      embeddingDim: metadataNumber(metadata, 'embedding_dim'),
      frontendLocation: location,
      inputName,
      metadata,
    };
    const frontend = location === 'separate' ? frontendSpecFromMetadata(metadata) : undefined;

    if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
    const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
    ort.env.wasm.numThreads = options.numThreads ?? (isolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1);
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    return new BrowserEmbedder(session, info, frontend);
  }

  /** Decodes audio bytes at the model's rate. */
  decode(data: ArrayBuffer, name?: string): Promise<BrowserAudio> {
    return decodeAudioBytes(data, this.info.sampleRateHz, name);
  }

  /** The L2-normalised embedding of a mono waveform at the model's rate. */
  async embedWaveform(wave: Float32Array): Promise<Float32Array> {
    if (wave.length < MIN_SAMPLES) throw new VoxkitError('E_DATA', `too short to embed (${wave.length} samples; at least ${MIN_SAMPLES} needed)`);
    let input: ort.Tensor;
    if (this.frontend) {
      const { data, shape } = computeFeatures(this.frontend, [wave]);
      input = new ort.Tensor('float32', data, shape);
    } else {
      input = new ort.Tensor('float32', wave, [1, wave.length]);
    }
    const outputs = await this.session.run({ [this.info.inputName]: input });
    const output = outputs.embedding ?? outputs[this.session.outputNames[0]];
    const embedding = l2Normalize(output.data as Float32Array);
    for (const tensor of Object.values(outputs)) tensor.dispose();
    return embedding;
  }

  /** Decodes and embeds audio bytes (WAV, or whatever the browser decodes). */
  async embedAudio(data: ArrayBuffer, name?: string): Promise<{ embedding: Float32Array; audio: BrowserAudio }> {
    const audio = await this.decode(data, name);
    return { embedding: await this.embedWaveform(audio.samples), audio };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Cosine similarity of two embeddings (−1 … 1). */
export const cosineScore = cosineSimilarity;
