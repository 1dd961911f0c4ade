/**
 * The Kaldi fbank front end of encoders built with `frontend: 'kaldi-fbank'`: the feature
 * sherpa-onnx computes for its speaker-embedding models (kaldi-native-fbank as sherpa-onnx
 * configures it), so such an encoder exports to sherpa-onnx unchanged.
 *
 * Its settings travel with the weights as one buffer, `fbank.settings` = [preset, num_mel_bins,
 * input_scale, subtract_mean], the way voxceleb_trainer's models carry their mel buffers: a
 * checkpoint alone says which features its network was trained on, and a loaded buffer wins over
 * the code's defaults.
 */
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, VoxkitError } from '../../errors.js';
import type { KaldiFbankSpec } from '../../features/feature-spec.js';
import { KALDI_FBANK_PRESETS } from '../../features/kaldi-fbank.js';
import type { TensorData } from '../../core/tensor-data.js';
import { Module } from '../module.js';

/** Front ends a ResNet encoder can have: voxceleb_trainer's log-mel buffers or Kaldi fbank. */
export type EncoderFrontend = 'voxceleb-logmel' | 'kaldi-fbank';
export const ENCODER_FRONTENDS: readonly EncoderFrontend[] = ['voxceleb-logmel', 'kaldi-fbank'];

/** State-dict key of the settings buffer (the `fbank` child's `settings`). */
export const KALDI_FBANK_SETTINGS_KEY = 'fbank.settings';

/**
 * Preset 1: sherpa-onnx's speaker-embedding feature (sherpa-onnx/csrc/features.h defaults): Povey
 * window, 25/10 ms, 20 Hz to Nyquist − 400 Hz, pre-emphasis 0.97, DC removal, dither 0, and
 * snip_edges false (frames centred on t·10 ms + 5 ms, the signal mirrored at the ends).
 */
export const SHERPA_FBANK_PRESET_ID = 1;

/** Bands of a fbank encoder unless configured otherwise (every sherpa-onnx speaker model has 80). */
export const DEFAULT_FBANK_MEL_BINS = 80;

export interface KaldiFbankFrontendSettings {
  numMelBins: number;
  /** 32768: samples scaled to the int16 range first (sherpa-onnx `normalize_samples` 0); 1: as they are. */
  inputScale: number;
  /** Per-utterance mean subtraction (sherpa-onnx `feature_normalize_type` "global-mean"). */
  subtractMean: boolean;
}

export const DEFAULT_FBANK_SETTINGS: Readonly<Omit<KaldiFbankFrontendSettings, 'numMelBins'>> = Object.freeze({ inputScale: 32768, subtractMean: true });

export function checkFbankSettings(settings: KaldiFbankFrontendSettings, where: string): void {
  if (!Number.isInteger(settings.numMelBins) || settings.numMelBins < 4) {
    throw new VoxkitError('E_CONFIG', `${where}: Kaldi fbank needs at least 4 mel bins, got ${settings.numMelBins}`);
  }
  if (settings.inputScale !== 1 && settings.inputScale !== 32768) {
    throw new VoxkitError('E_CONFIG', `${where}: fbankInputScale must be 1 or 32768 (the two scales sherpa-onnx can feed), got ${settings.inputScale}`);
  }
}

/** The feature spec of a fbank front end: [batch, frames, numMelBins]. */
export function kaldiFbankSpecOf(source: string, sampleRateHz: number, settings: KaldiFbankFrontendSettings): KaldiFbankSpec {
  const { sampleRateHz: _rate, numMelBins: _bins, inputScale: _scale, dither: _dither, ...preset } = KALDI_FBANK_PRESETS.sherpaOnnx;
  return Object.freeze({
    kind: 'kaldi-fbank' as const,
    source,
    sampleRateHz,
    numMelBins: settings.numMelBins,
    options: Object.freeze({ ...preset, snipEdges: false, inputScale: settings.inputScale, subtractMean: settings.subtractMean }),
  });
}

/** The settings a state dict's `fbank.settings` holds, or undefined when it has none (log-mel model). */
export function fbankSettingsOfState(state: ReadonlyMap<string, TensorData> | undefined, file?: string): KaldiFbankFrontendSettings | undefined {
  const entry = state?.get(KALDI_FBANK_SETTINGS_KEY);
  if (!entry) return undefined;
  return decodeSettings(entry.data as ArrayLike<number>, file);
}

function decodeSettings(values: ArrayLike<number>, file?: string): KaldiFbankFrontendSettings {
  if (values.length !== 4 || values[0] !== SHERPA_FBANK_PRESET_ID) {
    throw new CheckpointError(file, `${KALDI_FBANK_SETTINGS_KEY} must be [${SHERPA_FBANK_PRESET_ID}, num_mel_bins, input_scale, subtract_mean]; got [${Array.from(values).join(', ')}]`);
  }
  return { numMelBins: values[1], inputScale: values[2], subtractMean: values[3] !== 0 };
}

/** The `fbank` child: one buffer `settings` [4]. */
export class KaldiFbankBuffers extends Module {
  private readonly settings: tf.Variable;
  private cachedSpec?: { dataId: object; spec: KaldiFbankSpec };

  constructor(settings: KaldiFbankFrontendSettings) {
    super();
    checkFbankSettings(settings, 'Kaldi fbank front end');
    this.settings = this.buffer('settings', tf.tensor1d([SHERPA_FBANK_PRESET_ID, settings.numMelBins, settings.inputScale, settings.subtractMean ? 1 : 0]));
  }

  /** The current (possibly loaded) settings. */
  values(): KaldiFbankFrontendSettings {
    const settings = decodeSettings(this.settings.dataSync());
    checkFbankSettings(settings, KALDI_FBANK_SETTINGS_KEY);
    return settings;
  }

  /** The spec of the current settings, the same object until the buffer is reassigned (a load). */
  spec(source: string, sampleRateHz: number): KaldiFbankSpec {
    const dataId = this.settings.dataId;
    if (this.cachedSpec?.dataId !== dataId) this.cachedSpec = { dataId, spec: kaldiFbankSpecOf(source, sampleRateHz, this.values()) };
    return this.cachedSpec.spec;
  }
}
