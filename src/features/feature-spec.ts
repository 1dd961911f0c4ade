/**
 * Serialisable descriptions of the encoders' non-trainable front ends. A `FeatureSpec` is plain
 * data (numbers, strings, Float32Arrays), so it survives `structuredClone` / `postMessage`: a worker
 * thread given an encoder's spec computes exactly the features `encoder.features(waves)` computes
 * on the main thread, without TensorFlow.js. Encoders build their `features()` on `computeFeatures`,
 * so there is one code path.
 */
import { ShapeError, VoxkitError } from '../errors.js';
import { type PadMode } from './framing.js';
import { type KaldiFbankOptions, kaldiFbank } from './kaldi-fbank.js';
import { RTVC_MEL, rtvcMel } from './rtvc-mel.js';
import { type VoxcelebFrontend, VOXCELEB_STFT, prepareVoxcelebFrontend, voxcelebLogMelBatch } from './voxceleb-logmel.js';

/**
 * voxceleb_trainer log-mel (ResNetSE34L, ResNetSE34V2, VGGVox): the model's own window and
 * filterbank buffers, so a checkpoint's values travel with the spec.
 */
export interface VoxcelebLogMelSpec {
  readonly kind: 'voxceleb-logmel';
  /** Who the spec belongs to (used in error messages), e.g. "ResNetSE34L". */
  readonly source: string;
  readonly sampleRateHz: number;
  readonly numMels: number;
  /** [400] analysis window (the `torchfb…spectrogram.window` buffer). */
  readonly window: Float32Array;
  /** [257 · numMels] row-major [bin, mel] (the `torchfb…mel_scale.fb` buffer). */
  readonly melFilterbank: Float32Array;
  /** Pre-emphasis coefficient (ResNetSE34V2); absent = none. */
  readonly preEmphasis?: number;
  readonly logInput: boolean;
}

/** The RTVC encoder's linear-power librosa mel, [frames, 40] per waveform. */
export interface RtvcMelSpec {
  readonly kind: 'rtvc-mel';
  readonly source: string;
  readonly sampleRateHz: number;
  /** Bands the model expects; only the RTVC front end's 40 can be computed. */
  readonly numMels: number;
  readonly padMode: PadMode;
}

/** The waveform itself, [samples] per item (RawNet3 starts from raw samples). */
export interface WaveformSpec {
  readonly kind: 'waveform';
  readonly source: string;
  readonly sampleRateHz: number;
}

/** Precomputed feature frames read from `.npy` files, [frames, numFeats] per item (singer encoder). */
export interface FeatureFramesSpec {
  readonly kind: 'frames';
  readonly source: string;
  readonly numFeats: number;
}

/**
 * Kaldi fbank (kaldi-native-fbank / torchaudio.compliance.kaldi), [frames, numMelBins] per waveform:
 * the input of WeSpeaker-style and sherpa-onnx speaker models. `options.subtractMean` is the
 * per-utterance mean subtraction (sherpa-onnx's `feature_normalize_type: global-mean`).
 */
export interface KaldiFbankSpec {
  readonly kind: 'kaldi-fbank';
  readonly source: string;
  readonly sampleRateHz: number;
  readonly numMelBins: number;
  /** Plain data only (no dither source): features are deterministic and the spec clones to workers. */
  readonly options: Readonly<Omit<KaldiFbankOptions, 'random' | 'dither'>>;
}

export type FeatureSpec = VoxcelebLogMelSpec | RtvcMelSpec | WaveformSpec | FeatureFramesSpec | KaldiFbankSpec;
export type FeatureKind = FeatureSpec['kind'];

/** A batch of features: `data` row-major with shape `shape` (batch first). */
export interface FeatureBatch {
  data: Float32Array;
  shape: number[];
}

const NUM_VOXCELEB_BINS = VOXCELEB_STFT.fftSize / 2 + 1;

/** Prepared front ends by spec object: the same spec (or its clone in a worker) is prepared once. */
const preparedVoxceleb = new WeakMap<VoxcelebLogMelSpec, VoxcelebFrontend>();
/** Specs by prepared front end, so an encoder hands out the same spec object while its buffers stay. */
const specByFrontend = new WeakMap<VoxcelebFrontend, VoxcelebLogMelSpec>();

/**
 * The spec of a voxceleb front end an encoder has prepared from its buffers. Returns the same
 * object for the same front end, so `computeFeatures` reuses the prepared filterbank.
 * @param melFilterbank reads the dense [257 · numMels] filterbank buffer (called once per front end)
 */
export function voxcelebLogMelSpecOf(source: string, frontend: VoxcelebFrontend, melFilterbank: () => Float32Array): VoxcelebLogMelSpec {
  let spec = specByFrontend.get(frontend);
  if (!spec) {
    spec = Object.freeze({
      kind: 'voxceleb-logmel' as const,
      source,
      sampleRateHz: VOXCELEB_STFT.sampleRateHz,
      numMels: frontend.numMels,
      window: frontend.window,
      melFilterbank: melFilterbank(),
      ...(frontend.preEmphasis === undefined ? {} : { preEmphasis: frontend.preEmphasis }),
      logInput: frontend.logInput,
    });
    specByFrontend.set(frontend, spec);
    preparedVoxceleb.set(spec, frontend);
  }
  return spec;
}

