/**
 * The native backend's fused GE2E similarity kernel (forward and gradient) against the composed
 * tfjs ops on the cpu backend, for RTVC's and voxceleb_trainer's definitions: logits and the
 * gradients w.r.t. embeddings, w and b on random inputs of several shapes, through tfjs's gradient
 * walk and voxkit's low-memory one; plus central differences of the kernel's own forward.
 */
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { GE2E_SIMILARITY, hasFusedKernel } from '../../src/core/fused-kernels.js';
import { useBackend } from '../../src/core/backend.js';
import { loadNativeAddon } from '../../src/engine/native/addon-node.js';
import { Ge2eLoss } from '../../src/losses/ge2e.js';
import { type SpeakerMasks, cosineSimilarityRows, rtvcSimilarityRows } from '../../src/losses/ge2e-similarity.js';
import { RtvcGe2eLoss } from '../../src/losses/rtvc-ge2e.js';
import { variableGradsLowMemory } from '../../src/train/backprop.js';
import { assertClose } from '../helpers/close.js';
import { assertSameResults, onBackend, type Results } from '../helpers/fused-kernels.js';

const load = loadNativeAddon();
const skip = load.addon === null ? `native addon not available: ${load.reason}` : false;

const TOL = { rtol: 1e-5, rtolMax: 1e-5 };

type Variant = 'rtvc' | 'cosine';

/** Deterministic values in [-scale, scale) + offset. */
function randomValues(size: number, seed: number, scale = 1, offset = 0): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32 * 2 - 1) * scale + offset;
  }
  return out;
}

function masks(speakers: number, utterances: number): SpeakerMasks {
  const rows = speakers * utterances;
  const oneHot = new Float32Array(rows * speakers);
  for (let r = 0; r < rows; r++) oneHot[r * speakers + Math.floor(r / utterances)] = 1;
  return { oneHot: tf.tensor2d(oneHot, [rows, speakers]), otherSpeakers: tf.tensor2d(oneHot.map((v) => 1 - v), [rows, speakers]) };
}

function similarityRows(variant: Variant, e: tf.Tensor3D, w: tf.Tensor, b: tf.Tensor, m: SpeakerMasks): tf.Tensor2D {
  return variant === 'rtvc' ? rtvcSimilarityRows(e, w, b, m) : cosineSimilarityRows(e, w, b, m.oneHot);
}

interface Case {
  variant: Variant;
  speakers: number;
  utterances: number;
  dim: number;
}


/**
 * Logits and the gradients of Σ logits·R (R random) w.r.t. embeddings, w and b on the active
 * backend. w and b have the shapes the losses give them ([1] for RTVC, scalars for ge2e).
 */
function runCase({ variant, speakers, utterances, dim }: Case, walker: 'tfjs' | 'lowMemory'): Results {
  const rows = speakers * utterances;
  const paramShape = variant === 'rtvc' ? [1] : [];
  // In a tidy: a variable keeps its initial tensor's data, the tensor itself must go.
  const [embeddings, w, b] = tf.tidy(() => [
    tf.variable(tf.tensor3d(randomValues(rows * dim, 1 + dim), [speakers, utterances, dim]), true, 'embeddings'),
    tf.variable(tf.tensor(randomValues(1, 2, 3, 5), paramShape), true, 'w'),
    tf.variable(tf.tensor(randomValues(1, 3, 2), paramShape), true, 'b'),
  ]) as [tf.Variable, tf.Variable, tf.Variable];
  const lossWeights = tf.tensor2d(randomValues(rows * speakers, 4), [rows, speakers]);
  const m = masks(speakers, utterances);
  const trained = [embeddings, w, b];
  const results: Results = {};
  const loss = (): tf.Scalar => {
    const logits = similarityRows(variant, embeddings as tf.Tensor as tf.Tensor3D, w, b, m);
    results.logits = logits.dataSync() as Float32Array;
    return logits.mul(lossWeights).sum();
  };
  try {
    if (walker === 'tfjs') {
      const { value, grads } = tf.variableGrads(loss, trained);
      for (const v of trained) results[`d${v.name}`] = grads[v.name]!.dataSync() as Float32Array;
      value.dispose();
      tf.dispose(grads);
    } else {
      const { value, grads } = variableGradsLowMemory(loss, trained);
      for (const v of trained) results[`d${v.name}`] = grads.get(v)!.dataSync() as Float32Array;
      value.dispose();
      for (const g of grads.values()) g.dispose();
    }
  } finally {
    tf.dispose([...trained, lossWeights, m.oneHot, m.otherSpeakers]);
  }
  return results;
}

