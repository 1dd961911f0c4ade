/**
 * On-the-fly training augmentation, as voxceleb_trainer's `AugmentWAV` (DatasetLoader.py) does it,
 * plus WeSpeaker's speed perturbation and SpecAugment:
 *
 * - one of `choices` per training crop, uniformly (voxceleb_trainer: none / reverb / music /
 *   babble / noise, `random.randint(0, 4)`);
 * - additive noise at a uniform SNR: 10·log10(mean(x²) + 1e-4) for the crop and for each noise crop,
 *   the noise scaled by √10^((clean_dB − noise_dB − snr)/10); babble sums 3–7 distinct speech files,
 *   each at its own SNR; each noise file is cut to the crop's length at a random start, wrap-padded
 *   when shorter (voxceleb_trainer `loadWAV`);
 * - reverberation: the impulse response scaled to unit energy (rir / √Σrir²), full linear
 *   convolution, the first crop-length samples kept;
 * - speed perturbation: the crop read at `factor` × its speed (pitch and tempo together, like sox
 *   `speed`) by band-limited resampling of a slightly longer cut;
 * - SpecAugment on log-mel features: time and frequency bands set to 0, which after the front end's
 *   instance normalisation is each band's mean.
 *
 * Every random choice comes from the item's seed (`planAugmentation`), so an item is augmented the
 * same way in a worker thread, on the main thread and after a resume; applying a plan is a pure
 * function of (crop, plan, noise audio). No Node APIs: runs in workers and browsers.
 */
import { wrapPad } from '../../audio/eval-crops.js';
import { Random } from '../../core/random.js';
import { VoxkitError } from '../../errors.js';
import { convolve } from '../../synth/dsp/convolve.js';
import { resampleByRatio } from '../../synth/dsp/resample-ratio.js';

export const AUGMENT_TYPES = ['none', 'reverb', 'music', 'speech', 'noise'] as const;
export type AugmentType = (typeof AUGMENT_TYPES)[number];
/** The MUSAN categories mixed in as additive noise (`speech` = babble). */
export const NOISE_TYPES = ['music', 'speech', 'noise'] as const;
export type NoiseType = (typeof NOISE_TYPES)[number];

/** voxceleb_trainer's SNR ranges in dB (`noisesnr`). */
export const DEFAULT_SNR_DB: Readonly<Record<NoiseType, readonly [number, number]>> = Object.freeze({
  music: [5, 15],
  speech: [13, 20],
  noise: [0, 15],
});
/** voxceleb_trainer's number of files mixed per type (`numnoise`): babble of 3–7 speakers. */
export const DEFAULT_NUM_NOISES: Readonly<Record<NoiseType, readonly [number, number]>> = Object.freeze({
  music: [1, 1],
  speech: [3, 7],
  noise: [1, 1],
});
/** WeSpeaker's speeds. */
export const DEFAULT_SPEED_FACTORS: readonly number[] = Object.freeze([0.9, 1.0, 1.1]);

/** WeSpeaker's `spec_aug` defaults: with probability 0.6, one time mask of 1–10 frames and one band mask of 1–8 bands. */
export interface SpecAugmentSettings {
  readonly probability: number;
  readonly timeMasks: number;
  readonly maxTimeWidth: number;
  readonly freqMasks: number;
  readonly maxFreqWidth: number;
}
export const DEFAULT_SPEC_AUGMENT: SpecAugmentSettings = Object.freeze({ probability: 0.6, timeMasks: 1, maxTimeWidth: 10, freqMasks: 1, maxFreqWidth: 8 });

/** Everything that decides how items are augmented (plain data: it travels to worker threads). */
export interface AugmentSettings {
  /** Drawn uniformly per item; empty or ['none'] = no waveform augmentation. */
  readonly choices: readonly AugmentType[];
  readonly snrDb: Readonly<Record<NoiseType, readonly [number, number]>>;
  readonly numNoises: Readonly<Record<NoiseType, readonly [number, number]>>;
  /** Drawn uniformly per item; empty = off. */
  readonly speedFactors: readonly number[];
  readonly specAugment: SpecAugmentSettings | false;
}

