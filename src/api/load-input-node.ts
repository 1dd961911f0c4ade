/**
 * One function from a file to the network input: `loadInput(path, model)` returns the tensor the
 * encoder's `forward()` takes for that file — the same one `embedFile` feeds it.
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { loadAudio } from '../audio/load-node.js';
import { evalCrops } from '../audio/eval-crops.js';
import { preprocessWav } from '../audio/rtvc-preprocess.js';
import { VoxkitError } from '../errors.js';
import { decodeNpyFrames } from '../data/npy-frames.js';
import type { SpeakerEncoder } from '../models/encoder.js';
import type { EmbeddingStrategy } from '../models/registry.js';
import { computePartialSlices, type PartialUtteranceEncoder } from '../models/partial-utterances.js';
import type { LoadedEncoder } from './load-encoder-node.js';

export interface LoadInputOptions {
  /** voxceleb models: this many evenly spaced evaluation crops (as `embedFile` with `crops`). */
  crops?: number;
  /** Frames per crop; default 400 (voxceleb_trainer's evaluation length). */
  cropFrames?: number;
  /** RTVC: the whole utterance's frames [1, frames, 40] instead of its 1.6 s partials. */
  usingPartials?: boolean;
  /** ffmpeg for non-WAV audio. */
  ffmpegPath?: string;
}

/** Shortest input every built-in front end can frame (as in embedWaveform). */
const MIN_SAMPLES = 400;

function strategyOf(encoder: SpeakerEncoder): EmbeddingStrategy {
  const kind = encoder.featureSpec().kind;
  return kind === 'rtvc-mel' ? 'rtvc-partials' : kind === 'frames' ? 'feature-frames' : 'utterance';
}

function isPartialUtteranceEncoder(e: SpeakerEncoder): e is SpeakerEncoder & PartialUtteranceEncoder {
  return typeof (e as Partial<PartialUtteranceEncoder>).melFrames === 'function';
}

/**
 * The network input for `path`, exactly what `embedFile(model, path, options)` gives `forward()`:
 * - voxceleb_trainer models (ResNetSE34L/V2, VGGVox): log-mel features [1, numMels, frames] of
 *   the whole file at 16 kHz, or [crops, numMels, cropFrames] with `crops`;
 * - RawNet3 (waveform front end): the samples [1, samples] (or [crops, samples]);
 * - RTVC: the file after `preprocess_wav` (volume, silence trim), as mel frames of its 1.6 s
 *   partials [partials, 160, 40] (the embedding is the L2-normalised mean of the rows `forward`
 *   returns), or [1, frames, 40] with `usingPartials: false`;
 * - singer encoder: a `.npy` file of feature frames, [1, frames, numFeats].
 * The caller disposes the tensor.
 */
export async function loadInput(path: string, model: LoadedEncoder | SpeakerEncoder, options: LoadInputOptions = {}): Promise<tf.Tensor> {
  const loaded = 'encoder' in model && 'checkpoint' in model ? model : undefined;
  const encoder: SpeakerEncoder = loaded ? loaded.encoder : (model as SpeakerEncoder);
  const strategy = loaded ? loaded.spec.strategy : strategyOf(encoder);

  if (strategy === 'feature-frames') {
    const spec = encoder.featureSpec();
    const bytes = await readFile(path).catch((cause: unknown) => {
      throw new VoxkitError('E_IO', `${path}: cannot read it (${(cause as NodeJS.ErrnoException).code ?? cause})`, { file: path, cause });
    });
    const frames = decodeNpyFrames(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
    if (spec.kind === 'frames' && frames.features !== spec.numFeats) {
      throw new VoxkitError('E_DATA', `${path}: ${frames.features} features per frame, ${encoder.architecture} takes ${spec.numFeats}`, { file: path });
    }
    return tf.tensor3d(frames.data, [1, frames.frames, frames.features]);
  }

  const audio = await loadAudio(path, { sampleRateHz: encoder.sampleRateHz, ffmpegPath: options.ffmpegPath });
  if (strategy === 'rtvc-partials') {
    if (!isPartialUtteranceEncoder(encoder)) {
      throw new VoxkitError('E_USAGE', `${encoder.architecture} cannot cut partial utterances (it has no mel front end)`, { file: path });
    }
    const wav = await preprocessWav(audio.samples, encoder.sampleRateHz);
    if (wav.length === 0) throw new VoxkitError('E_DATA', `${path}: no speech found (the whole recording was trimmed as silence)`, { file: path });
    if (options.usingPartials === false) {
      const mel = encoder.melFrames(wav);
      return tf.tensor3d(mel.data, [1, mel.frames, mel.numMels]);
    }
    // embedUtterance's cut: zero-pad to the end of the last partial, one mel, windows of it.
    const { waveSlices, melSlices } = computePartialSlices(wav.length);
    const paddedLength = waveSlices[waveSlices.length - 1][1];
    let padded = wav;
    if (paddedLength > wav.length) {
      padded = new Float32Array(paddedLength);
      padded.set(wav);
    }
    const mel = encoder.melFrames(padded);
    const partialFrames = melSlices[0][1] - melSlices[0][0];
    const rowSize = partialFrames * mel.numMels;
    const data = new Float32Array(melSlices.length * rowSize);
    melSlices.forEach(([start], i) => data.set(mel.data.subarray(start * mel.numMels, start * mel.numMels + rowSize), i * rowSize));
    return tf.tensor3d(data, [melSlices.length, partialFrames, mel.numMels]);
  }

  if (audio.samples.length < MIN_SAMPLES) {
    throw new VoxkitError('E_DATA', `${path}: too short to embed (${audio.samples.length} samples; at least ${MIN_SAMPLES} needed)`, { file: path });
  }
  if (options.crops !== undefined && options.crops > 0) {
    return encoder.features(evalCrops(audio.samples, { numCrops: options.crops, cropFrames: options.cropFrames ?? 400 }));
  }
  return encoder.features([audio.samples]);
}
