/**
 * The native backend's fused LSTM recurrence (one kernel per layer, forward and gradient) against
 * the composed per-step tfjs ops on the cpu backend: same inputs, outputs and gradients within
 * float rounding, through tfjs's own gradient walk and voxkit's low-memory one.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { LSTM_RECURRENCE, hasFusedKernel } from '../../src/core/fused-kernels.js';
import { useBackend } from '../../src/core/backend.js';
import { loadNativeAddon } from '../../src/engine/native/addon-node.js';
import { Lstm } from '../../src/models/layers/lstm.js';
import { lstmRecurrence } from '../../src/models/layers/lstm-recurrence.js';
import { variableGradsLowMemory } from '../../src/train/backprop.js';
import { assertClose } from '../helpers/close.js';
import { assertSameResults, onBackend, type Results } from '../helpers/fused-kernels.js';

const load = loadNativeAddon();
const skip = load.addon === null ? `native addon not available: ${load.reason}` : false;

const TOL = { rtol: 1e-5, rtolMax: 1e-5 };
const BATCH = 3;
const H = 5;

/** Deterministic values in [-scale, scale). */
function randomValues(size: number, seed: number, scale = 1): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32 * 2 - 1) * scale;
  }
  return out;
}

interface Case {
  steps: number;
  initialState: boolean;
  /** Which results the loss reads: a result outside the loss gets no gradient. */
  uses: { outputs: boolean; h: boolean; c: boolean };
}

/** Plain arrays out of a run, so results of two backends can be compared. */

/**
 * A variable the loss does not reach has no gradient in tfjs, which is a zero gradient: W_hh over
 * one step from a zero state (the composed ops skip h0·W_hh, the fused kernel multiplies zeros).
 */
function gradientValues(v: tf.Variable, grad: tf.Tensor | undefined): Float32Array {
  return grad ? (grad.dataSync() as Float32Array) : new Float32Array(v.size);
}

/**
 * Runs the recurrence and the gradients of a weighted sum of the results it uses, on the active
 * backend, with `variableGrads` (tfjs's tape walk) or `lowMemory` (src/train/backprop.ts).
 */
function runCase({ steps, initialState, uses }: Case, walker: 'tfjs' | 'lowMemory'): Results {
  const rows = steps * BATCH;
  const variables = tf.tidy(() => ({
    projected: tf.variable(tf.tensor2d(randomValues(rows * 4 * H, 1, 2), [rows, 4 * H]), true, 'projected'),
    weightHhT: tf.variable(tf.tensor2d(randomValues(H * 4 * H, 2, 0.8), [H, 4 * H]), true, 'weightHhT'),
    h0: tf.variable(tf.tensor2d(randomValues(BATCH * H, 3), [BATCH, H]), true, 'h0'),
    c0: tf.variable(tf.tensor2d(randomValues(BATCH * H, 4), [BATCH, H]), true, 'c0'),
  }));
  const lossWeights = {
    outputs: tf.tensor2d(randomValues(rows * H, 5), [rows, H]),
    h: tf.tensor2d(randomValues(BATCH * H, 6), [BATCH, H]),
    c: tf.tensor2d(randomValues(BATCH * H, 7), [BATCH, H]),
  };
  const trained = initialState ? Object.values(variables) : [variables.projected, variables.weightHhT];
  const results: Results = {};
  const loss = (): tf.Scalar => {
    const r = initialState
      ? lstmRecurrence(variables.projected, variables.weightHhT, steps, BATCH, variables.h0, variables.c0)
      : lstmRecurrence(variables.projected, variables.weightHhT, steps, BATCH);
    results.outputs = r.outputs.dataSync() as Float32Array;
    results.h = r.h.dataSync() as Float32Array;
    results.c = r.c.dataSync() as Float32Array;
    let total = tf.scalar(0);
    for (const key of ['outputs', 'h', 'c'] as const) {
      if (uses[key]) total = total.add(r[key].mul(lossWeights[key]).sum());
    }
    return total;
  };
  try {
    if (walker === 'tfjs') {
      const { value, grads } = tf.variableGrads(loss, trained);
      for (const v of trained) results[`d${v.name}`] = gradientValues(v, grads[v.name]);
      value.dispose();
      tf.dispose(grads);
    } else {
      const { value, grads } = variableGradsLowMemory(loss, trained);
      for (const v of trained) results[`d${v.name}`] = gradientValues(v, grads.get(v));
      value.dispose();
      for (const g of grads.values()) g.dispose();
    }
  } finally {
    tf.dispose([...Object.values(variables), ...Object.values(lossWeights)]);
  }
  return results;
}

