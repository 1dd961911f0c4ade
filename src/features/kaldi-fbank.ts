/**
 * Kaldi-compatible log mel filterbank energies ("fbank"), as `torchaudio.compliance.kaldi.fbank`
 * (torchaudio 0.13) and Kaldi's `compute-fbank-feats` compute them: the front-end of WeSpeaker,
 * pyannote's WeSpeaker embeddings and sherpa-onnx speaker models (kaldi-native-fbank).
 *
 * Per frame: [dither] → remove DC offset → [raw log energy] → pre-emphasis (first sample against
 * itself) → window → zero-pad to a power of two → |FFT|² → mel triangles on Kaldi's 1127·ln(1 + f/700)
 * scale between lowFreqHz and highFreqHz (the Nyquist bin has no weight) → ln(max(·, ε)).
 *
 * The time-domain steps round to float32 where torch does, so frames match torchaudio's float32
 * input bit for bit before the FFT; the FFT and the filterbank sums run in float64. Outputs are
 * [frames, numFeatures] row-major float32. Pure TypeScript over typed arrays (browser-safe).
 */
import { ShapeError, VoxkitError } from '../errors.js';
import { getRealFft } from './fft.js';
import { SparseFilterbank } from './sparse-filterbank.js';
import { poveyWindow, symmetricHammingWindow, symmetricHannWindow } from './window.js';

const f32 = Math.fround;

/** torch.finfo(torch.float32).eps: Kaldi's floor on each filterbank energy before the log. */
export const KALDI_FBANK_EPSILON = 2 ** -23;

export type KaldiWindowType = 'hamming' | 'hanning' | 'povey' | 'rectangular' | 'blackman';

const KALDI_WINDOW_TYPES: readonly KaldiWindowType[] = ['hamming', 'hanning', 'povey', 'rectangular', 'blackman'];

/** Something that draws standard normal numbers (e.g. `Random` from src/core/random.ts). */
export interface GaussianSource {
  normal(): number;
}

/**
 * Options with torchaudio's names in camelCase and torchaudio's defaults, plus `inputScale`.
 * VTLN warping is not supported.
 */
export interface KaldiFbankOptions {
  /** sample_frequency; default 16000. */
  sampleRateHz?: number;
  /** num_mel_bins; default 23 (Kaldi's); speaker models use 80. */
  numMelBins?: number;
  /** frame_length in ms; default 25. */
  frameLengthMs?: number;
  /** frame_shift in ms; default 10. */
  frameShiftMs?: number;
  /** window_type; default 'povey'. */
  windowType?: KaldiWindowType;
  /** blackman_coeff; default 0.42. */
  blackmanCoeff?: number;
  /** preemphasis_coefficient in [0, 1]; default 0.97. */
  preemphasisCoefficient?: number;
  /** remove_dc_offset; default true. */
  removeDcOffset?: boolean;
  /** round_to_power_of_two (zero-pad the frame to the next power of two for the FFT); default true. */
  roundToPowerOfTwo?: boolean;
  /**
   * snip_edges; default true: only frames that fit in the signal, 1 + ⌊(samples − length)/shift⌋.
   * false: ⌊(samples + shift/2)/shift⌋ frames centred on t·shift + shift/2, the signal mirrored at
   * both ends (edge sample repeated).
   */
  snipEdges?: boolean;
  /** low_freq of the lowest triangle in Hz; default 20. */
  lowFreqHz?: number;
  /** high_freq in Hz; ≤ 0 means Nyquist + highFreqHz (so −400 is Nyquist − 400 Hz); default 0. */
  highFreqHz?: number;
  /** use_energy: add the log frame energy as an extra column; default false. */
  useEnergy?: boolean;
  /** raw_energy: energy before pre-emphasis and window (else after); default true. */
  rawEnergy?: boolean;
  /** energy_floor (absolute, applied to the energy column only; 0 = none); default 1. */
  energyFloor?: number;
  /** htk_compat: the energy column goes last instead of first; default false. */
  htkCompat?: boolean;
  /** use_log_fbank; default true. */
  useLogFbank?: boolean;
  /** use_power (|X|², else |X|); default true. */
  usePower?: boolean;
  /** subtract_mean: subtract each column's mean over the utterance (CMN); default false. */
  subtractMean?: boolean;
  /**
   * Factor applied to the samples first. Kaldi and the toolkits expect int16-range samples, so
   * voxkit's [-1, 1) waveforms need 32768 (the presets set it); default 1 (torchaudio's behaviour).
   */
  inputScale?: number;
  /** dither: Gaussian noise of this standard deviation added to every frame sample; default 0. */
  dither?: number;
  /** The noise source when dither > 0 (seeded, so features are reproducible). */
  random?: GaussianSource;
}

