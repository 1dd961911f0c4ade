/**
 * ONNX export (no fixture folder needed): the graphs are well-formed ModelProtos with the promised
 * metadata and dynamic axes, and ONNX Runtime reproduces the tfjs encoders (random weights with
 * perturbed BatchNorm statistics, so eval-mode BN is not an identity) at batch 1 and 3 and two
 * lengths. Also `voxkit export` and `--engine ort` end to end with the trained demo encoder.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { useBackend } from '../../src/core/backend.js';
import { Random } from '../../src/core/random.js';
import { VERSION } from '../../src/version.js';
import { computeFeatures } from '../../src/features/feature-spec.js';
import type { SpeakerEncoder } from '../../src/models/encoder.js';
import { RawNet3 } from '../../src/models/rawnet3.js';
import { ResNetSE34L } from '../../src/models/resnet-se34l.js';
import { ResNetSE34V2 } from '../../src/models/resnet-se34v2.js';
import { RtvcEncoder } from '../../src/models/rtvc-encoder.js';
import { SingerEncoder } from '../../src/models/singer-encoder.js';
import { VGGVox } from '../../src/models/vggvox.js';
import { ONNX_IO, exportOnnx, type FrontendLocation } from '../../src/export/onnx/export.js';
import { ONNX_IR_VERSION, ONNX_OPSET, OnnxGraph, decodeModelSummary, encodeModel } from '../../src/export/onnx/graph.js';
import { OrtEngine } from '../../src/engine/ort-node.js';
import { embedWaveform, tfjsEngine } from '../../src/api/embed.js';
import { main } from '../../src/cli/main.js';
import { assertClose } from '../helpers/close.js';
import { perturbBatchNorms } from '../helpers/batch-norm.js';

const DEMO_MODEL = 'assets/models/demo-resnetse34l.model';


/** `batch` distinct test signals of `samples` samples at 16 kHz (chirps plus noise). */
function waves(batch: number, samples: number, seed: number): Float32Array[] {
  const random = new Random(seed);
  return Array.from({ length: batch }, (_, b) => {
    const w = new Float32Array(samples);
    const f0 = 100 + 80 * b;
    for (let i = 0; i < samples; i++) {
      const t = i / 16000;
      w[i] = 0.3 * Math.sin(2 * Math.PI * (f0 * t + 300 * (b + 1) * t * t)) + 0.02 * random.normal();
    }
    return w;
  });
}

function stack(rows: Float32Array[]): { data: Float32Array; shape: number[] } {
  const data = new Float32Array(rows.length * rows[0].length);
  rows.forEach((r, i) => data.set(r, i * r.length));
  return { data, shape: [rows.length, rows[0].length] };
}

async function runOnnx(bytes: Uint8Array, inputs: Record<string, { data: Float32Array; shape: number[] }>): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const feeds = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.shape)]));
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}

function tfjsOutput(run: () => tf.Tensor): Float32Array {
  const t = run();
  try {
    return (t.dataSync() as Float32Array).slice();
  } finally {
    t.dispose();
  }
}

before(async () => {
  await useBackend();
});

describe('graph builder', () => {
  test('writes an opset-17 ModelProto that reads back with dims, metadata and op types', async () => {
    const g = new OnnxGraph('tiny');
    const x = g.input('x', 'float', ['batch', 3]);
    const w = g.initializer('w', new Float32Array([1, 2, 3]), [3]);
    g.output(g.op('Mul', [x, w]), 'y', 'float', ['batch', 3]);
    const bytes = encodeModel(g.toModel({ purpose: 'test' }, VERSION));
    const summary = decodeModelSummary(bytes);
    assert.equal(summary.irVersion, ONNX_IR_VERSION);
    assert.equal(summary.opset, ONNX_OPSET);
    assert.deepEqual(summary.inputs.map((i) => [i.name, i.dims]), [['x', ['batch', 3]]]);
    assert.deepEqual(summary.outputs.map((o) => [o.name, o.dims]), [['y', ['batch', 3]]]);
    assert.deepEqual(summary.metadata, { purpose: 'test' });
    assert.deepEqual(summary.opTypes, ['Identity', 'Mul']);
    const out = await runOnnx(bytes, { x: { data: new Float32Array([1, 1, 1, 2, 2, 2]), shape: [2, 3] } });
    assert.deepEqual(Array.from(out.y), [1, 2, 3, 2, 4, 6]);
  });

  test('rejects a non-integer plain attribute and a mis-sized initializer', () => {
    const g = new OnnxGraph('bad');
    assert.throws(() => g.op('LeakyRelu', ['x'], { alpha: 0.1 }), /not an integer/);
    assert.throws(() => g.initializer('w', new Float32Array(5), [2, 3]), /5 values/);
  });

  test('bytes that are not a ModelProto are a checkpoint error', () => {
    assert.throws(() => decodeModelSummary(new Uint8Array([0xff, 0xff, 0xff, 0x01])), (e: Error & { code?: string }) => e.code === 'E_CHECKPOINT');
  });
});

