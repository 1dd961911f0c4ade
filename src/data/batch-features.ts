/**
 * From loaded utterances to one batch of network input: crop each item (its position drawn from
 * the item's seed) and compute the features of the spec. Pure, so it runs in worker threads, in
 * browsers and in tests; the order of the output rows is the order of the items.
 */
import { Random } from '../core/random.js';
import { VoxkitError } from '../errors.js';
import { type FeatureBatch, type FeatureSpec, computeFeatures, rtvcMelFrames } from '../features/feature-spec.js';
import { type FrameMatrix, featureFramesCrop, partialUtteranceCrop, trainingCropSamples, voxcelebTrainingCrop } from './crops.js';
import { type AugmentPlan, type BatchAugmentation, applySpecAugment, applyWaveAugmentation, planAugmentation, speedPerturb, speedPerturbedCrop } from './augment/augment.js';

/**
 * How training items are cut:
 * - `samples`: voxceleb_trainer crops of maxFrames·160 + 240 samples, features of the crop
 *   (voxceleb log-mel, Kaldi fbank, waveform and RTVC mel specs);
 * - `frames`: numFrames feature frames of the whole utterance (RTVC partial utterances from an
 *   rtvc-mel spec; windows of precomputed frames for a frames spec).
 */
export type CropSpec = { readonly mode: 'samples'; readonly maxFrames: number } | { readonly mode: 'frames'; readonly numFrames: number };

/** The crop the original project uses with this kind of front end, for a length in frames. */
export function defaultCropFor(spec: FeatureSpec, frames: number): CropSpec {
  return spec.kind === 'rtvc-mel' || spec.kind === 'frames' ? { mode: 'frames', numFrames: frames } : { mode: 'samples', maxFrames: frames };
}

/** Throws unless the crop mode suits the spec. */
export function checkCropForSpec(spec: FeatureSpec, crop: CropSpec): void {
  const length = crop.mode === 'samples' ? crop.maxFrames : crop.numFrames;
  if (!Number.isInteger(length) || length < 1) {
    throw new VoxkitError('E_CONFIG', `crop length must be a positive number of frames, got ${length}`);
  }
  if (crop.mode === 'frames' && spec.kind !== 'rtvc-mel' && spec.kind !== 'frames') {
    throw new VoxkitError(
      'E_CONFIG',
      `${spec.source}: frame-window crops need per-frame features (rtvc-mel or feature frames); ${spec.kind} features are computed on sample crops`,
    );
  }
  if (crop.mode === 'samples' && spec.kind === 'frames') {
    throw new VoxkitError('E_CONFIG', `${spec.source}: precomputed feature frames are cut in frames, not samples`);
  }
}

/** One loaded utterance: audio samples, or feature frames for a frames spec. */
export type ItemSource = { readonly samples: Float32Array } | { readonly frames: FrameMatrix };

/** What the item's random numbers decide: the crop position u ∈ [0, 1). */
export function cropUniform(seed: number): number {
  return new Random(seed).uniform();
}

function samplesOf(source: ItemSource, spec: FeatureSpec): Float32Array {
  if (!('samples' in source)) throw new VoxkitError('E_USAGE', `${spec.source}: expected audio samples for ${spec.kind} features, got feature frames`);
  return source.samples;
}

/** Throws unless the spec's input can be augmented this way. */
export function checkAugmentationForSpec(spec: FeatureSpec, augmentation: Pick<BatchAugmentation, 'settings'>): void {
  if (spec.kind === 'frames') throw new VoxkitError('E_CONFIG', `${spec.source}: precomputed feature frames cannot be augmented (no waveform)`);
  if (augmentation.settings.specAugment && !(spec.kind === 'voxceleb-logmel' && spec.logInput)) {
    const why = spec.kind === 'voxceleb-logmel' ? 'this front end takes no log' : spec.kind === 'kaldi-fbank' ? 'only in the voxceleb [mels, frames] layout, not on fbank frames' : `${spec.kind} features are not log-mel`;
    throw new VoxkitError('E_CONFIG', `${spec.source}: SpecAugment masks log-mel features; ${why}`);
  }
}

/**
 * Features of a batch: [items, …] in item order, shapes as `computeFeatures` (samples mode), or
 * [items, numFrames, bands] (frames mode).
 * @param seeds one per source: the item seeds of the sampled batch
 * @param augmentation noise/reverb/speed before the features and SpecAugment after them, per item seed
 */
export function batchFeatures(
  spec: FeatureSpec,
  crop: CropSpec,
  sources: readonly ItemSource[],
  seeds: readonly number[],
  augmentation?: BatchAugmentation,
): FeatureBatch {
  checkCropForSpec(spec, crop);
  if (sources.length !== seeds.length) throw new VoxkitError('E_USAGE', `batchFeatures: ${sources.length} sources but ${seeds.length} seeds`);
  if (augmentation) checkAugmentationForSpec(spec, augmentation);
  // Augmentation draws from the item's seed on a stream of its own: the crop position is unchanged.
  const plans: Array<AugmentPlan | undefined> = seeds.map((seed) => (augmentation ? planAugmentation(seed, augmentation.settings, augmentation.sets) : undefined));
  if (crop.mode === 'samples') {
    const crops = sources.map((source, i) => {
      const plan = plans[i];
      if (!plan || !augmentation) return voxcelebTrainingCrop(samplesOf(source, spec), crop.maxFrames, cropUniform(seeds[i]));
      const cut = speedPerturbedCrop(samplesOf(source, spec), trainingCropSamples(crop.maxFrames), plan.speed, cropUniform(seeds[i]));
      return applyWaveAugmentation(cut, plan, augmentation.audio);
    });
    const features = computeFeatures(spec, crops);
    const specAugment = augmentation?.settings.specAugment;
    if (specAugment && spec.kind === 'voxceleb-logmel') {
      const [, bands, frames] = features.shape;
      plans.forEach((plan, i) => applySpecAugment(features.data.subarray(i * bands * frames, (i + 1) * bands * frames), bands, frames, plan as AugmentPlan, specAugment));
    }
    return features;
  }
  const { numFrames } = crop;
  if (spec.kind === 'rtvc-mel') {
    const bands = spec.numMels;
    const data = new Float32Array(sources.length * numFrames * bands);
    sources.forEach((source, i) => {
      const plan = plans[i];
      const wave = plan ? speedPerturb(samplesOf(source, spec), plan.speed) : samplesOf(source, spec);
      const partial = partialUtteranceCrop(wave, numFrames, cropUniform(seeds[i]));
      const samples = plan && augmentation ? applyWaveAugmentation(partial.samples, plan, augmentation.audio) : partial.samples;
      const mel = rtvcMelFrames(spec, samples);
      const from = partial.frameOffset * bands;
      data.set(mel.data.subarray(from, from + numFrames * bands), i * numFrames * bands);
    });
    return { data, shape: [sources.length, numFrames, bands] };
  }
  if (spec.kind !== 'frames') throw new VoxkitError('E_CONFIG', `${spec.source}: no frame-window crops for ${spec.kind} features`);
  const data = new Float32Array(sources.length * numFrames * spec.numFeats);
  sources.forEach((source, i) => {
    if (!('frames' in source)) throw new VoxkitError('E_USAGE', `${spec.source}: expected feature frames, got audio samples`);
    const window = featureFramesCrop(source.frames, numFrames, spec.numFeats, cropUniform(seeds[i]));
    data.set(window.data, i * numFrames * spec.numFeats);
  });
  return { data, shape: [sources.length, numFrames, spec.numFeats] };
}
