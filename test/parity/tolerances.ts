/**
 * Tolerances of the parity suite, from the table "Observed tolerances" of FIXTURES.md (float32
 * re-implementation against the PyTorch originals). These are bounds, not expected values: every
 * expected value is read from the fixture folder.
 */
import type { Tolerance } from '../helpers/close.js';

export const TOL = {
  /**
   * voxceleb_trainer mel power (torchaudio MelSpectrogram). torch's float32 FFT errs relative to the
   * frame's energy (FIXTURES.md §7: ~1e-7 relative to the maximum), so quiet bands beside loud ones
   * also get 1e-6 of the array's max |y| on top of the element-wise rtol.
   */
  melPower: { rtol: 1e-5, atol: 1e-7, rtolMax: 1e-6 } as Tolerance,
  /**
   * Periodic Hann/Hamming windows: one float32 ulp of values in [0.5, 1) (torch evaluates cos with
   * its vectorised 1-ulp float32 routine).
   */
  window: { atol: 2 ** -24 } as Tolerance,
  /**
   * torchaudio's HTK filterbank (float32, peak 1): torch's vectorised float32 pow moves a few
   * corner frequencies by 1–2 ulps, which the triangle slopes divide by the band width.
   */
  htkFilterbank: { atol: 1e-5 } as Tolerance,
  /**
   * Mel power through our own HTK filterbank rather than the model's buffer: the few weights that
   * `htkFilterbank` allows to differ change single bands by up to ~5e-5 relative.
   */
  melPowerOwnFilterbank: { rtol: 1e-4, atol: 1e-7, rtolMax: 1e-6 } as Tolerance,
  /** log-mel and instance-normalised features. */
  logMel: { atol: 2e-3 } as Tolerance,
  /** ResNetSE34L / V2 / VGGVox embeddings. */
  cnnEmbedding: { atol: 1e-5 } as Tolerance,
  /**
   * Their per-layer activations (|x| up to ~5): the embedding budget (1e-5 at |y| ≲ 3.5, i.e.
   * ~3e-6 of the scale) applied relative to each layer's max |x|.
   */
  cnnIntermediate: { atol: 1e-5, rtolMax: 3e-6 } as Tolerance,
  /** RawNet3 embeddings. */
  rawnet3Embedding: { atol: 5e-3, rtol: 5e-3 } as Tolerance,
  /**
   * RawNet3 front end before the log (normalised waveform, sinc filters, sinc conv output): plain
   * float32 arithmetic like the mel power (rtol 1e-5), taken relative to the array's max |y|
   * because filters and conv outputs cross zero.
   */
  rawnet3FrontEnd: { rtolMax: 1e-5 } as Tolerance,
  /**
   * RawNet3 layer outputs after ln(|sinc| + 1e-6): the RawNet3 tolerance (5e-3) relative to each
   * array's max |y| (layers are not unit-scaled like the embedding; attention weights are ≪ 1).
   */
  rawnet3Intermediate: { rtolMax: 5e-3 } as Tolerance,
  /** RTVC and singer encoder outputs. */
  lstmEmbedding: { atol: 1e-6 } as Tolerance,
  /** RTVC librosa mel. */
  rtvcMel: { rtol: 1e-5, atol: 1e-9 } as Tolerance,
  /** Pre-emphasis, volume normalisation and other waveform arithmetic (float32). */
  waveform: { atol: 1e-6 } as Tolerance,
  /** Loss values. */
  lossValue: { rtol: 1e-5 } as Tolerance,
  /**
   * Loss gradients. Gradient elements are sums that partly cancel, so float32 summation order
   * errs relative to the array's scale: FIXTURES.md §7's "≤ 5.5e-6 relative" (and the fixtures'
   * `f32_vs_f64.grad_x.max_abs_over_max_ref`) is relative to max |grad|, hence rtolMax.
   */
  lossGrad: { rtol: 1e-4, rtolMax: 1e-5 } as Tolerance,
  /**
   * Gradient of a bias added to every logit of a softmax row (angleproto/ge2e `b`): exactly 0,
   * since softmax is shift-invariant (FIXTURES.md §7); both sides hold float32 rounding noise of
   * Σ softmax − 1 (a few ulps of 1 per row).
   */
  lossGradShiftInvariantBias: { atol: 1e-6 } as Tolerance,
  /**
   * Gradients through squared-distance logits (proto: −‖q − p‖² of order 10³, far from the unit
   * scale of cosine logits): each logit carries float32 rounding of ~1e-4, which the softmax turns
   * into relative gradient error. The fixture's own f32-vs-f64 gradient differs by up to 2.2e-6 of
   * max |grad| (proto_M3 `f32_vs_f64`); a float32 implementation with another summation order
   * lands 0.6–1.4e-5 of max |grad| from float64, so the two can be ~2e-5 apart.
   */
  lossGradDistanceLogits: { rtol: 1e-4, rtolMax: 4e-5 } as Tolerance,
  /**
   * Gradients of the one-step training fixture, element-wise relative to the tensor's max |g|.
   *
   * In train mode BatchNorm normalises by batch statistics, so an error in a statistic (or in
   * the network input) reaches every later activation and gradient. What makes this fixture
   * loose is not the network's arithmetic but ReLU decisions taken at rounding-level margins: each
   * block's conv → ReLU sees ~10⁵ values per layer, a few of them within 1e-6 of max |x| of zero,
   * and an input that differs by an ulp flips one or two of them (the SE squeeze pre-activations,
   * by contrast, stay ≥ 8e-5 from zero). A flip barely moves most gradients but shifts the tiny,
   * heavily cancelling SE-squeeze bias gradients by up to ~10 % of their max. Measured on the
   * seed-1 set (wasm backend; tfjs-cpu alike), max |Δg| / max |g_ref|:
   * - voxkit, own front end (normalised log-mels within 2.3e-5 of torchaudio's): median 2e-5,
   *   worst 9.4e-2;
   * - voxkit fed the features torchaudio computes on our test machine: median 1.5e-5, worst 1.3e-2;
   * - PyTorch 1.13 itself (same Debian build, same script, 1 thread) on our test machine: median
   *   1.5e-5, worst 1.1e-1 — its torchaudio front end already differs from the fixture machine's
   *   by ulps (other BLAS kernels for the mel projection), its conv kernels are CPU-specific, and
   *   it flips ReLUs the same way; in float64 on the same features it is within 2.8e-5 of its
   *   float32 run, so the spread is input sensitivity, not precision.
   * FIXTURES.md §7's 3.2e-6 is PyTorch against itself on one machine and identical input; no
   * re-implementation (nor PyTorch on other hardware) can get there without bit-identical
   * features and convolution summation order.
   */
  trainingGrad: { atol: 1e-9, rtolMax: 0.2 } as Tolerance,
  /** Adam's exp_avg_sq = (1−β2)·g²: twice the gradient's relative error. */
  trainingGradSquared: { atol: 1e-15, rtolMax: 0.4 } as Tolerance,
  /**
   * Parameters after one SGD step: FIXTURES.md §7's atol 5e-7, plus lr × the difference of the
   * gradients where the reference gradient is known (p − lr·g moves with g), else lr × the
   * gradient tolerance.
   */
  trainingSgdStep: { atol: 5e-7 } as Tolerance,
  /**
   * Parameters after one Adam step (FIXTURES.md §7 atol 3e-6, `__L__.b` excluded), plus the
   * difference of the first-step updates lr·g/(|g|+eps) of the two gradients where the reference
   * gradient is known (a gradient near 0 may take the other sign: up to 2·lr), else 2·lr.
   */
  trainingAdamStep: { atol: 3e-6 } as Tolerance,
  /**
   * BatchNorm running stats after the train-mode forward (0.1 × the batch statistics, which move
   * with the input features, see trainingGrad): measured 6.6e-7 (4.8e-7 given torchaudio's
   * features; PyTorch 1.13 on our test machine: 5.4e-7). FIXTURES.md §7's 1.2e-7 is PyTorch
   * against itself on one machine.
   */
  trainingBatchNormStats: { atol: 2e-6 } as Tolerance,
  /** Loss on the same batch after one SGD step (measured 3e-6 relative). */
  trainingLossAfterSgdStep: { rtol: 1e-4 } as Tolerance,
  /**
   * Loss on the same batch after one Adam step: parameters whose gradient is near 0 moved by ±lr
   * (measured 4.7e-4 relative; the step itself moved the loss by 32 %).
   */
  trainingLossAfterAdamStep: { rtol: 5e-3 } as Tolerance,
  /** Metrics (float64 throughout). */
  metric: { atol: 1e-12 } as Tolerance,
  /**
   * Kaldi fbank log energies: FIXTURES.md §10's atol 5e-3, to which the test adds the waveform's
   * `f32_vs_f64_max_abs`. torch's float32 FFT errs relative to the frame's energy, so bands far
   * below the frame's loudest one carry the reference's own noise, which depends on the audio: its
   * float32 and float64 runs differ by up to 2.6e-3 on the seed-1 waves but by 1.1e-2 on Flite
   * speech (sherpa_onnx variant; our distance to torch's float64 run stays ≤ 3.1e-3 on both).
   * Measured on the seed-1 set: max |diff| 1.8e-3 (wespeaker), 3.9e-3 (sherpa_onnx, a −0.6 band
   * beside a 23.4 one).
   */
  kaldiFbank: { atol: 5e-3 } as Tolerance,
  /**
   * Kaldi fbank bands within KALDI_FBANK_LOUD_BAND_NATS of their frame's loudest band, where that
   * noise is small: measured max |diff| 3.0e-5 on the seed-1 set.
   */
  kaldiFbankLoudBands: { atol: 2e-4 } as Tolerance,
} as const;

/** Log-energy distance below a frame's loudest band within which TOL.kaldiFbankLoudBands applies. */
export const KALDI_FBANK_LOUD_BAND_NATS = 10;

/**
 * Agreement of whole gradient tensors in the one-step training fixture (see TOL.trainingGrad):
 * cosine similarity to the reference for the full arrays (measured min 0.9997, median > 0.999999),
 * and the relative error of the L2 norm, the abs-sum and the sum (relative to the abs-sum):
 * median 4e-6, max 8.8e-2 (a 2-element SE squeeze bias after a block ReLU flipped upstream).
 */
export const TRAINING_GRAD_AGREEMENT = { minCosine: 0.999, sumRtol: 0.2 } as const;