/** The audio files augmentation draws from, each list sorted (the plans index into them). */
export interface NoiseSets {
  readonly music: readonly string[];
  readonly speech: readonly string[];
  readonly noise: readonly string[];
  readonly rirs: readonly string[];
}

export const EMPTY_NOISE_SETS: NoiseSets = Object.freeze({ music: [], speech: [], noise: [], rirs: [] });

export interface NoiseMix {
  readonly file: string;
  /** Where the noise crop starts, u ∈ [0, 1) (voxceleb_trainer's rule). */
  readonly cropUniform: number;
  readonly snrDb: number;
}

/** The random choices for one item. */
export interface AugmentPlan {
  readonly type: AugmentType;
  /** Files mixed in (music, speech, noise). */
  readonly noises: readonly NoiseMix[];
  /** Impulse response (reverb). */
  readonly rir?: string;
  /** 1 = unchanged. */
  readonly speed: number;
  /** SpecAugment masks as uniforms, resolved against the feature size when applied. */
  readonly specMasks: readonly SpecMask[];
}

export interface SpecMask {
  readonly axis: 'time' | 'freq';
  readonly startUniform: number;
  readonly widthUniform: number;
}

/** Whether the settings change anything at all. */
export function augmentationActive(settings: AugmentSettings): boolean {
  return waveAugmentationActive(settings) || settings.specAugment !== false;
}

/** Whether the waveform is touched (noise, reverb or speed). */
export function waveAugmentationActive(settings: AugmentSettings): boolean {
  return settings.choices.some((c) => c !== 'none') || settings.speedFactors.some((f) => f !== 1);
}

/** The generator of an item's augmentation: a stream apart from the one that places its crop. */
function augmentRandom(seed: number): Random {
  return new Random((Math.imul(seed ^ 0x6a09e667, 0x9e3779b1) ^ 0x3c6ef372) >>> 0);
}

function uniformIn(rng: Random, [lo, hi]: readonly [number, number]): number {
  return lo + rng.uniform() * (hi - lo);
}

/** k distinct indices of [0, n) in draw order (partial Fisher–Yates over a sparse swap table). */
function distinctIndices(rng: Random, n: number, k: number): number[] {
  const swapped = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const picked = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    out.push(picked);
  }
  return out;
}

/** Throws unless every choice has the audio it needs. */
export function checkNoiseSets(settings: AugmentSettings, sets: NoiseSets): void {
  for (const choice of new Set(settings.choices)) {
    if (choice === 'reverb' && sets.rirs.length === 0) {
      throw new VoxkitError('E_CONFIG', 'augmentation "reverb" needs room impulse responses (augment.rirs / --rirs), and none were found');
    }
    if (choice === 'music' || choice === 'speech' || choice === 'noise') {
      const [lo, hi] = settings.numNoises[choice];
      if (sets[choice].length === 0) throw new VoxkitError('E_CONFIG', `augmentation "${choice}" needs MUSAN ${choice} files (augment.musan / --musan), and none were found`);
      if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && hi >= lo)) {
        throw new VoxkitError('E_CONFIG', `augmentation "${choice}": the number of files must be a range of whole numbers ≥ 1, got [${lo}, ${hi}]`);
      }
    }
  }
  for (const f of settings.speedFactors) {
    if (!(f >= 0.5 && f <= 2)) throw new VoxkitError('E_CONFIG', `speed perturbation factors must lie in [0.5, 2], got ${f}`);
  }
}

/**
 * The augmentation of the item with this seed: a pure function of (seed, settings, file lists).
 * Draw order is fixed (type, files with their crops and SNRs, impulse response, speed, masks).
 */