type ResolvedOptions = Required<Omit<KaldiFbankOptions, 'random'>>;

const DEFAULTS: ResolvedOptions = {
  sampleRateHz: 16000,
  numMelBins: 23,
  frameLengthMs: 25,
  frameShiftMs: 10,
  windowType: 'povey',
  blackmanCoeff: 0.42,
  preemphasisCoefficient: 0.97,
  removeDcOffset: true,
  roundToPowerOfTwo: true,
  snipEdges: true,
  lowFreqHz: 20,
  highFreqHz: 0,
  useEnergy: false,
  rawEnergy: true,
  energyFloor: 1,
  htkCompat: false,
  useLogFbank: true,
  usePower: true,
  subtractMean: false,
  inputScale: 1,
  dither: 0,
};

/**
 * Settings of the toolkits whose models take this feature (the front-end only: their speaker
 * models then subtract the per-utterance mean, i.e. add `subtractMean: true`).
 * - `wespeaker`: WeSpeaker's `compute_fbank` and pyannote's WeSpeaker embeddings (Hamming window,
 *   20 Hz to Nyquist).
 * - `sherpaOnnx`: kaldi-native-fbank as sherpa-onnx configures it for speaker-embedding models
 *   (Povey window, 20 Hz to Nyquist − 400 Hz, frames centred: `snip_edges` false), for models
 *   whose `normalize_samples` is 0 (int16 scale); with `normalize_samples` 1 use `inputScale: 1`.
 *   (The `sherpa_onnx` reference fixtures keep torchaudio's `snip_edges` default; their test
 *   passes the fixture's own parameters, not this preset.)
 */
export const KALDI_FBANK_PRESETS = {
  wespeaker: { sampleRateHz: 16000, numMelBins: 80, frameLengthMs: 25, frameShiftMs: 10, windowType: 'hamming', dither: 0, useEnergy: false, inputScale: 32768 },
  sherpaOnnx: {
    sampleRateHz: 16000,
    numMelBins: 80,
    frameLengthMs: 25,
    frameShiftMs: 10,
    windowType: 'povey',
    lowFreqHz: 20,
    highFreqHz: -400,
    dither: 0,
    snipEdges: false,
    useEnergy: false,
    inputScale: 32768,
  },
} as const satisfies Record<string, KaldiFbankOptions>;

export interface KaldiFbankResult {
  /** [frames, numFeatures] row-major float32 */
  data: Float32Array;
  frames: number;
  /** numMelBins, plus 1 with useEnergy. */
  numFeatures: number;
}

/** Kaldi's mel scale: 1127·ln(1 + f/700). */
export function kaldiMelScale(hz: number): number {
  return 1127.0 * Math.log(1.0 + hz / 700.0);
}

/** Inverse of `kaldiMelScale`. */
export function kaldiInverseMelScale(mel: number): number {
  return 700.0 * (Math.exp(mel / 1127.0) - 1.0);
}

function configError(message: string): VoxkitError {
  return new VoxkitError('E_CONFIG', `kaldi fbank: ${message}`);
}

function resolveOptions(options: KaldiFbankOptions): ResolvedOptions & { random?: GaussianSource } {
  const resolved = { ...DEFAULTS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (resolved as Record<string, unknown>)[key] = value;
  }
  return resolved;
}

/** Kaldi's window of `length` samples in torch's float32 arithmetic (symmetric: both ends included). */
export function kaldiWindow(type: KaldiWindowType, length: number, blackmanCoeff = 0.42): Float32Array {
  switch (type) {
    case 'hamming':
      return symmetricHammingWindow(length);
    case 'hanning':
      return symmetricHannWindow(length);
    case 'povey':
      return poveyWindow(length);
    case 'rectangular':
      return new Float32Array(length).fill(1);
    case 'blackman': {
      // torch: a·n in float32, cosines in float32, the three terms combined in float32.
      const a = f32((2 * Math.PI) / (length - 1));
      const c0 = f32(blackmanCoeff);
      const c2 = f32(0.5 - blackmanCoeff);
      const window = new Float32Array(length);
      for (let n = 0; n < length; n++) {
        const first = f32(0.5 * f32(Math.cos(f32(a * n))));
        const second = f32(c2 * f32(Math.cos(f32(f32(2 * a) * n))));
        window[n] = f32(f32(c0 - first) + second);
      }
      return window;
    }
    default:
      throw configError(`unknown window type "${String(type)}"; valid types: ${KALDI_WINDOW_TYPES.join(', ')}`);
  }
}