describe('native fused LSTM recurrence', { skip }, () => {
  before(async () => {
    await useBackend('native');
    await useBackend('cpu');
  });

  test('the native backend runs the fused kernel and the cpu backend the composed ops', async () => {
    await tf.setBackend('native');
    if (!hasFusedKernel(LSTM_RECURRENCE)) throw new Error('native backend lacks the fused LSTM kernel');
    await tf.setBackend('cpu');
    if (hasFusedKernel(LSTM_RECURRENCE)) throw new Error('cpu backend should run the composed recurrence');
  });

  const all = { outputs: true, h: true, c: true };
  for (const steps of [1, 7]) {
    for (const initialState of [false, true]) {
      const c: Case = { steps, initialState, uses: all };
      test(`steps ${steps}, ${initialState ? 'with' : 'without'} h0/c0: outputs and gradients match the cpu backend`, async () => {
        const expected = await onBackend('cpu', () => runCase(c, 'tfjs'));
        for (const walker of ['tfjs', 'lowMemory'] as const) {
          const actual = await onBackend('native', () => runCase(c, walker));
          assertSameResults(actual, expected, TOL, `${walker} walk`);
        }
      });
    }
  }

  for (const uses of [{ outputs: true, h: false, c: false }, { outputs: false, h: true, c: false }, { outputs: false, h: false, c: true }]) {
    const used = Object.entries(uses).filter(([, v]) => v).map(([k]) => k).join('');
    test(`a loss on ${used} only (the other results get no gradient)`, async () => {
      const c: Case = { steps: 7, initialState: true, uses };
      const expected = await onBackend('cpu', () => runCase(c, 'tfjs'));
      for (const walker of ['tfjs', 'lowMemory'] as const) {
        const actual = await onBackend('native', () => runCase(c, walker));
        assertSameResults(actual, expected, TOL, `${walker} walk`);
      }
    });
  }

  test('saturated gates and NaN inputs give what the composed ops give', async () => {
    const steps = 3;
    const projected = randomValues(steps * BATCH * 4 * H, 21, 120);
    // Not in step 0's forget gate: there the composed ops skip f·c0 without a state, the kernel
    // multiplies by zeros as PyTorch does, and a NaN survives only the latter.
    projected[4 * H * BATCH + 2 * H + 1] = Number.NaN;
    projected[4 * H * BATCH + 4 * H + 3] = Number.POSITIVE_INFINITY;
    projected[4 * H * BATCH * 2 + 4 * H * 2 + 3 * H] = Number.NEGATIVE_INFINITY;
    const run = (): Float32Array[] => tf.tidy(() => {
      const r = lstmRecurrence(tf.tensor2d(projected, [steps * BATCH, 4 * H]), tf.tensor2d(randomValues(H * 4 * H, 22, 3), [H, 4 * H]), steps, BATCH);
      return [r.outputs, r.h, r.c].map((t) => t.dataSync() as Float32Array);
    });
    const expected = await onBackend('cpu', run);
    const actual = await onBackend('native', run);
    expected.forEach((e, k) => {
      const nanAt = (a: Float32Array) => [...a.keys()].filter((i) => Number.isNaN(a[i]));
      assert.deepEqual(nanAt(actual[k]!), nanAt(e), `result ${k}: NaN positions`);
      if (nanAt(e).length === e.length) return;
      const finite = (a: Float32Array) => a.map((v) => (Number.isNaN(v) ? 0 : v));
      assertClose(finite(actual[k]!), finite(e), { rtol: 1e-5, atol: 1e-30 }, `result ${k}`);
    });
  });

  test('no tensor outlives a forward and backward pass', async () => {
    await tf.setBackend('native');
    runCase({ steps: 7, initialState: false, uses: all }, 'lowMemory');
    const before = tf.memory().numTensors;
    runCase({ steps: 7, initialState: true, uses: { outputs: false, h: true, c: false } }, 'lowMemory');
    runCase({ steps: 7, initialState: true, uses: all }, 'tfjs');
    if (tf.memory().numTensors !== before) throw new Error(`${tf.memory().numTensors - before} tensors leaked`);
  });

  test('a whole Lstm layer: outputs, final states and parameter gradients match the cpu backend', async () => {
    const steps = 6;
    const input = randomValues(2 * steps * 4, 11);
    const initial = { h0: randomValues(2 * 2 * 3, 12), c0: randomValues(2 * 2 * 3, 13) };
    const build = (): Lstm => new Lstm(4, 3, 2);
    const cpuLayer = await onBackend('cpu', build);
    const state = cpuLayer.stateDict();
    const run = (layer: Lstm): Results => {
      const x = tf.tensor3d(input, [2, steps, 4]);
      const h0 = tf.tensor3d(initial.h0, [2, 2, 3]);
      const c0 = tf.tensor3d(initial.c0, [2, 2, 3]);
      const params = layer.namedParameters();
      const results: Results = {};
      const { value, grads } = variableGradsLowMemory(() => {
        const { output, hN, cN } = layer.forward(x, { h0, c0 });
        results.output = output.dataSync() as Float32Array;
        results.hN = hN.dataSync() as Float32Array;
        results.cN = cN.dataSync() as Float32Array;
        // Only the last layer's output and hN feed the loss, as in the speaker encoders.
        return output.square().mean().add(hN.sum().mul(0.5)) as tf.Scalar;
      }, params.map(([, v]) => v));
      for (const [name, v] of params) results[name] = grads.get(v)!.dataSync() as Float32Array;
      value.dispose();
      for (const g of grads.values()) g.dispose();
      tf.dispose([x, h0, c0]);
      return results;
    };
    const expected = await onBackend('cpu', () => run(cpuLayer));
    const actual = await onBackend('native', () => {
      const layer = build();
      layer.loadStateDict(state);
      const results = run(layer);
      layer.dispose();
      return results;
    });
    cpuLayer.dispose();
    assertSameResults(actual, expected, TOL, 'Lstm(4, 3, 2 layers)');
  });
});
