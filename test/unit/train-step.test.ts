/**
 * The training step and its parts: global-norm clipping and gradient policies against their
 * float64 formulas, the low-memory backward pass against tf.variableGrads (identical numbers, no
 * leaks), and trainStep's batch grouping (utterance- vs speaker-major), classification batches,
 * the RTVC gradient policy, the singer encoder's class logits and BatchNorm bookkeeping.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/core/backend.js';
import { Random, seedWeightInit } from '../../src/core/random.js';
import { createLoss } from '../../src/losses/registry.js';
import { SpeakerEncoder } from '../../src/models/encoder.js';
import { Linear } from '../../src/models/layers/linear.js';
import { ResNetSE34L } from '../../src/models/resnet-se34l.js';
import { SingerEncoder } from '../../src/models/singer-encoder.js';
import { variableGradsLowMemory } from '../../src/train/backprop.js';
import { applyGradientPolicy, clipGradNorm } from '../../src/train/gradients.js';
import { createOptimizer } from '../../src/train/optimizer.js';
import { trainStep } from '../../src/train/step.js';
import { assertClose } from '../helpers/close.js';

before(async () => {
  await useBackend();
});

/** A one-layer encoder: features [batch, inDim] → Linear → embeddings. */
class LinearEncoder extends SpeakerEncoder {
  readonly architecture = 'test-linear';
  readonly fc: Linear;
  constructor(
    inDim: number,
    readonly embeddingDim: number,
  ) {
    super();
    this.fc = this.child('fc', new Linear(inDim, embeddingDim));
  }
  forward(features: tf.Tensor): tf.Tensor2D {
    return this.fc.forward(features).relu().add(0.1) as tf.Tensor2D;
  }
}

function randomTensor(rng: Random, shape: number[], scale = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => scale * rng.normal()), shape);
}

function gradMap(rng: Random, shapes: Record<string, number[]>, scale: number): Map<string, tf.Tensor> {
  return new Map(Object.entries(shapes).map(([name, shape]) => [name, randomTensor(rng, shape, scale)]));
}

test('clipGradNorm: torch.nn.utils.clip_grad_norm_ (norm of the norms, coefficient max/(total + 1e-6), only below 1)', () => {
  const rng = new Random(1);
  const shapes = { a: [3, 4], b: [5], c: [2, 2, 2] };
  const grads = gradMap(rng, shapes, 1);
  const values = new Map([...grads].map(([n, t]) => [n, Float64Array.from(t.dataSync())]));
  const total = Math.sqrt([...values.values()].reduce((s, v) => s + v.reduce((t, x) => t + x * x, 0), 0));
  const clipped = clipGradNorm(grads, 2);
  assert.ok(Math.abs(clipped.totalNorm - total) < 1e-5 * total);
  const coefficient = 2 / (total + 1e-6);
  assert.ok(coefficient < 1 && Math.abs(clipped.scale - coefficient) < 1e-6);
  for (const [name, t] of clipped.grads) {
    assertClose(t.dataSync(), values.get(name)!.map((x) => x * coefficient), { atol: 1e-6, rtol: 1e-6 }, `clipped ${name}`);
  }
  // Within the limit nothing changes (same tensors).
  const again = clipGradNorm(clipped.grads, 100);
  assert.equal(again.scale, 1);
  for (const [name, t] of again.grads) assert.equal(t, clipped.grads.get(name));
  tf.dispose([...again.grads.values()]);
  assert.throws(() => clipGradNorm(new Map(), 0), /must be > 0/);
});