function voxcelebFrontend(spec: VoxcelebLogMelSpec): VoxcelebFrontend {
  let frontend = preparedVoxceleb.get(spec);
  if (!frontend) {
    if (spec.melFilterbank.length !== NUM_VOXCELEB_BINS * spec.numMels) {
      throw new ShapeError(`${spec.source} feature spec melFilterbank`, `[${NUM_VOXCELEB_BINS} · ${spec.numMels}]`, [spec.melFilterbank.length]);
    }
    frontend = prepareVoxcelebFrontend({
      numMels: spec.numMels,
      window: spec.window,
      melFilterbank: spec.melFilterbank,
      preEmphasis: spec.preEmphasis,
      logInput: spec.logInput,
    });
    preparedVoxceleb.set(spec, frontend);
  }
  return frontend;
}

/** Throws unless there is at least one waveform and all have the same length; returns it. */
function commonLength(spec: FeatureSpec, waves: readonly Float32Array[]): number {
  if (waves.length === 0) throw new ShapeError(`${spec.source} features`, '[batch ≥ 1, samples]', [0]);
  const samples = waves[0].length;
  waves.forEach((w, i) => {
    if (w.length !== samples) {
      throw new ShapeError(`${spec.source} features`, `${waves.length} waveforms of ${samples} samples (equal lengths)`, [i, w.length]);
    }
  });
  return samples;
}

/** Explains that frame specs take feature files, not audio. */
export function framesNeedFeatureFilesError(spec: FeatureFramesSpec): VoxkitError {
  return new VoxkitError(
    'E_USAGE',
    `${spec.source}: no waveform front-end; these weights take precomputed feature frames ` +
      `(singer_id_encoder trains on WORLD spectral-envelope features made by an external tool). ` +
      `Pass them as a tensor [batch, frames, ${spec.numFeats}] to forward() or classify()`,
  );
}

/** RTVC mel frames [frames, 40] of one waveform, checking the model takes 40 bands. */
export function rtvcMelFrames(spec: RtvcMelSpec, wave: Float32Array): { data: Float32Array; frames: number } {
  if (spec.numMels !== RTVC_MEL.numMels) {
    throw new VoxkitError(
      'E_CONFIG',
      `${spec.source}: the RTVC mel front-end has ${RTVC_MEL.numMels} bands but this model expects ${spec.numMels}; pass precomputed frames to forward()`,
    );
  }
  const mel = rtvcMel(wave, { padMode: spec.padMode });
  return { data: mel.data, frames: mel.frames };
}

/**
 * The network input for a batch of equal-length waveforms (mono float32 at `spec.sampleRateHz`),
 * bit-identical to `encoder.features(waves)` of the encoder the spec came from.
 *
 * @returns voxceleb-logmel: [batch, numMels, frames]; rtvc-mel: [batch, frames, 40];
 *   kaldi-fbank: [batch, frames, numMelBins]; waveform: [batch, samples]. `frames` specs throw
 *   (their input is feature files).
 */
export function computeFeatures(spec: FeatureSpec, waves: readonly Float32Array[]): FeatureBatch {
  switch (spec.kind) {
    case 'voxceleb-logmel': {
      commonLength(spec, waves);
      const frontend = voxcelebFrontend(spec);
      const { data, shape } = voxcelebLogMelBatch(waves, { numMels: frontend.numMels, window: frontend.window, frontend });
      return { data, shape };
    }
    case 'rtvc-mel': {
      commonLength(spec, waves);
      const first = rtvcMelFrames(spec, waves[0]);
      const perItem = first.data.length;
      const data = new Float32Array(waves.length * perItem);
      data.set(first.data, 0);
      for (let b = 1; b < waves.length; b++) data.set(rtvcMelFrames(spec, waves[b]).data, b * perItem);
      return { data, shape: [waves.length, first.frames, RTVC_MEL.numMels] };
    }
    case 'kaldi-fbank': {
      commonLength(spec, waves);
      const options = { ...spec.options, sampleRateHz: spec.sampleRateHz, numMelBins: spec.numMelBins };
      const first = kaldiFbank(waves[0], options);
      const perItem = first.data.length;
      const data = new Float32Array(waves.length * perItem);
      data.set(first.data, 0);
      for (let b = 1; b < waves.length; b++) data.set(kaldiFbank(waves[b], options).data, b * perItem);
      return { data, shape: [waves.length, first.frames, first.numFeatures] };
    }
    case 'waveform': {
      const samples = commonLength(spec, waves);
      const data = new Float32Array(waves.length * samples);
      waves.forEach((w, b) => data.set(w, b * samples));
      return { data, shape: [waves.length, samples] };
    }
    case 'frames':
      throw framesNeedFeatureFilesError(spec);
    default:
      throw new VoxkitError('E_CONFIG', `feature-spec.ts: unknown feature kind "${(spec as { kind: unknown }).kind}"`);
  }
}
