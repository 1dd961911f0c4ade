/**
 * `voxkit export`: a checkpoint to an `.onnx` file, written under a temporary name, loaded back in
 * ONNX Runtime and compared with the tfjs model on a probe input, and only then renamed into place.
 */
import { readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { VoxkitError } from '../../errors.js';
import { Random } from '../../core/random.js';
import { computeFeatures } from '../../features/feature-spec.js';
import { loadEncoder } from '../../api/load-encoder-node.js';
import { writeFileAtomic } from '../../io/atomic-write-node.js';
import type { SpeakerEncoder } from '../../models/encoder.js';
import type { MelFrames } from '../../models/rtvc-encoder.js';
import { sha256Hex } from '../../train/checkpoint-node.js';
import { loadOnnxRuntime } from '../../engine/ort-node.js';
import { type FrontendLocation, type OnnxExport, exportOnnx } from './export.js';
import { type SherpaOnnxFramework, exportSherpaOnnx } from './sherpa-onnx.js';

/** What the file is for: any ONNX runtime (voxkit's layout), or sherpa-onnx's speaker-embedding extractor. */
export type ExportTarget = 'onnx' | 'sherpa-onnx';

export interface ExportOnnxFileOptions {
  /** Architecture, when the checkpoint does not say. */
  model?: string;
  frontend?: FrontendLocation;
  /** Skip the ONNX Runtime round trip (it is also skipped when onnxruntime-node is missing). */
  skipCheck?: boolean;
  /** 'sherpa-onnx': fbank input `x` [B, T, 80] and sherpa-onnx's metadata keys (see sherpa-onnx.ts). */
  target?: ExportTarget;
  /** sherpa-onnx `language` metadata (default English). */
  language?: string;
  /** sherpa-onnx `framework` metadata (default wespeaker). */
  framework?: SherpaOnnxFramework;
}

export interface ExportOnnxFileResult {
  file: string;
  architecture: string;
  bytes: number;
  exported: OnnxExport;
  /** The ONNX Runtime self-check: largest |ORT − tfjs| on the probe input, relative to max |tfjs|. */
  check?: { maxAbsDiff: number; maxRef: number; batch: number; inputShape: number[] };
  /** Why the self-check did not run, when it did not. */
  checkSkipped?: string;
}

/** Largest |ORT − tfjs| allowed in the self-check, as a fraction of max |tfjs|: a wrong graph is off by O(1). */
export const SELF_CHECK_TOLERANCE = 1e-3;

/** Two 1.5 s probe signals (a chirp and a noisy vowel-like buzz), seeded. */
function probeWaves(sampleRateHz: number): Float32Array[] {
  const random = new Random(20261122);
  const n = Math.round(1.5 * sampleRateHz);
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRateHz;
    a[i] = 0.3 * Math.sin(2 * Math.PI * (150 * t + 400 * t * t)) + 0.01 * random.normal();
    let buzz = 0;
    for (let h = 1; h <= 8; h++) buzz += Math.sin(2 * Math.PI * 120 * h * t) / h;
    b[i] = 0.1 * buzz + 0.02 * random.normal();
  }
  return [a, b];
}

/** The probe input of the exported graph and the tfjs model's embeddings of it. */
function probe(encoder: SpeakerEncoder, exported: OnnxExport): { data: Float32Array; shape: number[]; expected: Float32Array } {
  const waves = probeWaves(encoder.sampleRateHz);
  let data: Float32Array;
  let shape: number[];
  switch (exported.inputKind) {
    case 'waveform':
      ({ data, shape } = computeFeatures({ kind: 'waveform', source: encoder.architecture, sampleRateHz: encoder.sampleRateHz }, waves));
      break;
    case 'voxceleb-logmel':
    case 'kaldi-fbank':
      ({ data, shape } = computeFeatures(encoder.featureSpec(), waves));
      break;
    case 'rtvc-mel': {
      const mels = waves.map((w) => (encoder as unknown as { melFrames(w: Float32Array): MelFrames }).melFrames(w));
      shape = [mels.length, mels[0].frames, mels[0].numMels];
      data = new Float32Array(mels.length * mels[0].data.length);
      mels.forEach((m, i) => data.set(m.data, i * m.data.length));
      break;
    }
    default: {
      const random = new Random(7);
      const numFeats = (encoder as unknown as { config: { numFeats: number } }).config.numFeats;
      shape = [2, 100, numFeats];
      data = Float32Array.from({ length: 2 * 100 * numFeats }, () => 0.7 * random.uniform());
    }
  }
  const expected = tf.tidy(() => {
    const out = ['waveform', 'voxceleb-logmel', 'kaldi-fbank'].includes(exported.inputKind) ? encoder.embed(waves) : encoder.forward(tf.tensor(data, shape));
    return out.dataSync() as Float32Array;
  });
  return { data, shape, expected };
}