test('applyGradientPolicy scales first, then clips (RTVC do_gradient_ops order); an explicit clip norm wins', () => {
  const rng = new Random(2);
  const make = () => gradMap(new Random(3), { '__S__.w': [4, 3], '__L__.similarity_weight': [1], '__L__.similarity_bias': [1] }, 5);
  const keyOf = (name: string) => `__L__.${name}`;
  const policy = { scale: { similarity_weight: 0.01, similarity_bias: 0.01 }, clipNorm: 3 };
  const raw = make();
  const values = new Map([...raw].map(([n, t]) => [n, Float64Array.from(t.dataSync())]));
  tf.dispose([...raw.values()]);
  for (const name of ['__L__.similarity_weight', '__L__.similarity_bias']) values.set(name, values.get(name)!.map((x) => x * 0.01));
  const total = Math.sqrt([...values.values()].reduce((s, v) => s + v.reduce((t, x) => t + x * x, 0), 0));
  const { grads, totalNorm } = applyGradientPolicy(make(), policy, { keyOf });
  assert.ok(Math.abs(totalNorm! - total) < 1e-5 * total);
  for (const [name, t] of grads) assertClose(t.dataSync(), values.get(name)!.map((x) => (x * 3) / (total + 1e-6)), { atol: 1e-6, rtol: 1e-5 }, name);
  tf.dispose([...grads.values()]);

  const wider = applyGradientPolicy(make(), policy, { keyOf, clipNorm: 1e6 });
  assertClose(wider.grads.get('__L__.similarity_bias')!.dataSync(), values.get('__L__.similarity_bias')!, { rtol: 1e-6 }, 'scaled, not clipped');
  tf.dispose([...wider.grads.values()]);
  const none = applyGradientPolicy(make(), undefined);
  assert.equal(none.totalNorm, undefined);
  tf.dispose([...none.grads.values()]);
  void rng;
});

test('variableGradsLowMemory gives tf.variableGrads’s numbers, skips unused variables and leaves nothing behind', () => {
  const rng = new Random(4);
  const [w1, w2, unused] = [[6, 5], [5, 3], [2]].map((s) => tf.tidy(() => tf.variable(randomTensor(rng, s))));
  const x = randomTensor(rng, [7, 6]);
  const f = () =>
    tf.tidy(() => {
      const h = tf.matMul(x, w1).relu();
      const [left, right] = tf.split(h, [2, 3], 1); // a multi-output op
      const y = tf.matMul(tf.concat([right, left], 1), w2);
      return y.mul(y).sum().add(w1.square().mean()) as tf.Scalar; // w1 used twice
    });
  const reference = tf.variableGrads(f, [w1, w2, unused]);
  const before = tf.memory().numTensors;
  const ours = variableGradsLowMemory(f, [w1, w2, unused]);
  assert.equal(ours.value.dataSync()[0], reference.value.dataSync()[0]);
  assert.deepEqual([...ours.grads.keys()], [w1, w2]);
  for (const v of [w1, w2]) assert.deepEqual(ours.grads.get(v)!.dataSync(), reference.grads[v.name].dataSync());
  tf.dispose([ours.value, ...ours.grads.values()]);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  assert.throws(() => variableGradsLowMemory(() => tf.tidy(() => tf.matMul(x, w1) as unknown as tf.Scalar), [w1]), /scalar/);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked after an error');
  tf.dispose([reference.value, ...Object.values(reference.grads), x, w1, w2, unused]);
});

/** A batch [speakers·utterances, inDim] in utterance-major order and the same rows speaker-major. */
function batches(rng: Random, speakers: number, utterances: number, inDim: number) {
  const bySpeaker = Array.from({ length: speakers }, () => Array.from({ length: utterances }, () => Float32Array.from({ length: inDim }, () => rng.normal())));
  const rows = (order: Array<[number, number]>) => {
    const data = new Float32Array(order.length * inDim);
    order.forEach(([s, u], i) => data.set(bySpeaker[s][u], i * inDim));
    return { data, shape: [order.length, inDim] };
  };
  const utteranceMajor: Array<[number, number]> = [];
  const speakerMajor: Array<[number, number]> = [];
  for (let u = 0; u < utterances; u++) for (let s = 0; s < speakers; s++) utteranceMajor.push([s, u]);
  for (let s = 0; s < speakers; s++) for (let u = 0; u < utterances; u++) speakerMajor.push([s, u]);
  return { utteranceMajor: rows(utteranceMajor), speakerMajor: rows(speakerMajor) };
}