export function planAugmentation(seed: number, settings: AugmentSettings, sets: NoiseSets): AugmentPlan {
  const rng = augmentRandom(seed);
  const type: AugmentType = settings.choices.length === 0 ? 'none' : settings.choices[rng.int(settings.choices.length)];
  const noises: NoiseMix[] = [];
  let rir: string | undefined;
  if (type === 'music' || type === 'speech' || type === 'noise') {
    const files = sets[type];
    if (files.length === 0) throw new VoxkitError('E_CONFIG', `augmentation "${type}" needs MUSAN ${type} files, and none were found`);
    const [lo, hi] = settings.numNoises[type];
    // Fewer files than the range asks for: use them all (random.sample would fail).
    const count = Math.min(files.length, lo + rng.int(hi - lo + 1));
    for (const index of distinctIndices(rng, files.length, count)) {
      noises.push({ file: files[index], cropUniform: rng.uniform(), snrDb: uniformIn(rng, settings.snrDb[type]) });
    }
  } else if (type === 'reverb') {
    if (sets.rirs.length === 0) throw new VoxkitError('E_CONFIG', 'augmentation "reverb" needs room impulse responses, and none were found');
    rir = sets.rirs[rng.int(sets.rirs.length)];
  }
  const speed = settings.speedFactors.length === 0 ? 1 : settings.speedFactors[rng.int(settings.speedFactors.length)];
  const specMasks: SpecMask[] = [];
  const spec = settings.specAugment;
  if (spec && rng.uniform() < spec.probability) {
    for (let i = 0; i < spec.timeMasks; i++) specMasks.push({ axis: 'time', startUniform: rng.uniform(), widthUniform: rng.uniform() });
    for (let i = 0; i < spec.freqMasks; i++) specMasks.push({ axis: 'freq', startUniform: rng.uniform(), widthUniform: rng.uniform() });
  }
  return { type, noises, ...(rir === undefined ? {} : { rir }), speed, specMasks };
}

/** The files a set of plans needs, each once. */
export function filesOfPlans(plans: readonly AugmentPlan[]): string[] {
  const files = new Set<string>();
  for (const plan of plans) {
    for (const noise of plan.noises) files.add(noise.file);
    if (plan.rir !== undefined) files.add(plan.rir);
  }
  return [...files];
}

/** voxceleb_trainer's level: 10·log10(mean(x²) + 1e-4) (the 1e-4 floor is on the ±1 sample scale). */
export function levelDb(samples: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  return 10 * Math.log10((samples.length === 0 ? 0 : sum / samples.length) + 1e-4);
}

/**
 * A random crop of `length` samples: starts at ⌊u·(n − length)⌋; a source no longer than the crop is
 * wrap-padded to length + 1 first (voxceleb_trainer `loadWAV`, used for noise files too).
 */
export function cropAt(source: Float32Array, length: number, uniform: number): Float32Array {
  if (source.length === 0) throw new VoxkitError('E_DATA', 'cannot crop an empty recording');
  const audio = source.length <= length ? wrapPad(source, length + 1) : source;
  const start = Math.trunc(uniform * (audio.length - length));
  return audio.slice(start, start + length);
}

/** The gain that puts `noise` at `snrDb` below `cleanDb` by voxceleb_trainer's level measure. */
export function snrGain(cleanDb: number, noise: ArrayLike<number>, snrDb: number): number {
  return Math.sqrt(10 ** ((cleanDb - levelDb(noise) - snrDb) / 10));
}

/** clean + Σ gain·noise, each noise cut to the clean length at its own start. */
export function mixNoises(
  clean: Float32Array,
  noises: ReadonlyArray<{ readonly audio: Float32Array; readonly cropUniform: number; readonly snrDb: number }>,
): Float32Array {
  const cleanDb = levelDb(clean);
  const sum = new Float64Array(clean.length);
  for (const { audio, cropUniform, snrDb } of noises) {
    const cut = cropAt(audio, clean.length, cropUniform);
    const gain = snrGain(cleanDb, cut, snrDb);
    for (let i = 0; i < cut.length; i++) sum[i] += gain * cut[i];
  }
  const out = new Float32Array(clean.length);
  for (let i = 0; i < out.length; i++) out[i] = clean[i] + sum[i];
  return out;
}

