/** Loading an encoder from a checkpoint file and embedding audio files (Node). */
import { CheckpointError } from '../errors.js';
import { loadAudio } from '../audio/load-node.js';
import { loadCheckpointFile } from '../io/load-checkpoint-node.js';
import type { ModelCheckpoint } from '../io/checkpoint-layout.js';
import type { SpeakerEncoder } from '../models/encoder.js';
import { MODEL_NAMES, MODEL_REGISTRY, resolveModelName, type ModelName, type ModelSpec } from '../models/registry.js';
import { embedWaveform, type EmbedOptions, type EmbeddingEngine, type EmbeddingResult } from './embed.js';

export interface LoadedEncoder {
  readonly file: string;
  readonly name: ModelName;
  readonly spec: ModelSpec;
  readonly encoder: SpeakerEncoder;
  readonly checkpoint: ModelCheckpoint;
  /** The engine `embedFile` runs (absent: the tfjs encoder itself). */
  readonly engine?: EmbeddingEngine;
}

/** Which runtime runs the network: ONNX Runtime, TensorFlow.js, or ONNX Runtime when it loads. */
export type EngineChoice = 'ort' | 'tfjs' | 'auto';
export const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'ort', 'tfjs'];

export interface LoadEncoderOptions {
  /** Architecture name or alias; detected from the checkpoint when omitted. */
  model?: string;
  /**
   * Inference engine (default 'tfjs'). 'ort' exports the network to ONNX in memory and runs it in
   * onnxruntime-node (an error when that is not installed); 'auto' uses ONNX Runtime when it loads
   * and the architecture embeds audio, tfjs otherwise.
   */
  engine?: EngineChoice;
  /** ONNX Runtime intra-op threads (default: VOXKIT_ORT_THREADS or the available cores). */
  threads?: number;
}

/**
 * Reads a PyTorch (or voxkit) checkpoint, builds the matching network from the hyper-parameters
 * its shapes imply, and loads every weight by name. Strict: a missing, unexpected or mis-shaped key
 * is a CheckpointError listing them.
 */
export async function loadEncoder(file: string, options: LoadEncoderOptions = {}): Promise<LoadedEncoder> {
  const checkpoint = await loadCheckpointFile(file);
  let name: ModelName;
  if (options.model) name = resolveModelName(options.model);
  else if (checkpoint.architecture && (MODEL_NAMES as string[]).includes(checkpoint.architecture)) name = checkpoint.architecture as ModelName;
  else {
    throw new CheckpointError(file, `cannot tell which model these weights belong to (layout ${checkpoint.layout}); pass --model (${MODEL_NAMES.join(', ')})`);
  }
  const spec: ModelSpec = MODEL_REGISTRY[name];
  const hp = checkpoint.architecture === name ? checkpoint.hyperparameters : {};
  const encoder = spec.create(hp, checkpoint.model);
  try {
    encoder.loadStateDict(checkpoint.model, { file });
  } catch (err) {
    encoder.dispose();
    if (err instanceof CheckpointError && checkpoint.architecture && checkpoint.architecture !== name) {
      throw new CheckpointError(file, `${err.message} (the weights look like ${checkpoint.architecture}, not ${name})`, err.details);
    }
    throw err;
  }
  encoder.eval();
  let engine: EmbeddingEngine | undefined;
  try {
    engine = await createEngine(encoder, spec, options);
  } catch (err) {
    encoder.dispose();
    throw err;
  }
  return { file, name, spec, encoder, checkpoint, engine };
}

async function createEngine(encoder: SpeakerEncoder, spec: ModelSpec, options: LoadEncoderOptions): Promise<EmbeddingEngine | undefined> {
  const choice = options.engine ?? 'tfjs';
  if (choice === 'tfjs') return undefined;
  // Loaded lazily: the native library is only mapped when ONNX Runtime is asked for.
  const { OrtEngine, loadOnnxRuntime } = await import('../engine/ort-node.js');
  if (choice === 'auto' && (spec.strategy === 'feature-frames' || !(await loadOnnxRuntime()))) return undefined;
  return OrtEngine.create(encoder, { threads: options.threads });
}

/** Frees a loaded encoder and its engine. */
export function disposeLoadedEncoder(loaded: LoadedEncoder): void {
  loaded.engine?.dispose();
  loaded.encoder.dispose();
}

/** Loads an audio file at the encoder's sample rate and embeds it. */
export async function embedFile(loaded: LoadedEncoder, audioPath: string, options: EmbedOptions = {}): Promise<EmbeddingResult> {
  const audio = await loadAudio(audioPath, { sampleRateHz: loaded.encoder.sampleRateHz });
  return embedWaveform(loaded.engine ?? loaded.encoder, loaded.spec.strategy, audio.samples, { ...options, file: audioPath });
}
