/** Feature front-ends: FFT, windows, mel filterbanks, voxceleb_trainer log-mel, RTVC mel and Kaldi fbank. */
export { ComplexFft, RealFft, getRealFft } from './fft.js';
export {
  periodicWindow,
  periodicHannWindow,
  periodicHammingWindow,
  periodicHannWindowFloat64,
  padWindowCentered,
  symmetricHannWindow,
  symmetricHammingWindow,
  poveyWindow,
} from './window.js';
export {
  htkMelFilterbank,
  slaneyMelFilterbank,
  hzToMelHtk,
  melToHzHtk,
  hzToMelSlaney,
  melToHzSlaney,
} from './mel.js';
export type { HtkMelFilterbankOptions, SlaneyMelFilterbankOptions } from './mel.js';
export { torchLinspaceFloat32 } from './torch-linspace.js';
export { SparseFilterbank } from './sparse-filterbank.js';
export { centeredFrameCount, reflectIndex, fillWindowedFrame } from './framing.js';
export type { PadMode, WindowedFrameOptions } from './framing.js';
export { instanceNormRowsInPlace, INSTANCE_NORM_EPS } from './instance-norm.js';
export { preEmphasis, VOXCELEB_PRE_EMPHASIS } from './pre-emphasis.js';
export {
  voxcelebLogMel,
  voxcelebLogMelBatch,
  prepareVoxcelebFrontend,
  VOXCELEB_FRONTENDS,
  VOXCELEB_STFT,
} from './voxceleb-logmel.js';
export type {
  VoxcelebLogMelOptions,
  VoxcelebLogMelResult,
  VoxcelebStage,
  VoxcelebWindowKind,
  VoxcelebFrontend,
  WaveBatch,
} from './voxceleb-logmel.js';
export { rtvcMel, rtvcMelBasis, RTVC_MEL } from './rtvc-mel.js';
export type { RtvcMelOptions, RtvcMelResult } from './rtvc-mel.js';
export {
  KaldiFbank,
  kaldiFbank,
  kaldiMelBanks,
  kaldiWindow,
  kaldiMelScale,
  kaldiInverseMelScale,
  subtractColumnMeans,
  KALDI_FBANK_PRESETS,
  KALDI_FBANK_EPSILON,
} from './kaldi-fbank.js';
export type { KaldiFbankOptions, KaldiFbankResult, KaldiWindowType, GaussianSource } from './kaldi-fbank.js';