/** The crop convolved with the unit-energy impulse response, cut to the crop's length. */
export function reverberate(clean: Float32Array, rir: Float32Array): Float32Array {
  let energy = 0;
  for (let i = 0; i < rir.length; i++) energy += rir[i] * rir[i];
  if (!(energy > 0)) throw new VoxkitError('E_DATA', 'room impulse response is silent (all zeros)');
  const norm = 1 / Math.sqrt(energy);
  const kernel = new Float64Array(rir.length);
  for (let i = 0; i < rir.length; i++) kernel[i] = rir[i] * norm;
  return convolve(clean, kernel).slice(0, clean.length);
}

/** Input samples kept on each side of a speed-perturbed cut, so the resampler's edges fall outside the crop. */
const SPEED_MARGIN = 48;

/**
 * A crop of `length` samples of the waveform played `factor` times faster: a cut of
 * ⌈length·factor⌉ + margins samples (same start rule as `cropAt`), resampled by 1/factor, the
 * margins dropped. factor 1 is exactly `cropAt`.
 */
export function speedPerturbedCrop(wave: Float32Array, length: number, factor: number, uniform: number): Float32Array {
  if (factor === 1) return cropAt(wave, length, uniform);
  const cut = cropAt(wave, Math.ceil(length * factor) + 2 * SPEED_MARGIN, uniform);
  const played = resampleByRatio(cut, factor, 1);
  const offset = Math.round(SPEED_MARGIN / factor);
  return played.slice(offset, offset + length);
}

/** The whole waveform played `factor` times faster (for front ends that crop after features). */
export function speedPerturb(wave: Float32Array, factor: number): Float32Array {
  return factor === 1 ? wave : resampleByRatio(wave, factor, 1);
}

function audioOf(audio: ReadonlyMap<string, Float32Array>, file: string): Float32Array {
  const samples = audio.get(file);
  if (!samples) throw new VoxkitError('E_USAGE', `augmentation: ${file} was not loaded`, { file });
  if (samples.length === 0) throw new VoxkitError('E_DATA', `${file}: no audio samples`, { file });
  return samples;
}

/** Noise or reverb of a plan applied to a crop (speed is applied while cropping). */
export function applyWaveAugmentation(crop: Float32Array, plan: AugmentPlan, audio: ReadonlyMap<string, Float32Array>): Float32Array {
  switch (plan.type) {
    case 'none':
      return crop;
    case 'reverb':
      return reverberate(crop, audioOf(audio, plan.rir as string));
    default:
      return mixNoises(
        crop,
        plan.noises.map((n) => ({ audio: audioOf(audio, n.file), cropUniform: n.cropUniform, snrDb: n.snrDb })),
      );
  }
}

/**
 * SpecAugment masks of a plan on one item's features [bands, frames] row-major (in place):
 * WeSpeaker's rule, start uniform over the axis, width 1…max, clipped at the end.
 */
export function applySpecAugment(features: Float32Array, bands: number, frames: number, plan: AugmentPlan, settings: SpecAugmentSettings): void {
  for (const mask of plan.specMasks) {
    const size = mask.axis === 'time' ? frames : bands;
    const maxWidth = mask.axis === 'time' ? settings.maxTimeWidth : settings.maxFreqWidth;
    const start = Math.floor(mask.startUniform * size);
    const end = Math.min(size, start + 1 + Math.floor(mask.widthUniform * maxWidth));
    if (mask.axis === 'time') {
      for (let b = 0; b < bands; b++) features.fill(0, b * frames + start, b * frames + end);
    } else {
      features.fill(0, start * frames, end * frames);
    }
  }
}

/** What `batchFeatures` needs to augment a batch: settings, file lists and the decoded noise audio. */
export interface BatchAugmentation {
  readonly settings: AugmentSettings;
  readonly sets: NoiseSets;
  /** Decoded audio (at the front end's rate) of every file the batch's plans name. */
  readonly audio: ReadonlyMap<string, Float32Array>;
}