test('trainStep groups rows by speaker for both layouts, updates through the optimizer and reports the loss before the update', () => {
  const rng = new Random(5);
  const data = batches(rng, 4, 3, 6);
  const results = (['utterance-major', 'speaker-major'] as const).map((layout) => {
    seedWeightInit(7);
    const encoder = new LinearEncoder(6, 5);
    const loss = createLoss('angleproto', { embeddingDim: 5 });
    const optimizer = createOptimizer('sgd', [...encoder.namedParameters('__S__.'), ...loss.namedParameters('__L__.')], { lr: 0.1 });
    const features = layout === 'utterance-major' ? data.utteranceMajor : data.speakerMajor;
    // The loss on [speakers, utterances, dim] computed by hand.
    const expected = tf.tidy(() => {
      const e = encoder.forward(tf.tensor(data.speakerMajor.data, data.speakerMajor.shape)).reshape([4, 3, 5]);
      return loss.forward({ embeddings: e }).loss.dataSync()[0];
    });
    const result = trainStep({ encoder, loss, optimizer, features, speakers: 4, utterancesPerSpeaker: 3, layout });
    assert.ok(Math.abs(result.loss - expected) < 1e-6, `${layout}: loss ${result.loss} vs ${expected}`);
    // The first step created the momentum buffers; later steps create nothing that stays.
    const count = tf.memory().numTensors;
    trainStep({ encoder, loss, optimizer, features, speakers: 4, utterancesPerSpeaker: 3, layout });
    assert.equal(tf.memory().numTensors, count, `${layout}: tensors leaked`);
    const weights = encoder.fc.weight.dataSync().slice();
    optimizer.dispose();
    encoder.dispose();
    loss.dispose();
    return { loss: result.loss, weights };
  });
  assert.equal(results[0].loss, results[1].loss);
  // Rows in another order change the summation order of the gradient's matrix products (BLAS
  // accumulates in SIMD lanes): equal to a few float32 ulps of the gradient, scaled by lr.
  assertClose(results[0].weights, results[1].weights, { atol: 1e-6 }, 'updated weights');
});

test('trainStep: classification with one utterance per speaker (labels as numbers), shape and loss checks', () => {
  const rng = new Random(6);
  seedWeightInit(8);
  const encoder = new LinearEncoder(6, 5);
  const loss = createLoss('softmax', { embeddingDim: 5, numClasses: 7 });
  const optimizer = createOptimizer('adam', [...encoder.namedParameters('__S__.'), ...loss.namedParameters('__L__.')], { lr: 0.01 });
  const features = randomTensor(rng, [4, 6]);
  const first = trainStep({ encoder, loss, optimizer, features, speakers: 4, utterancesPerSpeaker: 1, labels: [3, 0, 6, 2] });
  let last = first;
  for (let i = 0; i < 20; i++) last = trainStep({ encoder, loss, optimizer, features, speakers: 4, utterancesPerSpeaker: 1, labels: Int32Array.of(3, 0, 6, 2) });
  assert.ok(last.loss < first.loss, `loss went from ${first.loss} to ${last.loss}`);
  assert.throws(() => trainStep({ encoder, loss, optimizer, features, speakers: 3, utterancesPerSpeaker: 1, labels: [1, 2, 3] }), /trainStep features/);
  const metric = createLoss('angleproto', { embeddingDim: 5 });
  assert.throws(() => trainStep({ encoder, loss: metric, optimizer, features, speakers: 4, utterancesPerSpeaker: 1 }), /at least 2 utterances/);
  tf.dispose([features]);
  optimizer.dispose();
  encoder.dispose();
  loss.dispose();
  metric.dispose();
});

test('trainStep applies the RTVC GE2E gradient policy (w/b gradients ×0.01, global norm clipped at 3)', () => {
  const rng = new Random(9);
  seedWeightInit(10);
  const encoder = new LinearEncoder(8, 6);
  const loss = createLoss('rtvc-ge2e', { embeddingDim: 6 });
  const params = [...encoder.namedParameters('__S__.'), ...loss.namedParameters('__L__.')];
  const optimizer = createOptimizer('sgd', params, { lr: 0.01, momentum: 0 });
  const features = randomTensor(rng, [12, 8], 3);
  // Reference gradients, then the policy by hand.
  const raw = tf.variableGrads(
    () => tf.tidy(() => loss.forward({ embeddings: encoder.forward(features).reshape([4, 3, 6]) }).loss),
    params.map(([, v]) => v),
  );
  const expected = new Map(params.map(([name, v]) => [name, Float64Array.from(raw.grads[v.name].dataSync()).map((x) => (name.startsWith('__L__.') ? x * 0.01 : x))]));
  tf.dispose([raw.value, ...Object.values(raw.grads)]);
  const total = Math.sqrt([...expected.values()].reduce((s, g) => s + g.reduce((t, x) => t + x * x, 0), 0));
  const coefficient = Math.min(1, 3 / (total + 1e-6));
  let seen = new Map<string, Float32Array>();
  const result = trainStep({
    encoder,
    loss,
    optimizer,
    features,
    speakers: 4,
    utterancesPerSpeaker: 3,
    layout: 'speaker-major',
    inspectGradients: (g) => (seen = new Map([...g].map(([n, t]) => [n, Float32Array.from(t.dataSync() as Float32Array)]))),
  });
  assert.ok(total > 3, 'the test batch must need clipping');
  assert.ok(Math.abs(result.gradientNorm! - total) < 1e-4 * total);
  for (const [name, g] of expected) assertClose(seen.get(name)!, g.map((x) => x * coefficient), { atol: 1e-7, rtol: 1e-4 }, name);
  tf.dispose([features]);
  optimizer.dispose();
  encoder.dispose();
  loss.dispose();
});

