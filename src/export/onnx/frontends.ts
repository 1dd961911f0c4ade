/**
 * Front ends written as ONNX ops, for exports that take the waveform itself.
 *
 * voxceleb_trainer log-mel (ResNetSE34L/V2, VGGVox), same steps as src/features/voxceleb-logmel.ts:
 * [pre-emphasis] → reflect-pad 256 each side (torch.stft center=True) → frames of 400 samples every
 * 160 (the 400-sample window sits centred in the 512-point frame, so the 56 zeros either side are
 * skipped) → real DFT as one strided Conv whose 514 kernels are window·cos and window·sin of the
 * 257 one-sided bins → power → mel MatMul → +1e-6 → ln → InstanceNormalization.
 *
 * Why a Conv with a DFT basis rather than ONNX `STFT`/`DFT`: it is one well-optimised GEMM in every
 * runtime (ONNX Runtime's STFT is a naive per-frame loop, onnxruntime-web lacks it), the window and
 * the model's own filterbank buffers are baked in exactly, and its float32 sums err like torch's
 * float32 FFT (relative to the frame energy).
 */
import type { VoxcelebLogMelSpec } from '../../features/feature-spec.js';
import { VOXCELEB_STFT } from '../../features/voxceleb-logmel.js';
import { INSTANCE_NORM_EPS } from '../../features/instance-norm.js';
import { transpose2d } from './layers.js';
import type { OnnxGraph } from './graph.js';

/** Largest int64 ONNX Slice accepts as "to the end". */
const TO_END = 2 ** 53 - 1;

/** The number of samples of a [B, S] waveform, as a [1] int64 tensor. */
export function sampleCount(g: OnnxGraph, wave: string): string {
  return g.op('Shape', [wave], { start: 1, end: 2 }, 'samples');
}

/** y[0] = x[0] − c·x[1], y[t] = x[t] − c·x[t−1] on [B, S] (voxceleb_trainer `PreEmphasis`). */
export function preEmphasis(g: OnnxGraph, wave: string, coefficient: number, hint = 'preemphasis'): string {
  const first = g.op('Slice', [wave, g.ints([1]), g.ints([2]), g.ints([1])], {}, `${hint}.reflected`);
  const rest = g.op('Slice', [wave, g.ints([0]), g.ints([-1]), g.ints([1])], {}, `${hint}.shifted`);
  const previous = g.op('Concat', [first, rest], { axis: 1 }, `${hint}.previous`);
  const scaled = g.op('Mul', [previous, g.scalar(Math.fround(coefficient))]);
  return g.op('Sub', [wave, scaled], {}, hint);
}

/** The [2·bins, 1, windowLength] kernel of window·cos and window·(−sin) for each one-sided bin. */
function dftKernel(window: Float32Array, fftSize: number, offset: number): Float32Array {
  const bins = fftSize / 2 + 1;
  const length = window.length;
  const kernel = new Float32Array(2 * bins * length);
  for (let k = 0; k < bins; k++) {
    for (let n = 0; n < length; n++) {
      // Index reduced mod fftSize first so the angle stays small and exact in float64.
      const angle = (2 * Math.PI * ((k * (n + offset)) % fftSize)) / fftSize;
      kernel[k * length + n] = window[n] * Math.cos(angle);
      kernel[(bins + k) * length + n] = -window[n] * Math.sin(angle);
    }
  }
  return kernel;
}

/**
 * The normalised log-mel [B, numMels, frames] of waveforms [B, S] (S > 256), frames = 1 + ⌊S/160⌋.
 */
export function voxcelebLogMel(g: OnnxGraph, wave: string, spec: VoxcelebLogMelSpec): string {
  const { fftSize, windowLength, hopLength } = VOXCELEB_STFT;
  const bins = fftSize / 2 + 1;
  const half = fftSize / 2;
  const windowOffset = (fftSize - windowLength) / 2;
  let x = wave;
  if (spec.preEmphasis !== undefined) x = preEmphasis(g, x, spec.preEmphasis, 'torchfb.preemphasis');
  const channel = g.op('Unsqueeze', [x, g.ints([1])], {}, 'torchfb.wave'); // [B, 1, S]
  const padded = g.op('Pad', [channel, g.ints([0, 0, half, 0, 0, half])], { mode: 'reflect' }, 'torchfb.padded');
  // Keep the samples frames 0 … ⌊S/160⌋ read: from 56 to ⌊S/160⌋·160 + 456 of the padded signal.
  const lastStart = g.op('Mul', [g.op('Div', [sampleCount(g, wave), g.ints([hopLength])]), g.ints([hopLength])]);
  const end = g.op('Add', [lastStart, g.ints([windowOffset + windowLength])], {}, 'torchfb.end');
  const framed = g.op('Slice', [padded, g.ints([windowOffset]), end, g.ints([2])], {}, 'torchfb.span');
  const kernel = g.initializer('torchfb.dft_basis', dftKernel(spec.window, fftSize, windowOffset), [2 * bins, 1, windowLength]);
  const spectrum = g.op('Conv', [framed, kernel], { kernel_shape: [windowLength], strides: [hopLength] }, 'torchfb.stft'); // [B, 514, T]
  const re = g.op('Slice', [spectrum, g.ints([0]), g.ints([bins]), g.ints([1])], {}, 'torchfb.re');
  const im = g.op('Slice', [spectrum, g.ints([bins]), g.ints([TO_END]), g.ints([1])], {}, 'torchfb.im');
  const power = g.op('Add', [g.op('Mul', [re, re]), g.op('Mul', [im, im])], {}, 'torchfb.power'); // [B, 257, T]
  const fbT = g.initializer('torchfb.mel_scale.fb_t', transpose2d(spec.melFilterbank, bins, spec.numMels), [spec.numMels, bins]);
  const melPower = g.op('MatMul', [fbT, power], {}, 'torchfb.mel'); // [B, M, T]
  let logMel = g.op('Add', [melPower, g.scalar(VOXCELEB_STFT.logOffset)], {}, 'torchfb.offset');
  if (spec.logInput) logMel = g.op('Log', [logMel], {}, 'torchfb.log');
  const ones = g.constant(new Float32Array(spec.numMels).fill(1));
  const zeros = g.constant(new Float32Array(spec.numMels));
  return g.op('InstanceNormalization', [logMel, ones, zeros], { epsilon: { f: INSTANCE_NORM_EPS } }, 'instancenorm');
}

export { TO_END };