/**
 * Exports the checkpoint `weights` to `out` (ONNX). The file appears under its final name only
 * after ONNX Runtime has loaded it and reproduced the tfjs embeddings of a probe input.
 */
export async function exportOnnxFile(weights: string, out: string, options: ExportOnnxFileOptions = {}): Promise<ExportOnnxFileResult> {
  const loaded = await loadEncoder(weights, { model: options.model });
  const { encoder } = loaded;
  try {
    const checkpointBytes = await readFile(weights);
    const metadata = { source_checkpoint: basename(weights), source_sha256: sha256Hex(checkpointBytes) };
    let exported: OnnxExport;
    if (options.target === 'sherpa-onnx') {
      if (options.frontend === 'inside') throw new VoxkitError('E_USAGE', 'sherpa-onnx computes the fbank itself: --target sherpa-onnx takes no --frontend inside');
      exported = exportSherpaOnnx(encoder, { language: options.language, framework: options.framework, metadata });
    } else {
      if (options.language !== undefined || options.framework !== undefined) throw new VoxkitError('E_USAGE', '--language and --framework are sherpa-onnx metadata; add --target sherpa-onnx');
      exported = exportOnnx(encoder, { frontend: options.frontend, metadata });
    }
    const temporary = join(dirname(out), `.${basename(out)}.${process.pid}.${Date.now().toString(36)}.tmp`);
    await writeFileAtomic(temporary, exported.bytes, 'ONNX model');
    const result: ExportOnnxFileResult = { file: out, architecture: encoder.architecture, bytes: exported.bytes.length, exported };
    try {
      const ort = options.skipCheck ? undefined : await loadOnnxRuntime();
      if (!ort) {
        result.checkSkipped = options.skipCheck ? 'skipped on request' : 'onnxruntime-node is not installed';
      } else {
        const session = await ort.InferenceSession.create(temporary, { intraOpNumThreads: 1 });
        try {
          const input = probe(encoder, exported);
          const outputs = await session.run({ [exported.inputName]: new ort.Tensor('float32', input.data, input.shape) });
          const actual = outputs[exported.outputNames[0]].data as Float32Array;
          let maxAbsDiff = actual.length === input.expected.length ? 0 : Infinity;
          let maxRef = 0;
          for (let i = 0; i < input.expected.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(input.expected[i]));
            const d = Math.abs(actual[i] - input.expected[i]);
            maxAbsDiff = Number.isNaN(d) ? Infinity : Math.max(maxAbsDiff, d);
          }
          result.check = { maxAbsDiff, maxRef, batch: input.shape[0], inputShape: input.shape };
          if (!(maxAbsDiff <= SELF_CHECK_TOLERANCE * Math.max(maxRef, 1e-6))) {
            throw new VoxkitError(
              'E_CHECKPOINT',
              `the exported model does not reproduce the original: max |ONNX Runtime − tfjs| = ${maxAbsDiff.toExponential(2)} (max |embedding| ${maxRef.toPrecision(3)}); nothing written`,
              { file: weights },
            );
          }
        } finally {
          await session.release();
        }
      }
      await rename(temporary, out).catch((cause) => {
        throw new VoxkitError('E_IO', `${out}: cannot write the ONNX model (${(cause as NodeJS.ErrnoException).code ?? cause})`, { file: out, cause });
      });
    } catch (err) {
      await unlink(temporary).catch(() => undefined);
      if (err instanceof VoxkitError) throw err;
      throw new VoxkitError('E_CHECKPOINT', `ONNX Runtime could not run the exported model: ${(err as Error).message}`, { file: weights, cause: err });
    }
    return result;
  } finally {
    encoder.dispose();
  }
}
