/**
 * Export for sherpa-onnx's `SpeakerEmbeddingExtractor` (its "general" wespeaker / 3d-speaker
 * path). What sherpa-onnx does with a model, from sherpa-onnx/csrc/speaker-embedding-extractor-*:
 *
 * - reads the metadata keys `framework` ("wespeaker" or "3d-speaker", anything else is refused),
 *   `output_dim`, `sample_rate`, `normalize_samples` (integers; a missing one ends the process),
 *   `language` (non-empty string, also required) and `feature_normalize_type` (optional: "" or
 *   "global-mean"; another value ends the process);
 * - computes 80-bin Kaldi fbank with kaldi-native-fbank at `sample_rate` (Povey window, 25/10 ms,
 *   20 Hz to Nyquist − 400 Hz, dither 0, snip_edges false), on samples ×32768 when
 *   `normalize_samples` is 0 and as they are when it is 1;
 * - subtracts the mean frame when `feature_normalize_type` is "global-mean";
 * - feeds the whole utterance as the model's single input [1, T, 80] and takes output 0, [1, dim].
 *
 * So only an encoder whose own front end is exactly that fbank can be exported: voxkit's
 * `frontend: 'kaldi-fbank'` ResNets with 80 bands. The metadata values are derived from the
 * encoder's front end (never typed in), and checked, with the graph's input and output, before any
 * byte is returned. Browser-safe.
 */
import { VoxkitError } from '../../errors.js';
import type { KaldiFbankSpec } from '../../features/feature-spec.js';
import type { SpeakerEncoder } from '../../models/encoder.js';
import { kaldiFbankSpecOf } from '../../models/layers/kaldi-fbank-buffers.js';
import { decodeModelSummary } from './graph.js';
import { type OnnxExport, exportOnnx } from './export.js';

/** The `framework` values sherpa-onnx runs through its general speaker-embedding path. */
export const SHERPA_ONNX_FRAMEWORKS = ['wespeaker', '3d-speaker'] as const;
export type SherpaOnnxFramework = (typeof SHERPA_ONNX_FRAMEWORKS)[number];

/** Feature dimension sherpa-onnx computes for speaker models (its FeatureExtractorConfig default). */
export const SHERPA_ONNX_FEATURE_DIM = 80;

/** Metadata keys sherpa-onnx reads; every one but feature_normalize_type is required. */
export const SHERPA_ONNX_REQUIRED_KEYS = ['framework', 'output_dim', 'sample_rate', 'normalize_samples', 'language', 'feature_normalize_type'] as const;

export interface SherpaOnnxExportOptions {
  /** `language` metadata (sherpa-onnx requires a non-empty value); default "English". */
  language?: string;
  /** `framework` metadata; default "wespeaker" (both values run the same code in sherpa-onnx). */
  framework?: SherpaOnnxFramework;
  /** Extra metadata_props (source checkpoint, comment, url …). */
  metadata?: Record<string, string>;
}

/**
 * Checks sherpa-onnx's metadata keys and values; throws E_USAGE naming the first bad key.
 * `expected` (from the encoder) pins output_dim and sample_rate.
 */
export function validateSherpaOnnxMetadata(metadata: Readonly<Record<string, string | undefined>>, expected?: { outputDim: number; sampleRateHz: number }): void {
  const bad = (key: string, why: string): never => {
    throw new VoxkitError('E_USAGE', `sherpa-onnx metadata "${key}" ${why}`);
  };
  for (const key of SHERPA_ONNX_REQUIRED_KEYS) {
    if (metadata[key] === undefined) bad(key, 'is missing (sherpa-onnx exits on a model without it)');
  }
  const framework = metadata.framework!;
  if (!(SHERPA_ONNX_FRAMEWORKS as readonly string[]).includes(framework)) bad('framework', `must be ${SHERPA_ONNX_FRAMEWORKS.join(' or ')}, got "${framework}"`);
  const positiveInteger = (key: string): number => {
    const text = metadata[key]!;
    if (!/^[1-9][0-9]*$/.test(text)) bad(key, `must be a positive integer, got "${text}"`);
    return Number(text);
  };
  const outputDim = positiveInteger('output_dim');
  const sampleRate = positiveInteger('sample_rate');
  if (expected && outputDim !== expected.outputDim) bad('output_dim', `is ${outputDim} but the encoder's embeddings have ${expected.outputDim} values`);
  if (expected && sampleRate !== expected.sampleRateHz) bad('sample_rate', `is ${sampleRate} but the encoder expects ${expected.sampleRateHz} Hz`);
  if (metadata.normalize_samples !== '0' && metadata.normalize_samples !== '1') bad('normalize_samples', `must be 0 (samples ×32768) or 1 (samples in [-1, 1]), got "${metadata.normalize_samples}"`);
  if (!metadata.language!.trim()) bad('language', 'must not be empty (sherpa-onnx treats an empty value as missing)');
  const normalizeType = metadata.feature_normalize_type!;
  if (normalizeType !== '' && normalizeType !== 'global-mean') bad('feature_normalize_type', `must be "" or "global-mean", got "${normalizeType}"`);
}