/**
 * Kaldi's mel triangles (torchaudio `get_mel_banks` without VTLN, float32 like torch), with the
 * zero weight of the Nyquist bin appended.
 * @returns [numMelBins, paddedWindowSize/2 + 1] row-major float32
 */
export function kaldiMelBanks(numMelBins: number, paddedWindowSize: number, sampleRateHz: number, lowFreqHz: number, highFreqHz: number): Float32Array {
  if (!Number.isInteger(numMelBins) || numMelBins <= 3) throw configError(`numMelBins must be an integer > 3, got ${numMelBins}`);
  const numFftBins = paddedWindowSize / 2;
  const nyquist = 0.5 * sampleRateHz;
  const highHz = highFreqHz <= 0 ? highFreqHz + nyquist : highFreqHz;
  if (!(lowFreqHz >= 0 && lowFreqHz < nyquist && highHz > 0 && highHz <= nyquist && lowFreqHz < highHz)) {
    throw configError(`bad frequency range: lowFreqHz ${lowFreqHz}, highFreqHz ${highFreqHz} (→ ${highHz} Hz) vs Nyquist ${nyquist} Hz`);
  }
  const binWidthHz = f32(sampleRateHz / paddedWindowSize);
  const melLow = kaldiMelScale(lowFreqHz);
  const melHigh = kaldiMelScale(highHz);
  const melDelta = f32((melHigh - melLow) / (numMelBins + 1));
  const melLow32 = f32(melLow);
  const binMel = new Float32Array(numFftBins);
  for (let k = 0; k < numFftBins; k++) {
    const hz = f32(binWidthHz * k);
    binMel[k] = f32(1127 * f32(Math.log(f32(1 + f32(hz / 700)))));
  }
  const numColumns = numFftBins + 1;
  const banks = new Float32Array(numMelBins * numColumns);
  for (let m = 0; m < numMelBins; m++) {
    const left = f32(melLow32 + f32(m * melDelta));
    const center = f32(melLow32 + f32((m + 1) * melDelta));
    const right = f32(melLow32 + f32((m + 2) * melDelta));
    const upWidth = f32(center - left);
    const downWidth = f32(right - center);
    for (let k = 0; k < numFftBins; k++) {
      const up = f32(f32(binMel[k] - left) / upWidth);
      const down = f32(f32(right - binMel[k]) / downWidth);
      banks[m * numColumns + k] = Math.max(0, Math.min(up, down));
    }
  }
  return banks;
}

function nextPowerOfTwo(x: number): number {
  return x <= 1 ? 1 : 2 ** Math.ceil(Math.log2(x));
}

/**
 * A Kaldi fbank front-end with its window, filterbank and FFT plan resolved once; `compute` may be
 * called for any number of waveforms (one thread at a time: it reuses scratch buffers).
 */
export class KaldiFbank {
  readonly options: Readonly<ResolvedOptions>;
  readonly windowSize: number;
  readonly windowShift: number;
  readonly paddedWindowSize: number;
  readonly numFeatures: number;
  private readonly random: GaussianSource | undefined;
  private readonly window: Float32Array;
  private readonly filterbank: SparseFilterbank;
  private readonly frame: Float64Array;
  private readonly spectrum: Float64Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly melRow: Float32Array;