describe('native fused GE2E similarity', { skip }, () => {
  before(async () => {
    await useBackend('native');
    await useBackend('cpu');
  });

  test('the native backend runs the fused kernel and the cpu backend the composed ops', async () => {
    await tf.setBackend('native');
    if (!hasFusedKernel(GE2E_SIMILARITY)) throw new Error('native backend lacks the fused GE2E kernel');
    await tf.setBackend('cpu');
    if (hasFusedKernel(GE2E_SIMILARITY)) throw new Error('cpu backend should run the composed ops');
  });

  const shapes: Array<[number, number, number]> = [[2, 2, 3], [4, 2, 16], [5, 3, 7], [16, 4, 256], [12, 10, 40]];
  for (const variant of ['rtvc', 'cosine'] as const) {
    for (const [speakers, utterances, dim] of shapes) {
      const c: Case = { variant, speakers, utterances, dim };
      test(`${variant}, ${speakers} speakers × ${utterances} utterances × ${dim}: logits and gradients match the cpu backend`, async () => {
        const expected = await onBackend('cpu', () => runCase(c, 'tfjs'));
        for (const walker of ['tfjs', 'lowMemory'] as const) {
          const actual = await onBackend('native', () => runCase(c, walker));
          assertSameResults(actual, expected, TOL, `${walker} walk`);
        }
      });
    }
  }

  test('the cosine floor: clamped similarities pass no gradient, as in the composed ops', async () => {
    // Random embeddings around 0 give many negative cosines; with w > 0 the clamped ones are the
    // smallest logits, all equal.
    const c: Case = { variant: 'cosine', speakers: 6, utterances: 3, dim: 4 };
    const expected = await onBackend('cpu', () => runCase(c, 'tfjs'));
    const lowest = Math.min(...expected.logits!);
    const clamped = expected.logits!.filter((v) => v === lowest).length;
    if (clamped < 2) throw new Error('the case should clamp several similarities');
    assertSameResults(await onBackend('native', () => runCase(c, 'tfjs')), expected, TOL, 'cosine floor');
  });

  for (const variant of ['rtvc', 'cosine'] as const) {
    test(`${variant}: gradient entries agree with central differences of the kernel's forward`, async () => {
      await tf.setBackend('native');
      const [speakers, utterances, dim] = [3, 2, 5];
      const rows = speakers * utterances;
      // Away from zero, so the cosine variant stays clear of its floor and the norms are smooth.
      const base = randomValues(rows * dim, 31, 1, 0.8);
      const weights = randomValues(rows * speakers, 32);
      const paramShape = variant === 'rtvc' ? [1] : [];
      const m = masks(speakers, utterances);
      // Σ logits·R in double from the kernel's float32 logits.
      const objective = (e: Float32Array, w: number, b: number): number => tf.tidy(() => {
        const logits = similarityRows(variant, tf.tensor3d(e, [speakers, utterances, dim]), tf.tensor(w, paramShape), tf.tensor(b, paramShape), m);
        const values = logits.dataSync();
        let total = 0;
        for (let i = 0; i < values.length; i++) total += values[i]! * weights[i]!;
        return total;
      });
      const [w0, b0] = [4, -2];
      const [embeddings, w, b] = tf.tidy(() => [
        tf.variable(tf.tensor3d(base, [speakers, utterances, dim])),
        tf.variable(tf.tensor(w0, paramShape)),
        tf.variable(tf.tensor(b0, paramShape)),
      ]) as [tf.Variable, tf.Variable, tf.Variable];
      const lossWeights = tf.tensor2d(weights, [rows, speakers]);
      const { value, grads } = tf.variableGrads(
        () => similarityRows(variant, embeddings as tf.Tensor as tf.Tensor3D, w, b, m).mul(lossWeights).sum(),
        [embeddings, w, b],
      );
      const dE = grads[embeddings.name]!.dataSync();
      const dW = grads[w.name]!.dataSync()[0]!;
      const dB = grads[b.name]!.dataSync()[0]!;
      tf.dispose([value, embeddings, w, b, lossWeights, m.oneHot, m.otherSpeakers, ...Object.values(grads)]);

      const h = 1e-2;
      const numeric: number[] = [];
      const analytic: number[] = [];
      for (const index of [0, 7, 13, rows * dim - 1]) {
        const plus = base.slice();
        const minus = base.slice();
        plus[index] += h;
        minus[index] -= h;
        numeric.push((objective(plus, w0, b0) - objective(minus, w0, b0)) / (2 * h));
        analytic.push(dE[index]!);
      }
      numeric.push((objective(base, w0 + h, b0) - objective(base, w0 - h, b0)) / (2 * h));
      analytic.push(dW);
      numeric.push((objective(base, w0, b0 + h) - objective(base, w0, b0 - h)) / (2 * h));
      analytic.push(dB);
      // Float32 forward values and O(h²) terms: agreement to about 1e-3 of the largest entry.
      assertClose(analytic, numeric, { rtol: 2e-3, rtolMax: 2e-3 }, `${variant}: d embeddings[0, 7, 13, last], dw, db`);
    });
  }

  test('both losses give the cpu backend\'s loss value and parameter gradients', async () => {
    const [speakers, utterances, dim] = [8, 3, 32];
    const data = randomValues(speakers * utterances * dim, 41);
    for (const Loss of [RtvcGe2eLoss, Ge2eLoss]) {
      const run = (): Results => {
        const loss = new Loss();
        const embeddings = tf.tidy(() => tf.variable(tf.tensor3d(data, [speakers, utterances, dim]), true, 'embeddings'));
        const params = loss.namedParameters();
        const { value, grads } = variableGradsLowMemory(() => loss.forward({ embeddings }).loss, [embeddings, ...params.map(([, v]) => v)]);
        const results: Results = { loss: value.dataSync() as Float32Array, dEmbeddings: grads.get(embeddings)!.dataSync() as Float32Array };
        for (const [name, v] of params) results[name] = grads.get(v)!.dataSync() as Float32Array;
        value.dispose();
        for (const g of grads.values()) g.dispose();
        embeddings.dispose();
        loss.dispose();
        return results;
      };
      const expected = await onBackend('cpu', run);
      // The bias gradient of a cross-entropy over all columns is 0 up to rounding: an absolute bound.
      const actual = await onBackend('native', run);
      assertSameResults(actual, expected, { ...TOL, atol: 1e-7 }, Loss.name);
    }
  });

  test('no tensor outlives a forward and backward pass', async () => {
    await tf.setBackend('native');
    const c: Case = { variant: 'rtvc', speakers: 4, utterances: 3, dim: 8 };
    runCase(c, 'lowMemory');
    const before = tf.memory().numTensors;
    runCase(c, 'lowMemory');
    runCase(c, 'tfjs');
    runCase({ ...c, variant: 'cosine' }, 'tfjs');
    if (tf.memory().numTensors !== before) throw new Error(`${tf.memory().numTensors - before} tensors leaked`);
  });
});
