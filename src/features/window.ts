/**
 * Analysis windows, bit-for-bit where the references allow it:
 * - torch.hann_window / torch.hamming_window with periodic=True, evaluated in float32 the way
 *   ATen does (arange · float32(2π/N), cos, · −β, + α, each step rounded to float32);
 * - scipy.signal.get_window('hann', N, fftbins=True), as librosa uses it, in float64;
 * - torch.stft's centred zero-padding of a shorter window to the FFT size.
 */
import { VoxkitError } from '../errors.js';

const f32 = Math.fround;

/**
 * A generalised periodic cosine window α − β·cos(2πn/N) in torch's float32 arithmetic, N = `length`.
 * `samples` = length + 1 gives the symmetric window of length + 1 samples (its last sample included).
 * @returns [samples] float32
 */
function torchPeriodicCosineWindow(length: number, alpha: number, beta: number, samples = length): Float32Array {
  checkLength(length);
  const window = new Float32Array(samples);
  if (length === 1 && samples === 1) {
    window[0] = 1;
    return window;
  }
  // torch builds a symmetric window of length N+1 and drops the last sample.
  const step = f32((Math.PI * 2) / length);
  const minusBeta = f32(-beta);
  const alpha32 = f32(alpha);
  for (let n = 0; n < samples; n++) {
    const cosine = f32(Math.cos(f32(n * step)));
    window[n] = f32(f32(cosine * minusBeta) + alpha32);
  }
  return window;
}

function checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 1) {
    throw new VoxkitError('E_CONFIG', `window length must be a positive integer, got ${length}`);
  }
}

/**
 * `torch.hann_window(length, periodic=True)`: 0.5 − 0.5·cos(2πn/length), float32.
 * @returns [length]
 */
export function periodicHannWindow(length: number): Float32Array {
  return torchPeriodicCosineWindow(length, 0.5, 0.5);
}

/**
 * `torch.hamming_window(length, periodic=True)`: 0.54 − 0.46·cos(2πn/length), float32.
 * @returns [length]
 */
export function periodicHammingWindow(length: number): Float32Array {
  return torchPeriodicCosineWindow(length, 0.54, 0.46);
}

/**
 * `torch.hann_window(length, periodic=False)`: 0.5 − 0.5·cos(2πn/(length − 1)), float32 (Kaldi's
 * "hanning" window).
 * @returns [length]
 */
export function symmetricHannWindow(length: number): Float32Array {
  checkLength(length);
  return length === 1 ? new Float32Array([1]) : torchPeriodicCosineWindow(length - 1, 0.5, 0.5, length);
}

/**
 * `torch.hamming_window(length, periodic=False)`: 0.54 − 0.46·cos(2πn/(length − 1)), float32
 * (Kaldi's "hamming" window).
 * @returns [length]
 */
export function symmetricHammingWindow(length: number): Float32Array {
  checkLength(length);
  return length === 1 ? new Float32Array([1]) : torchPeriodicCosineWindow(length - 1, 0.54, 0.46, length);
}

/**
 * Kaldi's "povey" window, the symmetric Hann window raised to 0.85 (zero at both ends like Hann,
 * but wider), as torchaudio.compliance.kaldi computes it in float32.
 * @returns [length]
 */
export function poveyWindow(length: number): Float32Array {
  const window = symmetricHannWindow(length);
  for (let n = 0; n < length; n++) window[n] = f32(Math.pow(window[n], 0.85));
  return window;
}

/** A torch periodic window by name ('hamming' | 'hann'), float32 [length]. */
export function periodicWindow(kind: 'hamming' | 'hann', length: number): Float32Array {
  if (kind === 'hamming') return periodicHammingWindow(length);
  if (kind === 'hann') return periodicHannWindow(length);
  throw new VoxkitError('E_CONFIG', `unknown window "${String(kind)}"; valid names: hamming, hann`);
}

/**
 * `scipy.signal.get_window('hann', length, fftbins=True)` (librosa's default window) in float64,
 * following scipy's evaluation 0.5 + 0.5·cos(θ) with θ = linspace(−π, π, length + 1).
 * @returns [length]
 */
export function periodicHannWindowFloat64(length: number): Float64Array {
  checkLength(length);
  const window = new Float64Array(length);
  if (length === 1) {
    window[0] = 1;
    return window;
  }
  const step = (Math.PI - -Math.PI) / length;
  for (let n = 0; n < length; n++) window[n] = 0.5 + 0.5 * Math.cos(n * step + -Math.PI);
  return window;
}

/**
 * Zero-pads a window to `fftSize` with the window centred (torch.stft and librosa: left padding
 * ⌊(fftSize − length)/2⌋).
 * @param window [length], length ≤ fftSize
 * @returns [fftSize], same element type as `window`
 */
export function padWindowCentered<T extends Float32Array | Float64Array>(window: T, fftSize: number): T {
  if (window.length > fftSize) {
    throw new VoxkitError('E_SHAPE', `window of ${window.length} samples is longer than the FFT size ${fftSize}`);
  }
  const padded = new (window.constructor as new (n: number) => T)(fftSize);
  padded.set(window, Math.floor((fftSize - window.length) / 2));
  return padded;
}