  constructor(options: KaldiFbankOptions = {}) {
    const o = resolveOptions(options);
    const positive = (name: keyof ResolvedOptions, v: number): void => {
      if (!(Number.isFinite(v) && v > 0)) throw configError(`${name} must be a positive number, got ${v}`);
    };
    positive('sampleRateHz', o.sampleRateHz);
    positive('frameLengthMs', o.frameLengthMs);
    positive('frameShiftMs', o.frameShiftMs);
    positive('inputScale', o.inputScale);
    if (!KALDI_WINDOW_TYPES.includes(o.windowType)) {
      throw configError(`unknown window type "${String(o.windowType)}"; valid types: ${KALDI_WINDOW_TYPES.join(', ')}`);
    }
    if (!(o.preemphasisCoefficient >= 0 && o.preemphasisCoefficient <= 1)) {
      throw configError(`preemphasisCoefficient must be in [0, 1], got ${o.preemphasisCoefficient}`);
    }
    if (!(Number.isFinite(o.dither) && o.dither >= 0)) throw configError(`dither must be ≥ 0, got ${o.dither}`);
    if (o.dither > 0 && !options.random) throw configError('dither > 0 needs a seeded `random` source (e.g. new Random(seed))');
    if (!(Number.isFinite(o.energyFloor) && o.energyFloor >= 0)) throw configError(`energyFloor must be ≥ 0, got ${o.energyFloor}`);
    // torchaudio truncates the sample counts (int(16000 · 25 · 0.001) = 400).
    this.windowShift = Math.trunc(o.sampleRateHz * o.frameShiftMs * 0.001);
    this.windowSize = Math.trunc(o.sampleRateHz * o.frameLengthMs * 0.001);
    if (this.windowSize < 2) throw configError(`a frame of ${o.frameLengthMs} ms at ${o.sampleRateHz} Hz has ${this.windowSize} samples; at least 2 are needed`);
    if (this.windowShift < 1) throw configError(`a frame shift of ${o.frameShiftMs} ms at ${o.sampleRateHz} Hz is under one sample`);
    this.paddedWindowSize = o.roundToPowerOfTwo ? nextPowerOfTwo(this.windowSize) : this.windowSize;
    if (this.paddedWindowSize % 2 !== 0) {
      throw configError(`the FFT size ${this.paddedWindowSize} must be even: use roundToPowerOfTwo or another frame length`);
    }
    const numBins = this.paddedWindowSize / 2 + 1;
    const banks = kaldiMelBanks(o.numMelBins, this.paddedWindowSize, o.sampleRateHz, o.lowFreqHz, o.highFreqHz);
    this.filterbank = SparseFilterbank.fromFiltersByBins(banks, o.numMelBins, numBins);
    this.window = kaldiWindow(o.windowType, this.windowSize, o.blackmanCoeff);
    this.numFeatures = o.numMelBins + (o.useEnergy ? 1 : 0);
    this.random = options.random;
    const { random: _random, ...plain } = o;
    this.options = Object.freeze(plain);
    this.frame = new Float64Array(this.paddedWindowSize);
    this.spectrum = new Float64Array(numBins);
    this.re = new Float64Array(numBins);
    this.im = new Float64Array(numBins);
    this.melRow = new Float32Array(o.numMelBins);
  }

  /** Frames `compute` returns for a waveform of `numSamples` samples (0 if shorter than a frame with snipEdges). */
  frameCount(numSamples: number): number {
    if (this.options.snipEdges) return numSamples < this.windowSize ? 0 : 1 + Math.floor((numSamples - this.windowSize) / this.windowShift);
    return Math.floor((numSamples + Math.floor(this.windowShift / 2)) / this.windowShift);
  }

