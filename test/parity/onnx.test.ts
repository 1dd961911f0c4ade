/**
 * Every model of the fixture folder exported to ONNX and run in ONNX Runtime, against the PyTorch
 * originals' outputs: each listed input (batch 3 and 1, two lengths) through every front-end
 * placement the architecture has, within the FIXTURES.md tolerance of that model (the same bound
 * as its tfjs parity test); RTVC's embed_utterance through the ORT engine. Models, inputs and
 * expectations all come from models.json, so the suite runs unchanged on other fixture seeds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { useBackend } from '../../src/core/backend.js';
import { loadEncoder, type LoadedEncoder } from '../../src/api/load-encoder-node.js';
import { computeFeatures } from '../../src/features/feature-spec.js';
import { embedUtteranceAsync } from '../../src/models/partial-utterances.js';
import { ONNX_IO, exportOnnx, type FrontendLocation } from '../../src/export/onnx/export.js';
import { decodeModelSummary } from '../../src/export/onnx/graph.js';
import { OrtEngine } from '../../src/engine/ort-node.js';
import { assertClose, type Tolerance } from '../helpers/close.js';
import { fixtures } from '../helpers/fixtures.js';
import { TOL } from './tolerances.js';

interface OutputSpec {
  input: string;
  /** voxceleb_trainer models and RTVC. */
  output?: string;
  /** Singer encoder. */
  embeds?: string;
  class_preds?: string;
}

interface UtteranceSpec {
  input: string;
  embed: string;
  partial_embeds: string;
  embed_no_partials: string;
}

interface ModelEntry {
  weights: { file: string };
  outputs: Record<string, OutputSpec>;
  embed_utterance?: { utterances: Record<string, UtteranceSpec> };
}

/** The parity tolerance of each architecture (as its tfjs model test uses). */
const TOLERANCE: Record<string, Tolerance> = {
  ResNetSE34L: TOL.cnnEmbedding,
  ResNetSE34V2: TOL.cnnEmbedding,
  VGGVox: TOL.cnnEmbedding,
  RawNet3: TOL.rawnet3Embedding,
  RTVC: TOL.lstmEmbedding,
  SingerEncoder: TOL.lstmEmbedding,
};

/** Front-end placements to test: both for the log-mel models, the only one for the others. */
function placements(architecture: string): Array<FrontendLocation | undefined> {
  return ['ResNetSE34L', 'ResNetSE34V2', 'VGGVox'].includes(architecture) ? ['inside', 'separate'] : [undefined];
}

const fx = fixtures();
const models = fx.section<Record<string, unknown>>('models');
const entries = Object.entries(models).filter(
  (e): e is [string, ModelEntry] => typeof e[1] === 'object' && e[1] !== null && typeof (e[1] as ModelEntry).weights?.file === 'string' && typeof (e[1] as ModelEntry).outputs === 'object',
);

function rows(ref: string): Float32Array[] {
  const { data, shape } = fx.f32(ref);
  const size = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => data.slice(i * size, (i + 1) * size));
}

before(async () => {
  await useBackend();
});

test('the fixture set lists models with weights', () => {
  assert.ok(entries.length > 0, 'models.json has no entry with weights and outputs');
});

for (const [key, entry] of entries) {
  describe(`${key} through ONNX Runtime`, () => {
    let loaded: LoadedEncoder;

    before(async () => {
      loaded = await loadEncoder(fx.path(entry.weights.file));
    });
    after(() => loaded?.encoder.dispose());

    test('every output of every front-end placement', async (t) => {
      const { encoder } = loaded;
      const tol = TOLERANCE[encoder.architecture];
      assert.ok(tol, `no tolerance for ${encoder.architecture}`);
      for (const frontend of placements(encoder.architecture)) {
        const exported = exportOnnx(encoder, { frontend });
        const summary = decodeModelSummary(exported.bytes);
        assert.equal(summary.metadata.architecture, encoder.architecture);
        assert.equal(summary.metadata.embedding_dim, String(encoder.embeddingDim));
        const session = await ort.InferenceSession.create(exported.bytes, { intraOpNumThreads: 1 });
        try {
          for (const [name, spec] of Object.entries(entry.outputs)) {
            const input = fx.f32(spec.input);
            let data = input.data;
            let shape = input.shape;
            if (exported.inputKind === 'voxceleb-logmel') ({ data, shape } = computeFeatures(encoder.featureSpec(), rows(spec.input)));
            const out = await session.run({ [exported.inputName]: new ort.Tensor('float32', data, shape) });
            const expected = fx.f32((spec.output ?? spec.embeds)!);
            const actual = out[ONNX_IO.embedding];
            const label = `${key} ${exported.frontend} ${name}`;
            const r = assertClose(actual.data as Float32Array, expected.data, tol, label, { actual: [...actual.dims], expected: expected.shape });
            t.diagnostic(`${label}: max |diff| ${r.maxAbs.toExponential(2)} (max |ref| ${r.maxRef.toPrecision(3)})`);
            if (spec.class_preds) {
              const logits = fx.f32(spec.class_preds);
              const got = out[ONNX_IO.classLogits];
              assertClose(got.data as Float32Array, logits.data, tol, `${label} class_preds`, { actual: [...got.dims], expected: logits.shape });
            }
          }
        } finally {
          await session.release();
        }
      }
    });

    if (entry.embed_utterance) {
      test('embed_utterance through the ORT engine', async (t) => {
        const engine = await OrtEngine.create(loaded.encoder, { threads: 1 });
        try {
          const { melFrames, embedFrames } = engine;
          assert.ok(melFrames && embedFrames, 'the RTVC engine embeds mel frames');
          for (const [utt, u] of Object.entries(entry.embed_utterance!.utterances)) {
            const wave = fx.f32(u.input).data;
            const result = await embedUtteranceAsync({ melFrames, embedFrames }, wave);
            const partials = new Float32Array(result.partialEmbeddings.length * engine.embeddingDim);
            result.partialEmbeddings.forEach((p, i) => partials.set(p, i * engine.embeddingDim));
            const expectedPartials = fx.f32(u.partial_embeds);
            assertClose(partials, expectedPartials.data, TOL.lstmEmbedding, `${utt} partial_embeds`, {
              actual: [result.partialEmbeddings.length, engine.embeddingDim],
              expected: expectedPartials.shape,
            });
            const r = assertClose(result.embedding, fx.f32(u.embed).data, TOL.lstmEmbedding, `${utt} embed`);
            const whole = await embedUtteranceAsync({ melFrames, embedFrames }, wave, { usingPartials: false });
            assertClose(whole.embedding, fx.f32(u.embed_no_partials).data, TOL.lstmEmbedding, `${utt} embed_no_partials`);
            t.diagnostic(`${utt}: embed max |diff| ${r.maxAbs.toExponential(2)}`);
          }
        } finally {
          engine.dispose();
        }
      });
    }
  });
}