/** Throws E_USAGE unless the encoder's front end is the fbank sherpa-onnx computes. */
export function sherpaOnnxFbankSpec(encoder: SpeakerEncoder): KaldiFbankSpec {
  const spec = encoder.featureSpec();
  if (spec.kind !== 'kaldi-fbank') {
    throw new VoxkitError(
      'E_USAGE',
      `${encoder.architecture} takes ${spec.kind} features; sherpa-onnx feeds its models 80-bin Kaldi fbank. ` +
        `Train a ResNetSE34L or ResNetSE34V2 with --model-option frontend=kaldi-fbank (80 bands by default) to export to sherpa-onnx, or use --format onnx without --target`,
    );
  }
  if (spec.numMelBins !== SHERPA_ONNX_FEATURE_DIM) {
    throw new VoxkitError('E_USAGE', `${encoder.architecture} takes ${spec.numMelBins}-bin fbank; sherpa-onnx computes ${SHERPA_ONNX_FEATURE_DIM} bins (train with numMels=${SHERPA_ONNX_FEATURE_DIM})`);
  }
  // The options must be exactly the ones sherpa-onnx uses, apart from the two it lets a model choose.
  const reference = kaldiFbankSpecOf(spec.source, spec.sampleRateHz, { numMelBins: SHERPA_ONNX_FEATURE_DIM, inputScale: spec.options.inputScale ?? 1, subtractMean: spec.options.subtractMean ?? false });
  if (JSON.stringify(reference.options) !== JSON.stringify(spec.options)) {
    throw new VoxkitError('E_USAGE', `${encoder.architecture}: its fbank settings differ from sherpa-onnx's (${JSON.stringify(spec.options)})`);
  }
  return spec;
}

/** sherpa-onnx's metadata for an encoder on its fbank. */
export function sherpaOnnxMetadata(encoder: SpeakerEncoder, spec: KaldiFbankSpec, options: SherpaOnnxExportOptions = {}): Record<string, string> {
  return {
    framework: options.framework ?? 'wespeaker',
    output_dim: String(encoder.embeddingDim),
    sample_rate: String(spec.sampleRateHz),
    normalize_samples: spec.options.inputScale === 32768 ? '0' : '1',
    language: options.language ?? 'English',
    feature_normalize_type: spec.options.subtractMean ? 'global-mean' : '',
    comment: `${encoder.architecture} speaker encoder on 80-bin Kaldi fbank, exported by voxkit`,
  };
}

/**
 * The encoder as a sherpa-onnx speaker-embedding model: input `x` [B, T, 80] (fbank), output
 * `embedding` [B, dim], voxkit's metadata plus sherpa-onnx's keys, all checked.
 */
export function exportSherpaOnnx(encoder: SpeakerEncoder, options: SherpaOnnxExportOptions = {}): OnnxExport {
  const spec = sherpaOnnxFbankSpec(encoder);
  const sherpa = sherpaOnnxMetadata(encoder, spec, options);
  validateSherpaOnnxMetadata(sherpa, { outputDim: encoder.embeddingDim, sampleRateHz: encoder.sampleRateHz });
  const exported = exportOnnx(encoder, { frontend: 'separate', metadata: { ...options.metadata, ...sherpa } });
  checkSherpaOnnxModel(exported.bytes, { outputDim: encoder.embeddingDim, sampleRateHz: encoder.sampleRateHz });
  return exported;
}

/**
 * Checks serialised model bytes the way sherpa-onnx will use them: the metadata, one input
 * [batch, time, 80] and output 0 [batch, dim]. Throws E_USAGE naming the problem.
 */
export function checkSherpaOnnxModel(bytes: Uint8Array, expected?: { outputDim: number; sampleRateHz: number }): void {
  const summary = decodeModelSummary(bytes);
  validateSherpaOnnxMetadata(summary.metadata, expected);
  if (summary.inputs.length !== 1) throw new VoxkitError('E_USAGE', `sherpa-onnx feeds one input; the graph has ${summary.inputs.length}`);
  const input = summary.inputs[0].dims;
  if (input.length !== 3 || typeof input[0] !== 'string' || typeof input[1] !== 'string' || input[2] !== SHERPA_ONNX_FEATURE_DIM) {
    throw new VoxkitError('E_USAGE', `sherpa-onnx feeds [batch, frames, ${SHERPA_ONNX_FEATURE_DIM}]; the graph input is [${input.join(', ')}]`);
  }
  const output = summary.outputs[0]?.dims ?? [];
  if (output.length !== 2 || typeof output[0] !== 'string' || String(output[1]) !== summary.metadata.output_dim) {
    throw new VoxkitError('E_USAGE', `sherpa-onnx reads output 0 as [batch, output_dim = ${summary.metadata.output_dim}]; the graph's is [${output.join(', ')}]`);
  }
}
