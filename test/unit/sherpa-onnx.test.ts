/**
 * sherpa-onnx target: encoders on Kaldi fbank (`frontend: 'kaldi-fbank'`) round-trip through
 * voxkit's checkpoint writer and reader, train with `--model-option frontend=kaldi-fbank`, and
 * `voxkit export --target sherpa-onnx` writes a model that sherpa-onnx-node's
 * SpeakerEmbeddingExtractor loads and runs on its own fbank, giving voxkit's embeddings (tfjs and
 * ONNX Runtime) for the same audio. Also the refusals: log-mel encoders, bad metadata.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/core/backend.js';
import { seedWeightInit } from '../../src/core/random.js';
import { VoxkitError } from '../../src/errors.js';
import { loadAudio } from '../../src/audio/load-node.js';
import { loadEncoder, disposeLoadedEncoder } from '../../src/api/load-encoder-node.js';
import { speakerNetStateDict } from '../../src/io/checkpoint-layout.js';
import { writeTorchCheckpoint } from '../../src/io/torch-writer.js';
import { computeFeatures } from '../../src/features/feature-spec.js';
import type { SpeakerEncoder } from '../../src/models/encoder.js';
import { ResNetSE34L } from '../../src/models/resnet-se34l.js';
import { ResNetSE34V2 } from '../../src/models/resnet-se34v2.js';
import { OrtEngine } from '../../src/engine/ort-node.js';
import { decodeModelSummary } from '../../src/export/onnx/graph.js';
import { exportOnnx } from '../../src/export/onnx/export.js';
import { SHERPA_ONNX_REQUIRED_KEYS, exportSherpaOnnx, validateSherpaOnnxMetadata } from '../../src/export/onnx/sherpa-onnx.js';
import { main } from '../../src/cli/main.js';
import { loadTrainConfig } from '../../src/train/config.js';
import { makeTinyCorpus } from './train-corpus.js';
import { perturbBatchNorms } from '../helpers/batch-norm.js';

const AUDIO = ['assets/examples/quick_brown_fox.wav', 'assets/examples/another_voice.wav'];
const DEMO_MODEL = 'assets/models/demo-resnetse34l.model';
/** Largest |sherpa-onnx − voxkit| allowed per embedding value (measured: below 1e-5 on |values| up to ~16). */
const MAX_ABS_DIFF = 1e-4;

interface SherpaExtractor {
  dim: number;
  createStream(): { acceptWaveform(w: { sampleRate: number; samples: Float32Array }): void; inputFinished(): void };
  isReady(stream: unknown): boolean;
  compute(stream: unknown, external?: boolean): Float32Array;
}
type SherpaModule = { SpeakerEmbeddingExtractor: new (config: Record<string, unknown>) => SherpaExtractor };

/** sherpa-onnx-node, or why it cannot load on this platform. */
function loadSherpa(): SherpaModule | string {
  try {
    return createRequire(import.meta.url)('sherpa-onnx-node') as SherpaModule;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) }, out, err };
}


function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

function tfjsEmbedding(encoder: SpeakerEncoder, wave: Float32Array): Float32Array {
  const out = encoder.embed([wave]);
  try {
    return out.dataSync() as Float32Array;
  } finally {
    out.dispose();
  }
}

function saveCheckpoint(encoder: SpeakerEncoder, file: string): void {
  writeFileSync(file, writeTorchCheckpoint(speakerNetStateDict(encoder.stateDict())));
}

let dir: string;
let waves: Float32Array[];