test('trainStep feeds the singer encoder’s class logits to the singer loss, in the embeddings’ row order', () => {
  const rng = new Random(11);
  seedWeightInit(12);
  const encoder = new SingerEncoder({ classNum: 5, numFeats: 4, hiddenSize: 8, embeddingDim: 6, numLayers: 1 });
  const loss = createLoss('singer-ge2e', { embeddingDim: 6, mode: 'both' });
  const optimizer = createOptimizer('adam', [...encoder.namedParameters(), ...loss.namedParameters('__L__.')], { lr: 1e-3 });
  const features = randomTensor(rng, [6, 7, 4]); // 3 singers × 2 utterances, utterance-major
  const labels = [4, 1, 2];
  const expected = tf.tidy(() => {
    const { embeddings, classLogits } = encoder.classify(features);
    const order = [0, 3, 1, 4, 2, 5]; // speaker-major rows
    const idx = tf.tensor1d(order, 'int32');
    return loss.forward({ embeddings: tf.gather(embeddings, idx).reshape([3, 2, 6]), classLogits: tf.gather(classLogits, idx) as tf.Tensor2D, labels: tf.tensor1d(labels, 'int32') }).loss.dataSync()[0];
  });
  const result = trainStep({ encoder, loss, optimizer, features, speakers: 3, utterancesPerSpeaker: 2, labels });
  assert.ok(Math.abs(result.loss - expected) < 1e-5 * Math.abs(expected), `${result.loss} vs ${expected}`);
  tf.dispose([features]);
  optimizer.dispose();
  encoder.dispose();
  loss.dispose();
});

test('trainStep on a small ResNetSE34L: train-mode BatchNorm bookkeeping, the loss falls, no tensors left behind', () => {
  const rng = new Random(13);
  seedWeightInit(14);
  const encoder = new ResNetSE34L({ channelsPerStage: [8, 8, 16, 16], blocksPerStage: [1, 1, 1, 1], embeddingDim: 16 });
  const loss = createLoss('angleproto', { embeddingDim: 16 });
  const optimizer = createOptimizer('adam', [...encoder.namedParameters('__S__.'), ...loss.namedParameters('__L__.')], { lr: 0.01 });
  const features = randomTensor(rng, [6, 40, 20]);
  const tracked = () => encoder.bn1.numBatchesTracked.dataSync()[0];
  const runningMean = encoder.bn1.runningMean.dataSync().slice();
  const first = trainStep({ encoder, loss, optimizer, features, speakers: 3, utterancesPerSpeaker: 2 });
  assert.equal(tracked(), 1);
  assert.notDeepEqual(encoder.bn1.runningMean.dataSync(), runningMean);
  assert.ok(encoder.training && loss.training);
  const count = tf.memory().numTensors;
  let last = first;
  for (let i = 0; i < 5; i++) last = trainStep({ encoder, loss, optimizer, features, speakers: 3, utterancesPerSpeaker: 2 });
  assert.equal(tf.memory().numTensors, count, 'tensors leaked');
  assert.equal(tracked(), 6);
  assert.ok(last.loss < first.loss, `loss went from ${first.loss} to ${last.loss}`);
  tf.dispose([features]);
  optimizer.dispose();
  encoder.dispose();
  loss.dispose();
});