interface Case {
  name: string;
  build: () => SpeakerEncoder;
  frontend?: FrontendLocation;
  /** Inputs of two lengths (samples for waveforms, frames otherwise). */
  lengths: [number, number];
  inputName: string;
  inputDims: Array<number | string>;
  atol: number;
}

const CASES: Case[] = [
  { name: 'ResNetSE34L, front end inside', build: () => new ResNetSE34L({ embeddingDim: 64 }), frontend: 'inside', lengths: [8000, 12345], inputName: ONNX_IO.waveform, inputDims: ['batch', 'samples'], atol: 1e-5 },
  { name: 'ResNetSE34L ASP, separate', build: () => new ResNetSE34L({ embeddingDim: 64, pooling: 'ASP' }), frontend: 'separate', lengths: [8000, 12345], inputName: ONNX_IO.features, inputDims: ['batch', 40, 'frames'], atol: 1e-5 },
  {
    name: 'ResNetSE34V2 (narrow), front end inside',
    build: () => new ResNetSE34V2({ channelsPerStage: [8, 16, 32, 64], embeddingDim: 64 }),
    frontend: 'inside',
    lengths: [8000, 12345],
    inputName: ONNX_IO.waveform,
    inputDims: ['batch', 'samples'],
    atol: 1e-5,
  },
  { name: 'VGGVox TAP, separate', build: () => new VGGVox({ pooling: 'TAP', embeddingDim: 64 }), frontend: 'separate', lengths: [11000, 12345], inputName: ONNX_IO.features, inputDims: ['batch', 40, 'frames'], atol: 1e-5 },
  // RawNet3 amplifies float32 rounding (log-compressed sinc filterbank, instance norm): engines that
  // sum in another order (oneDNN/OpenBLAS on the native backend) differ from ORT by ~2.3e-4.
  { name: 'RawNet3 (C=32)', build: () => new RawNet3({ channels: 32, embeddingDim: 32 }), lengths: [8000, 12345], inputName: ONNX_IO.waveform, inputDims: ['batch', 'samples'], atol: 5e-4 },
  { name: 'RTVC LSTM', build: () => new RtvcEncoder(), lengths: [37, 160], inputName: ONNX_IO.melFrames, inputDims: ['batch', 'frames', 40], atol: 1e-5 },
  { name: 'singer encoder', build: () => new SingerEncoder({ classNum: 3, hiddenSize: 64, embeddingDim: 32, numLayers: 2 }), lengths: [20, 57], inputName: ONNX_IO.featureFrames, inputDims: ['batch', 'frames', 40], atol: 1e-5 },
];

describe('encoders through ONNX Runtime equal tfjs (random weights)', () => {
  for (const c of CASES) {
    test(`${c.name}: metadata, dynamic axes, batch 1 and 3 at two lengths`, async () => {
      const model = c.build();
      try {
        perturbBatchNorms(model, 5);
        const exported = exportOnnx(model.eval(), { frontend: c.frontend });
        const summary = decodeModelSummary(exported.bytes);
        assert.deepEqual(summary.inputs.map((i) => [i.name, i.dims]), [[c.inputName, c.inputDims]]);
        assert.deepEqual(summary.outputs[0], { name: ONNX_IO.embedding, elemType: 'float', dims: ['batch', model.embeddingDim], doc: 'speaker embedding' });
        const meta = summary.metadata;
        assert.equal(meta.architecture, model.architecture);
        assert.equal(meta.embedding_dim, String(model.embeddingDim));
        assert.equal(meta.sample_rate, String(model.sampleRateHz));
        assert.equal(meta.voxkit_version, VERSION);
        assert.ok(meta.input_description.startsWith(c.inputName), meta.input_description);
        const frontend = JSON.parse(meta.frontend) as { kind: string; location: string };
        assert.equal(frontend.location, exported.frontend);

        const random = new Random(9);
        for (const length of c.lengths) {
          for (const batch of [1, 3]) {
            let input: { data: Float32Array; shape: number[] };
            let expected: Float32Array;
            if (exported.inputKind === 'waveform' || exported.inputKind === 'voxceleb-logmel') {
              const w = waves(batch, length, length + batch);
              input = exported.inputKind === 'waveform' ? stack(w) : computeFeatures(model.featureSpec(), w);
              expected = tfjsOutput(() => model.embed(w));
            } else {
              const shape = [batch, length, 40];
              input = { data: Float32Array.from({ length: batch * length * 40 }, () => random.uniform()), shape };
              expected = tfjsOutput(() => tf.tidy(() => model.forward(tf.tensor(input.data, shape))));
            }
            const out = await runOnnx(exported.bytes, { [c.inputName]: input });
            assertClose(out.embedding, expected, { atol: c.atol }, `${c.name} batch ${batch} length ${length}`, {
              actual: [out.embedding.length],
              expected: [batch * model.embeddingDim],
            });
            if (model instanceof SingerEncoder) {
              const logits = tfjsOutput(() => tf.tidy(() => model.classify(tf.tensor(input.data, input.shape)).classLogits));
              assertClose(out[ONNX_IO.classLogits], logits, { atol: c.atol }, `${c.name} class logits`);
            }
          }
        }
      } finally {
        model.dispose();
      }
    });
  }

  test('RTVC and the singer encoder refuse a front end inside the graph', () => {
    const rtvc = new RtvcEncoder();
    try {
      assert.throws(() => exportOnnx(rtvc, { frontend: 'inside' }), /--frontend separate/);
    } finally {
      rtvc.dispose();
    }
  });

  test('a model in train mode is refused', () => {
    const model = new ResNetSE34L({ embeddingDim: 8 });
    try {
      assert.throws(() => exportOnnx(model.train()), /eval mode/);
    } finally {
      model.dispose();
    }
  });
});