before(async () => {
  await useBackend();
  dir = mkdtempSync(join(tmpdir(), 'voxkit-sherpa-'));
  waves = await Promise.all(AUDIO.map(async (f) => (await loadAudio(f, { sampleRateHz: 16000 })).samples));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('encoders on Kaldi fbank', () => {
  test('take [B, T, 80] fbank frames with the utterance mean removed, and round-trip through a checkpoint', async () => {
    seedWeightInit(5);
    const encoder = new ResNetSE34L({ frontend: 'kaldi-fbank', channelsPerStage: [8, 16, 16, 16], blocksPerStage: [1, 1, 1, 1], embeddingDim: 24, fbankInputScale: 1 });
    perturbBatchNorms(encoder, 6);
    encoder.eval();
    const spec = encoder.featureSpec();
    assert.equal(spec.kind, 'kaldi-fbank');
    const { data, shape } = computeFeatures(spec, [waves[0]]);
    assert.deepEqual(shape, [1, Math.floor((waves[0].length + 80) / 160), 80], 'snip_edges false: one frame per 10 ms');
    for (let bin = 0; bin < 80; bin++) {
      let sum = 0;
      for (let t = 0; t < shape[1]; t++) sum += data[t * 80 + bin];
      assert.ok(Math.abs(sum / shape[1]) < 1e-4, `bin ${bin} has mean ${sum / shape[1]}`);
    }
    assert.ok(encoder.stateDict().has('fbank.settings'));
    assert.ok(![...encoder.stateDict().keys()].some((k) => k.startsWith('torchfb.')));

    const file = join(dir, 'fbank-34l.model');
    saveCheckpoint(encoder, file);
    const loaded = await loadEncoder(file);
    try {
      assert.equal(loaded.name, 'ResNetSE34L');
      const reloadedSpec = loaded.encoder.featureSpec();
      assert.deepEqual(reloadedSpec, spec, 'the front end (bins, input scale, CMN) travels with the weights');
      assert.deepEqual(tfjsEmbedding(loaded.encoder, waves[1]), tfjsEmbedding(encoder, waves[1]));
    } finally {
      disposeLoadedEncoder(loaded);
      encoder.dispose();
    }
  });

  test('training options: unknown front ends and SpecAugment on fbank are reported before training', () => {
    const base = { data: { trainList: join(dir, 'list.txt'), workers: 0 }, out: join(dir, 'never') };
    const bogus = loadTrainConfig({ overrides: { ...base, model: { name: 'ResNetSE34L', options: { frontend: 'mfcc' } } } as never });
    assert.match(bogus.problems.join('\n'), /frontend/);
    const masked = loadTrainConfig({ overrides: { ...base, model: { name: 'ResNetSE34V2', options: { frontend: 'kaldi-fbank' } }, augment: { specAugment: true } } as never });
    assert.match(masked.problems.join('\n'), /specAugment .* not available with model option frontend=kaldi-fbank/);
    const fine = loadTrainConfig({ overrides: { ...base, model: { name: 'ResNetSE34V2', options: { frontend: 'kaldi-fbank', fbankInputScale: 1 } } } as never });
    assert.deepEqual(fine.problems, []);
  });

  test('a log-mel checkpoint loaded into a fbank network is refused by name', async () => {
    const file = join(dir, 'logmel.model');
    seedWeightInit(1);
    const logMel = new ResNetSE34L({ channelsPerStage: [8, 16, 16, 16], blocksPerStage: [1, 1, 1, 1], embeddingDim: 8 });
    saveCheckpoint(logMel, file);
    logMel.dispose();
    const fbank = new ResNetSE34L({ frontend: 'kaldi-fbank', channelsPerStage: [8, 16, 16, 16], blocksPerStage: [1, 1, 1, 1], embeddingDim: 8 });
    const { loadCheckpointFile } = await import('../../src/io/load-checkpoint-node.js');
    const checkpoint = await loadCheckpointFile(file);
    assert.throws(() => fbank.loadStateDict(checkpoint.model, { file }), /fbank\.settings|torchfb/);
    fbank.dispose();
  });

  test('trains with --model-option frontend=kaldi-fbank, and the run exports to sherpa-onnx', async () => {
    const corpus = makeTinyCorpus(join(dir, 'corpus'), { speakers: 4, utterancesPerSpeaker: 3, seconds: 0.6, seed: 11 });
    const runs = join(dir, 'runs');
    const { io, err } = capture();
    const code = await main(
      [
        'train', '--model', 'ResNetSE34L', '--model-option', 'frontend=kaldi-fbank', '--model-option', 'numFilters=[8,8,16,16]',
        '--model-option', 'layers=[1,1,1,1]', '--embedding-dim', '16', '--loss', 'softmax', '--train-list', corpus.trainList,
        '--train-path', corpus.wavRoot, '--batch-size', '4', '--max-frames', '40', '--workers', '0', '--max-epoch', '1',
        '--max-steps', '2', '--out', runs, '--plain',
      ],
      io,
    );
    assert.equal(code, 0, err.join(''));
    const models = readdirSync(runs, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('latest.model'));
    assert.equal(models.length, 1, `checkpoints: ${models.join(', ')}`);
    const trained = await loadEncoder(join(runs, models[0]));
    try {
      const spec = trained.encoder.featureSpec();
      assert.equal(spec.kind, 'kaldi-fbank');
      const embedding = tfjsEmbedding(trained.encoder, waves[0]);
      assert.ok(embedding.every(Number.isFinite));
      const exported = exportSherpaOnnx(trained.encoder);
      assert.equal(exported.metadata.output_dim, '16');
    } finally {
      disposeLoadedEncoder(trained);
    }
  });
});

describe('voxkit export --target sherpa-onnx', () => {
  const sherpa = loadSherpa();
  const skip = typeof sherpa === 'string' ? `sherpa-onnx-node cannot load here: ${sherpa}` : false;
  if (skip) console.log(`# skipping the sherpa-onnx round trip: ${skip}`);

  for (const [name, build] of [
    ['ResNetSE34L', () => new ResNetSE34L({ frontend: 'kaldi-fbank', channelsPerStage: [8, 16, 16, 16], blocksPerStage: [1, 2, 1, 1], embeddingDim: 32 })],
    ['ResNetSE34V2', () => new ResNetSE34V2({ frontend: 'kaldi-fbank', channelsPerStage: [8, 16, 16, 16], blocksPerStage: [1, 1, 1, 1], embeddingDim: 32, attentionChannels: 16, fbankSubtractMean: false, fbankInputScale: 1 })],
  ] as const) {
    test(`${name}: sherpa-onnx-node embeds the audio as voxkit does (tfjs and ONNX Runtime)`, { skip }, async () => {
      seedWeightInit(name.length);
      const encoder: SpeakerEncoder = build();
      perturbBatchNorms(encoder, 9);
      encoder.eval();
      const weights = join(dir, `${name}.model`);
      saveCheckpoint(encoder, weights);
      const file = join(dir, `${name}.onnx`);
      const { io, out, err } = capture();
      const code = await main(['export', '-w', weights, '-o', file, '--target', 'sherpa-onnx', '--json'], io);
      assert.equal(code, 0, err.join(''));
      const summary = JSON.parse(out.join(''));
      assert.equal(summary.input, 'x');
      assert.deepEqual(summary.outputs, ['embedding']);
      const model = decodeModelSummary(readFileSync(file));
      assert.deepEqual(model.inputs[0].dims, ['B', 'T', 80]);
      assert.deepEqual(model.outputs[0].dims, ['B', 32]);
      const spec = encoder.featureSpec();
      assert.equal(spec.kind, 'kaldi-fbank');
      const subtractMean = spec.kind === 'kaldi-fbank' && spec.options.subtractMean === true;
      assert.equal(model.metadata.framework, 'wespeaker');
      assert.equal(model.metadata.output_dim, '32');
      assert.equal(model.metadata.sample_rate, '16000');
      assert.equal(model.metadata.normalize_samples, name === 'ResNetSE34L' ? '0' : '1');
      assert.equal(model.metadata.feature_normalize_type, subtractMean ? 'global-mean' : '');
      assert.equal(model.metadata.language, 'English');

      const extractor = new (sherpa as SherpaModule).SpeakerEmbeddingExtractor({ model: file, numThreads: 1, debug: false });
      assert.equal(extractor.dim, 32);
      const ort = await OrtEngine.create(encoder, { threads: 1 });
      try {
        for (const [i, wave] of waves.entries()) {
          const stream = extractor.createStream();
          stream.acceptWaveform({ sampleRate: 16000, samples: wave });
          stream.inputFinished();
          assert.ok(extractor.isReady(stream));
          const fromSherpa = Float32Array.from(extractor.compute(stream));
          const fromTfjs = tfjsEmbedding(encoder, wave);
          const [fromOrt] = await ort.embedWaves([wave]);
          const scale = Math.max(...fromTfjs.map(Math.abs));
          const vsTfjs = maxAbsDiff(fromSherpa, fromTfjs);
          const vsOrt = maxAbsDiff(fromSherpa, fromOrt);
          console.log(`# ${name} ${AUDIO[i]}: max |sherpa − tfjs| ${vsTfjs.toExponential(2)}, |sherpa − ORT| ${vsOrt.toExponential(2)}, max |embedding| ${scale.toFixed(2)}`);
          assert.ok(scale > 0.1, 'the network gives a non-trivial embedding');
          assert.ok(vsTfjs <= MAX_ABS_DIFF, `sherpa-onnx vs tfjs: ${vsTfjs}`);
          assert.ok(vsOrt <= MAX_ABS_DIFF, `sherpa-onnx vs ONNX Runtime: ${vsOrt}`);
          assert.ok(cosine(fromSherpa, fromTfjs) >= 0.99999);
        }
        // Different audio gives different embeddings: the comparison is not between constants.
        const other = tfjsEmbedding(encoder, waves[1]);
        assert.ok(maxAbsDiff(tfjsEmbedding(encoder, waves[0]), other) > 100 * MAX_ABS_DIFF);
      } finally {
        ort.dispose();
        encoder.dispose();
      }
    });
  }
});

describe('refusals', () => {
  test('a log-mel encoder is refused, naming the option to train with; nothing written', async () => {
    const file = join(dir, 'demo-sherpa.onnx');
    const { io, err } = capture();
    const code = await main(['export', '-w', DEMO_MODEL, '-o', file, '--target', 'sherpa-onnx'], io);
    assert.equal(code, 2);
    assert.match(err.join(''), /voxceleb-logmel features; sherpa-onnx feeds its models 80-bin Kaldi fbank/);
    assert.match(err.join(''), /--model-option frontend=kaldi-fbank/);
    assert.equal(err.join('').trim().split('\n').length, 1, err.join(''));
    assert.ok(!existsSync(file));
  });

  test('fbank with other than 80 bins is refused', () => {
    const encoder = new ResNetSE34L({ frontend: 'kaldi-fbank', numMels: 64, channelsPerStage: [8, 8, 8, 8], blocksPerStage: [1, 1, 1, 1], embeddingDim: 8 });
    encoder.eval();
    assert.throws(() => exportSherpaOnnx(encoder), (e: unknown) => e instanceof VoxkitError && e.code === 'E_USAGE' && /64-bin fbank; sherpa-onnx computes 80/.test(e.message));
    // The plain ONNX export of the same network is fine (input x [B, T, 64]).
    assert.deepEqual(decodeModelSummary(exportOnnx(encoder).bytes).inputs[0].dims, ['B', 'T', 64]);
    encoder.dispose();
  });

  test('metadata: each missing or invalid key is an E_USAGE error naming it', () => {
    const good: Record<string, string> = { framework: 'wespeaker', output_dim: '32', sample_rate: '16000', normalize_samples: '0', language: 'English', feature_normalize_type: 'global-mean' };
    validateSherpaOnnxMetadata(good, { outputDim: 32, sampleRateHz: 16000 });
    for (const key of SHERPA_ONNX_REQUIRED_KEYS) {
      const { [key]: _dropped, ...missing } = good;
      assert.throws(() => validateSherpaOnnxMetadata(missing), (e: unknown) => e instanceof VoxkitError && e.code === 'E_USAGE' && e.message.includes(`"${key}" is missing`));
    }
    const invalid: Array<[string, string]> = [
      ['framework', 'pyannote'],
      ['output_dim', '0'],
      ['output_dim', '32.5'],
      ['sample_rate', 'sixteen'],
      ['normalize_samples', '2'],
      ['language', ' '],
      ['feature_normalize_type', 'per-utterance'],
    ];
    for (const [key, value] of invalid) {
      assert.throws(() => validateSherpaOnnxMetadata({ ...good, [key]: value }), (e: unknown) => e instanceof VoxkitError && e.code === 'E_USAGE' && e.message.includes(`"${key}"`), `${key}=${value}`);
    }
    assert.throws(() => validateSherpaOnnxMetadata({ ...good, output_dim: '64' }, { outputDim: 32, sampleRateHz: 16000 }), /"output_dim" is 64/);
  });

  test('an empty --language stops the export before anything is written', async () => {
    seedWeightInit(2);
    const encoder = new ResNetSE34L({ frontend: 'kaldi-fbank', channelsPerStage: [8, 8, 8, 8], blocksPerStage: [1, 1, 1, 1], embeddingDim: 8 });
    const weights = join(dir, 'small-fbank.model');
    saveCheckpoint(encoder, weights);
    encoder.dispose();
    const file = join(dir, 'no-language.onnx');
    const { io, err } = capture();
    const code = await main(['export', '-w', weights, '-o', file, '--target', 'sherpa-onnx', '--language', ''], io);
    assert.equal(code, 2);
    assert.match(err.join(''), /sherpa-onnx metadata "language" must not be empty/);
    assert.ok(!existsSync(file));
    assert.ok(!readdirSync(dir).some((f) => f.startsWith('.no-language')), 'no temporary file left');
  });
});