  /**
   * Features of one mono waveform at `sampleRateHz` (in [-1, 1) with inputScale 32768, or already
   * in int16 range with inputScale 1).
   * @param wave [samples], at least one frame long (torchaudio refuses shorter input)
   * @returns [frames, numFeatures]
   */
  compute(wave: ArrayLike<number>): KaldiFbankResult {
    const o = this.options;
    const n = wave.length;
    if (n < this.windowSize) {
      throw new ShapeError('kaldi fbank', `[samples ≥ ${this.windowSize}] (one ${o.frameLengthMs} ms frame)`, [n]);
    }
    const frames = this.frameCount(n);
    const numFeatures = this.numFeatures;
    const numMels = o.numMelBins;
    const melOffset = o.useEnergy && !o.htkCompat ? 1 : 0;
    const energyColumn = o.useEnergy ? (o.htkCompat ? numMels : 0) : -1;
    const logEnergyFloor = o.energyFloor > 0 ? Math.log(o.energyFloor) : -Infinity;
    const out = new Float32Array(frames * numFeatures);
    const { frame, spectrum, re, im, melRow, window } = this;
    const size = this.windowSize;
    const scale = f32(o.inputScale);
    const preemph = f32(o.preemphasisCoefficient);
    // snip_edges = false centres frame t on t·shift + shift/2 (torchaudio: pad = size/2 − shift/2).
    const firstOffset = o.snipEdges ? 0 : -(Math.floor(size / 2) - Math.floor(this.windowShift / 2));
    const plan = getRealFft(this.paddedWindowSize);

    for (let t = 0; t < frames; t++) {
      const start = t * this.windowShift + firstOffset;
      if (start >= 0 && start + size <= n) {
        for (let j = 0; j < size; j++) frame[j] = f32(wave[start + j] * scale);
      } else {
        for (let j = 0; j < size; j++) frame[j] = f32(wave[mirrorIndex(start + j, n)] * scale);
      }
      if (o.dither > 0) {
        const random = this.random!;
        for (let j = 0; j < size; j++) frame[j] = f32(frame[j] + f32(f32(random.normal()) * f32(o.dither)));
      }
      if (o.removeDcOffset) {
        let sum = 0;
        for (let j = 0; j < size; j++) sum += frame[j];
        const mean = f32(sum / size);
        for (let j = 0; j < size; j++) frame[j] = f32(frame[j] - mean);
      }
      let logEnergy = 0;
      if (o.useEnergy && o.rawEnergy) logEnergy = frameLogEnergy(frame, size, logEnergyFloor);
      if (preemph !== 0) {
        // Backwards so each sample still sees its predecessor's un-emphasised value.
        for (let j = size - 1; j > 0; j--) frame[j] = f32(frame[j] - f32(preemph * frame[j - 1]));
        frame[0] = f32(frame[0] - f32(preemph * frame[0]));
      }
      for (let j = 0; j < size; j++) frame[j] = f32(frame[j] * window[j]);
      frame.fill(0, size);
      if (o.useEnergy && !o.rawEnergy) logEnergy = frameLogEnergy(frame, size, logEnergyFloor);

      plan.powerSpectrum(frame, spectrum, re, im);
      if (!o.usePower) for (let k = 0; k < spectrum.length; k++) spectrum[k] = Math.sqrt(spectrum[k]);
      this.filterbank.applyTo(spectrum, melRow, 0, 1);
      const row = t * numFeatures;
      for (let m = 0; m < numMels; m++) {
        const energy = melRow[m];
        out[row + melOffset + m] = o.useLogFbank ? Math.log(Math.max(energy, KALDI_FBANK_EPSILON)) : energy;
      }
      if (energyColumn >= 0) out[row + energyColumn] = logEnergy;
    }
    if (o.subtractMean) subtractColumnMeans(out, frames, numFeatures);
    return { data: out, frames, numFeatures };
  }
}

/** Kaldi's fold of an index outside [0, n): −1 → 0, −2 → 1, n → n − 1, … (edge sample repeated). */
function mirrorIndex(index: number, n: number): number {
  let i = index;
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - 1 - i;
  return i;
}

/** ln(max(Σ x², ε)), floored at ln(energyFloor), as a float32 value. */
function frameLogEnergy(frame: Float64Array, size: number, logEnergyFloor: number): number {
  let sum = 0;
  for (let j = 0; j < size; j++) sum += frame[j] * frame[j];
  return f32(Math.max(Math.log(Math.max(sum, KALDI_FBANK_EPSILON)), logEnergyFloor));
}

/** Subtracts each column's mean over the rows (per-utterance CMN), in place. */
export function subtractColumnMeans(data: Float32Array, rows: number, columns: number): void {
  if (data.length !== rows * columns) throw new ShapeError('subtractColumnMeans', `[${rows}, ${columns}]`, [data.length]);
  if (rows === 0) return;
  const means = new Float64Array(columns);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) means[c] += data[r * columns + c];
  for (let c = 0; c < columns; c++) means[c] = f32(means[c] / rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) data[r * columns + c] -= means[c];
}

/** Prepared front-ends by their options, so repeated `kaldiFbank` calls build each filterbank once. */
const prepared = new Map<string, KaldiFbank>();
const MAX_PREPARED = 16;

/**
 * Kaldi fbank features of one waveform (see `KaldiFbank` and `KaldiFbankOptions`; e.g.
 * `kaldiFbank(wave, { ...KALDI_FBANK_PRESETS.wespeaker, subtractMean: true })`).
 * @returns [frames, numFeatures] row-major float32
 */
export function kaldiFbank(wave: ArrayLike<number>, options: KaldiFbankOptions = {}): KaldiFbankResult {
  if (options.random) return new KaldiFbank(options).compute(wave);
  const key = JSON.stringify(resolveOptions(options));
  let frontEnd = prepared.get(key);
  if (!frontEnd) {
    frontEnd = new KaldiFbank(options);
    if (prepared.size >= MAX_PREPARED) prepared.delete(prepared.keys().next().value!);
    prepared.set(key, frontEnd);
  }
  return frontEnd.compute(wave);
}