describe('OrtEngine behind embedWaveform', () => {
  test('RTVC partial utterances and evaluation crops give the tfjs embeddings', async () => {
    const rtvc = new RtvcEncoder();
    const cnn = new ResNetSE34L({ embeddingDim: 32 });
    perturbBatchNorms(cnn, 3);
    const ortRtvc = await OrtEngine.create(rtvc.eval(), { threads: 1 });
    const ortCnn = await OrtEngine.create(cnn.eval(), { threads: 1 });
    try {
      // 3.3 s of voiced buzz: loud enough that RTVC's VAD keeps it, long enough for 3 partials.
      const [wave] = waves(1, 52800, 4);
      const viaOrt = await embedWaveform(ortRtvc, 'rtvc-partials', wave);
      const viaTfjs = await embedWaveform(rtvc, 'rtvc-partials', wave);
      assert.ok((viaOrt.partials?.embeddings.length ?? 0) >= 2, 'several partials');
      assertClose(viaOrt.embedding, viaTfjs.embedding, { atol: 1e-6 }, 'RTVC utterance embedding');
      const cropsOrt = await embedWaveform(ortCnn, 'utterance', wave, { crops: 4, cropFrames: 100 });
      const cropsTfjs = await embedWaveform(tfjsEngine(cnn), 'utterance', wave, { crops: 4, cropFrames: 100 });
      assert.equal(cropsOrt.crops?.length, 4);
      assertClose(cropsOrt.embedding, cropsTfjs.embedding, { atol: 1e-5 }, 'mean of crop embeddings');
      await assert.rejects(embedWaveform(ortCnn, 'utterance', new Float32Array(100)), /too short/);
    } finally {
      ortRtvc.dispose();
      ortCnn.dispose();
      rtvc.dispose();
      cnn.dispose();
    }
  });
});

describe('voxkit export and --engine (demo encoder)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'voxkit-onnx-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) }, out, err };
  }

  test('writes a checked .onnx file whose metadata names the checkpoint', async () => {
    const file = join(dir, 'demo.onnx');
    const { io, out, err } = capture();
    const code = await main(['export', '-w', DEMO_MODEL, '-o', file, '--json'], io);
    assert.equal(code, 0, err.join(''));
    const summary = JSON.parse(out.join(''));
    assert.equal(summary.architecture, 'ResNetSE34L');
    assert.ok(summary.check.maxAbsDiff <= 1e-5 * Math.max(1, summary.check.maxRef), `self-check diff ${summary.check.maxAbsDiff} (max |ref| ${summary.check.maxRef})`);
    const meta = decodeModelSummary(readFileSync(file)).metadata;
    assert.equal(meta.source_checkpoint, 'demo-resnetse34l.model');
    assert.match(meta.source_sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(readdirSync(dir), ['demo.onnx'], 'no temporary file left');
  });

  test('an impossible front end is one line, exit code 2, and nothing written', async () => {
    const { io, err } = capture();
    const file = join(dir, 'none.onnx');
    const code = await main(['export', '-w', DEMO_MODEL, '-o', file, '--frontend', 'bogus'], io);
    assert.equal(code, 2);
    assert.ok(!existsSync(file));
    assert.equal(err.join('').trim().split('\n').length <= 2, true, err.join(''));
  });

  test('verify gives the same score with --engine ort and --engine tfjs', async () => {
    const [a, b] = waves(2, 24000, 77);
    const { writeWav } = await import('../../src/audio/load-node.js');
    const fa = join(dir, 'a.wav');
    const fb = join(dir, 'b.wav');
    await writeWav(fa, a, 16000);
    await writeWav(fb, b, 16000);
    const scores: number[] = [];
    for (const engine of ['ort', 'tfjs']) {
      const { io, out, err } = capture();
      const code = await main(['verify', '-w', DEMO_MODEL, fa, fb, '--json', '--engine', engine, '--threads', '1'], io);
      assert.equal(code, 0, err.join(''));
      assert.equal(err.join(''), '', 'no noise on stderr');
      scores.push(JSON.parse(out.join('')).score);
    }
    assert.ok(Math.abs(scores[0] - scores[1]) <= 1e-5, `ort ${scores[0]} vs tfjs ${scores[1]}`);
  });
});
