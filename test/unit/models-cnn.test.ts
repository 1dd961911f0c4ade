/**
 * Unit tests of the voxceleb_trainer CNN encoders (no fixture folder needed): key lists derived from
 * the architectures, output shapes, pooling arithmetic, determinism, gradients and tensor leaks.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/core/backend.js';
import { ShapeError, VoxkitError } from '../../src/errors.js';
import type { Module } from '../../src/models/module.js';
import { BatchNorm } from '../../src/models/layers/batch-norm.js';
import { Conv2d } from '../../src/models/layers/conv.js';
import { ConvBatchNorm, convRelu } from '../../src/models/layers/conv-bn-fold.js';
import {
  ASP_VARIANCE_FLOOR,
  attentiveStatisticsPool,
  globalMaxPool,
  selfAttentivePool,
  softmaxOverTime,
  temporalAveragePool,
} from '../../src/models/layers/pooling.js';
import { SEBasicBlock, SELayer } from '../../src/models/layers/se-basic-block.js';
import { ResNetSE34L } from '../../src/models/resnet-se34l.js';
import { ResNetSE34V2 } from '../../src/models/resnet-se34v2.js';
import { VGGVox, vggvoxOutputSize } from '../../src/models/vggvox.js';

type Shapes = Array<[string, number[]]>;

function batchNormKeys(prefix: string, channels: number): Shapes {
  return [
    [`${prefix}.weight`, [channels]],
    [`${prefix}.bias`, [channels]],
    [`${prefix}.running_mean`, [channels]],
    [`${prefix}.running_var`, [channels]],
    [`${prefix}.num_batches_tracked`, []],
  ];
}

/** `layerN.i.*` keys of voxceleb_trainer's `_make_layer(SEBasicBlock, ...)`. */
function resnetStageKeys(channels: number[], blocks: number[], strides: number[]): Shapes {
  const keys: Shapes = [];
  let inChannels = channels[0];
  channels.forEach((width, stage) => {
    for (let i = 0; i < blocks[stage]; i++) {
      const p = `layer${stage + 1}.${i}`;
      const blockIn = i === 0 ? inChannels : width;
      keys.push([`${p}.conv1.weight`, [width, blockIn, 3, 3]], ...batchNormKeys(`${p}.bn1`, width));
      keys.push([`${p}.conv2.weight`, [width, width, 3, 3]], ...batchNormKeys(`${p}.bn2`, width));
      const hidden = Math.floor(width / 8);
      keys.push(
        [`${p}.se.fc.0.weight`, [hidden, width]],
        [`${p}.se.fc.0.bias`, [hidden]],
        [`${p}.se.fc.2.weight`, [width, hidden]],
        [`${p}.se.fc.2.bias`, [width]],
      );
      if (i === 0 && (strides[stage] !== 1 || blockIn !== width)) {
        keys.push([`${p}.downsample.0.weight`, [width, blockIn, 1, 1]], ...batchNormKeys(`${p}.downsample.1`, width));
      }
    }
    inChannels = width;
  });
  return keys;
}

function melKeys(prefix: string, numMels: number): Shapes {
  return [
    [`${prefix}spectrogram.window`, [400]],
    [`${prefix}mel_scale.fb`, [257, numMels]],
  ];
}

function expectedResNetSE34LKeys(numMels: number, nOut: number, asp: boolean): Shapes {
  const c = [16, 32, 64, 128];
  return [
    ['attention', [128, 1]],
    ['conv1.weight', [16, 1, 7, 7]],
    ...batchNormKeys('bn1', 16),
    ...resnetStageKeys(c, [3, 4, 6, 3], [1, 2, 2, 1]),
    ...melKeys('torchfb.', numMels),
    ['sap_linear.weight', [128, 128]],
    ['sap_linear.bias', [128]],
    ['fc.weight', [nOut, asp ? 256 : 128]],
    ['fc.bias', [nOut]],
  ];
}

function expectedResNetSE34V2Keys(numMels: number, nOut: number, asp: boolean, c = [32, 64, 128, 256]): Shapes {
  const flat = c[3] * Math.floor(numMels / 8);
  return [
    ['conv1.weight', [c[0], 1, 3, 3]],
    ['conv1.bias', [c[0]]],
    ...batchNormKeys('bn1', c[0]),
    ...resnetStageKeys(c, [3, 4, 6, 3], [1, 2, 2, 2]),
    ['torchfb.0.flipped_filter', [1, 1, 2]],
    ...melKeys('torchfb.1.', numMels),
    ['attention.0.weight', [128, flat, 1]],
    ['attention.0.bias', [128]],
    ...batchNormKeys('attention.2', 128),
    ['attention.3.weight', [flat, 128, 1]],
    ['attention.3.bias', [flat]],
    ['fc.weight', [nOut, asp ? 2 * flat : flat]],
    ['fc.bias', [nOut]],
  ];
}

function expectedVGGVoxKeys(nOut: number, sap: boolean): Shapes {
  const convs: Array<[number, number, number, number, number]> = [
    [0, 96, 1, 5, 7],
    [4, 256, 96, 5, 5],
    [8, 384, 256, 3, 3],
    [11, 256, 384, 3, 3],
    [14, 256, 256, 3, 3],
    [18, 512, 256, 4, 1],
  ];
  const keys: Shapes = sap ? [['attention', [512, 1]]] : [];
  for (const [index, out, inp, kh, kw] of convs) {
    keys.push([`netcnn.${index}.weight`, [out, inp, kh, kw]], [`netcnn.${index}.bias`, [out]]);
    keys.push(...batchNormKeys(`netcnn.${index + 1}`, out));
  }
  if (sap) keys.push(['sap_linear.weight', [512, 512]], ['sap_linear.bias', [512]]);
  keys.push(['fc.weight', [nOut, 512]], ['fc.bias', [nOut]], ...melKeys('torchfb.', 40));
  return keys;
}

/** Parameters = every key that is not a buffer. */
function countParameters(keys: Shapes): number {
  const buffer = /(running_mean|running_var|num_batches_tracked|window|mel_scale\.fb|flipped_filter)$/;
  return keys.filter(([k]) => !buffer.test(k)).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
}

function withModel<M extends Module, R>(model: M, fn: (m: M) => R): R {
  try {
    return fn(model);
  } finally {
    model.dispose();
  }
}

function randomFeatures(batch: number, numMels: number, frames: number): tf.Tensor3D {
  return tf.randomNormal([batch, numMels, frames], 0, 1, 'float32', 7);
}

/** A deterministic pseudo-random waveform (LCG) in [-0.5, 0.5). */
function testWave(samples: number, seed: number): Float32Array {
  const wave = new Float32Array(samples);
  let state = seed >>> 0;
  for (let i = 0; i < samples; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    wave[i] = state / 2 ** 32 - 0.5;
  }
  return wave;
}

// SE reduction 8 needs at least 8 channels per stage.
const NARROW_V2 = { channelsPerStage: [8, 8, 16, 16] as [number, number, number, number] };

before(async () => {
  await useBackend();
});

describe('state-dict key lists of the real-size models', () => {
  test('ResNetSE34L (SAP and ASP) follows PyTorch names, shapes and order', () => {
    for (const pooling of ['SAP', 'ASP'] as const) {
      withModel(new ResNetSE34L({ pooling }), (m) => {
        const expected = expectedResNetSE34LKeys(40, 512, pooling === 'ASP');
        assert.deepEqual(m.stateDictShapes(), expected);
        assert.equal(m.numParameters(), countParameters(expected));
        assert.equal(m.stateDict().get('bn1.num_batches_tracked')?.dtype, 'int64');
      });
    }
    // REFERENCE.md §3.4: 1 437 078 parameters (SAP, 512-d).
    withModel(new ResNetSE34L(), (m) => assert.equal(m.numParameters(), 1_437_078));
  });

  test('ResNetSE34V2 (ASP, 64 mels; SAP, 40 mels) follows PyTorch names, shapes and order', () => {
    withModel(new ResNetSE34V2(), (m) => {
      const expected = expectedResNetSE34V2Keys(64, 512, true);
      assert.deepEqual(m.stateDictShapes(), expected);
      assert.equal(m.numParameters(), countParameters(expected));
      // REFERENCE.md §3.5: 8 028 492 parameters (ASP, 64 mels, 512-d).
      assert.equal(m.numParameters(), 8_028_492);
    });
    withModel(new ResNetSE34V2({ pooling: 'SAP', numMels: 40, embeddingDim: 256 }), (m) => {
      assert.deepEqual(m.stateDictShapes(), expectedResNetSE34V2Keys(40, 256, false));
    });
  });

  test('VGGVox: netcnn weights at Sequential indices 0/1, 4/5, 8/9, 11/12, 14/15, 18/19', () => {
    withModel(new VGGVox(), (m) => assert.deepEqual(m.stateDictShapes(), expectedVGGVoxKeys(512, true)));
    for (const pooling of ['TAP', 'MAX'] as const) {
      withModel(new VGGVox({ pooling, embeddingDim: 256 }), (m) =>
        assert.deepEqual(m.stateDictShapes(), expectedVGGVoxKeys(256, false)),
      );
    }
  });

  test('front-end buffers default to the code settings', () => {
    withModel(new ResNetSE34V2(NARROW_V2), (m) => {
      const sd = m.stateDict();
      assert.deepEqual([...sd.get('torchfb.0.flipped_filter')!.data], [Math.fround(-0.97), 1]);
      const window = sd.get('torchfb.1.spectrogram.window')!.data as Float32Array;
      assert.ok(Math.abs(window[0] - 0.08) < 1e-6, 'periodic Hamming starts at 0.08');
      assert.ok(Math.abs(window[200] - 1) < 1e-6, 'periodic Hamming peaks at n = N/2');
    });
    withModel(new VGGVox(), (m) => {
      const window = m.stateDict().get('torchfb.spectrogram.window')!.data as Float32Array;
      assert.equal(window[0], 0, 'periodic Hann starts at 0');
    });
  });
});

describe('shapes', () => {
  test('ResNetSE34L: stage outputs and embedding', () => {
    for (const pooling of ['SAP', 'ASP'] as const) {
      withModel(new ResNetSE34L({ pooling, embeddingDim: 64 }), (m) => {
        const shapes = new Map<string, number[]>();
        const x = randomFeatures(2, 40, 37);
        const y = m.forward(x, (name, v) => shapes.set(name, v.shape));
        assert.deepEqual(y.shape, [2, 64]);
        // NHWC [batch, freq, time, channels]; strides (2,1) stem, then (2,2), (2,2).
        assert.deepEqual(shapes.get('conv1'), [2, 20, 37, 16]);
        assert.deepEqual(shapes.get('layer2'), [2, 10, 19, 32]);
        assert.deepEqual(shapes.get('layer4'), [2, 5, 10, 128]);
        assert.deepEqual(shapes.get('fc.input'), [2, pooling === 'ASP' ? 256 : 128]);
        tf.dispose([x, y]);
      });
    }
  });

  test('ResNetSE34V2: stage-4 output flattened to C·F′ channels', () => {
    for (const pooling of ['SAP', 'ASP'] as const) {
      withModel(new ResNetSE34V2({ ...NARROW_V2, pooling, numMels: 64, embeddingDim: 32 }), (m) => {
        const shapes = new Map<string, number[]>();
        const x = randomFeatures(3, 64, 21);
        const y = m.forward(x, (name, v) => shapes.set(name, v.shape));
        assert.deepEqual(y.shape, [3, 32]);
        assert.deepEqual(shapes.get('layer4'), [3, 8, 3, 16]);
        assert.deepEqual(shapes.get('attention'), [3, 3, 128]);
        assert.deepEqual(shapes.get('fc.input'), [3, pooling === 'ASP' ? 256 : 128]);
        tf.dispose([x, y]);
      });
    }
  });

  test('VGGVox: netcnn output [B, 1, T′, 512] for every pooling', () => {
    assert.deepEqual(vggvoxOutputSize(40, 125), [1, 2]);
    for (const pooling of ['SAP', 'TAP', 'MAX'] as const) {
      withModel(new VGGVox({ pooling, embeddingDim: 16 }), (m) => {
        const shapes = new Map<string, number[]>();
        const x = randomFeatures(2, 40, 125);
        const y = m.forward(x, (name, v) => shapes.set(name, v.shape));
        assert.deepEqual(shapes.get('netcnn'), [2, 1, 2, 512]);
        assert.deepEqual(y.shape, [2, 16]);
        tf.dispose([x, y]);
      });
    }
  });

  test('embed() runs the front-end: [batch, samples] → [batch, dim]', () => {
    // 0.7 s: VGGVox needs at least 63 frames.
    const waves = [testWave(11200, 1), testWave(11200, 2)];
    withModel(new ResNetSE34L({ embeddingDim: 8 }), (m) => {
      const features = m.features(waves);
      assert.deepEqual(features.shape, [2, 40, 71]);
      features.dispose();
      const y = m.embed(waves);
      assert.deepEqual(y.shape, [2, 8]);
      y.dispose();
    });
    withModel(new ResNetSE34V2({ ...NARROW_V2, embeddingDim: 8 }), (m) => {
      const y = m.embed(waves);
      assert.deepEqual(y.shape, [2, 8]);
      y.dispose();
    });
    withModel(new VGGVox({ embeddingDim: 8 }), (m) => {
      const y = m.embed(waves);
      assert.deepEqual(y.shape, [2, 8]);
      y.dispose();
    });
  });

  test('bad inputs and configs are rejected with clear errors', () => {
    withModel(new ResNetSE34L(), (m) => {
      const x = randomFeatures(1, 64, 10);
      assert.throws(() => m.forward(x), ShapeError);
      x.dispose();
    });
    withModel(new VGGVox(), (m) => {
      const x = randomFeatures(1, 40, 20);
      assert.throws(() => m.forward(x), (e: unknown) => e instanceof ShapeError && /frames ≥ \d+/.test(e.message));
      x.dispose();
    });
    assert.throws(() => new ResNetSE34L({ pooling: 'TAP' as never }), (e: unknown) => e instanceof VoxkitError && e.code === 'E_CONFIG');
    assert.throws(() => new VGGVox({ pooling: 'ASP' as never }), (e: unknown) => e instanceof VoxkitError && e.code === 'E_CONFIG');
  });
});

describe('pooling', () => {
  test('SAP and ASP on a hand-computed example, with the variance floor', () => {
    // frames [1, 2, 2]: x_0 = (1, 3), x_1 = (3, 3); weights (0.25, 0.75).
    const x = tf.tensor3d([[[1, 3], [3, 3]]]);
    const w = tf.tensor3d([[[0.25], [0.75]]]);
    assert.deepEqual(selfAttentivePool(x, w).arraySync(), [[2.5, 3]]);
    const [mean0, mean1, std0, std1] = (attentiveStatisticsPool(x, w).arraySync() as number[][])[0];
    assert.deepEqual([mean0, mean1], [2.5, 3]);
    assert.ok(Math.abs(std0 - Math.sqrt(0.25 * 1 + 0.75 * 9 - 6.25)) < 1e-6);
    // A constant channel has zero variance: clamped to 1e-5 before the square root.
    assert.ok(Math.abs(std1 - Math.sqrt(ASP_VARIANCE_FLOOR)) < 1e-7);
    tf.dispose([x, w]);
  });

  test('softmaxOverTime equals a last-axis softmax of the transposed logits', () => {
    const logits = tf.randomNormal([2, 5, 3], 0, 3, 'float32', 3) as tf.Tensor3D;
    const ours = softmaxOverTime(logits);
    const reference = tf.softmax(logits.transpose([0, 2, 1])).transpose([0, 2, 1]);
    const diff = ours.sub(reference).abs().max().dataSync()[0];
    assert.ok(diff < 1e-6, `max diff ${diff}`);
    tf.dispose([logits, ours, reference]);
  });

  test('TAP and MAX pool over both spatial axes', () => {
    const x = tf.tensor4d([1, 5, 2, -1, 3, 0, 4, 2], [1, 2, 2, 2]);
    assert.deepEqual(temporalAveragePool(x).arraySync(), [[2.5, 1.5]]);
    assert.deepEqual(globalMaxPool(x).arraySync(), [[4, 5]]);
    x.dispose();
  });
});

describe('SEBasicBlock', () => {
  test('a shortcut conv exists exactly when the stride or width changes', () => {
    const keysOf = (b: SEBasicBlock) => b.stateDictShapes().map(([k]) => k);
    withModel(new SEBasicBlock({ inChannels: 8, outChannels: 8 }), (b) => assert.ok(!keysOf(b).some((k) => k.startsWith('downsample'))));
    withModel(new SEBasicBlock({ inChannels: 8, outChannels: 16 }), (b) => assert.ok(keysOf(b).includes('downsample.0.weight')));
    withModel(new SEBasicBlock({ inChannels: 8, outChannels: 8, stride: [2, 2] }), (b) => {
      assert.ok(keysOf(b).includes('downsample.1.running_var'));
      const x = tf.randomNormal([1, 5, 7, 8]) as tf.Tensor4D;
      const y = b.forward(x);
      assert.deepEqual(y.shape, [1, 3, 4, 8]);
      tf.dispose([x, y]);
    });
  });

  test('ReLU comes before BN1 (a negative BN1 bias reaches conv2)', () => {
    withModel(new SEBasicBlock({ inChannels: 8, outChannels: 8 }), (b) => {
      // conv1 ≡ 0 and BN1 bias −1: ReLU → BN gives −1 everywhere, BN → ReLU would give 0.
      b.conv1.weight.assign(tf.zeros(b.conv1.weight.shape));
      b.bn1.bias!.assign(tf.fill([8], -1));
      // conv2 = −identity through the centre tap, so −1 becomes +1 and survives the final ReLU.
      const kernel = tf.buffer([8, 8, 3, 3]);
      for (let c = 0; c < 8; c++) kernel.set(-1, c, c, 1, 1);
      b.conv2.weight.assign(kernel.toTensor());
      const x = tf.zeros([1, 3, 3, 8]) as tf.Tensor4D;
      const y = b.forward(x);
      assert.ok(y.min().dataSync()[0] > 0.1, 'output would be 0 with BN before ReLU');
      tf.dispose([x, y]);
    });
  });

  test('fewer channels than the SE reduction: the gates are sigmoid(fc.2.bias), as PyTorch computes', () => {
    withModel(new SELayer(4), (se) => {
      assert.deepEqual(se.squeeze.weight.shape, [0, 4]);
      const x = tf.randomNormal([2, 3, 5, 4]) as tf.Tensor4D;
      const y = se.forward(x);
      const expected = x.mul(se.excite.bias!.sigmoid().reshape([1, 1, 1, 4]));
      assert.ok(y.sub(expected).abs().max().dataSync()[0] < 1e-7);
      tf.dispose([x, y, expected]);
    });
    withModel(new ResNetSE34L({ channelsPerStage: [4, 4, 8, 8], embeddingDim: 8 }), (model) => {
      model.train(true);
      const x = tf.randomNormal([2, 40, 60]);
      const { value, grads } = tf.variableGrads(() => (model.forward(x) as tf.Tensor).square().sum() as tf.Scalar);
      assert.ok(Number.isFinite(value.dataSync()[0]));
      tf.dispose([x, value, ...Object.values(grads)]);
    });
  });
});

describe('inference fast path (BatchNorm folded into the convolution)', () => {
  function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
    return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);
  }

  test('ConvBatchNorm equals conv → BN (→ ReLU) and follows reassigned statistics', () => {
    const conv = new Conv2d(3, 5, [3, 5], { stride: [2, 1], padding: [1, 2] });
    const bn = new BatchNorm(5);
    const randomizeStats = (seed: number) => {
      bn.weight!.assign(tf.randomUniform([5], 0.8, 1.2, 'float32', seed));
      bn.bias!.assign(tf.randomNormal([5], 0, 0.1, 'float32', seed + 1));
      bn.runningMean.assign(tf.randomNormal([5], 0, 0.1, 'float32', seed + 2));
      bn.runningVar.assign(tf.randomUniform([5], 0.5, 1.5, 'float32', seed + 3));
    };
    const fused = new ConvBatchNorm(conv, bn);
    const x = tf.randomNormal([2, 7, 9, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    for (const seed of [10, 20]) {
      randomizeStats(seed);
      for (const activation of ['linear', 'relu'] as const) {
        const fast = fused.forward(x, activation);
        const plain = tf.tidy(() => {
          const y = bn.forward(conv.forward(x));
          return activation === 'relu' ? y.relu() : y;
        });
        assert.deepEqual(fast.shape, plain.shape);
        assert.ok(maxAbsDiff(fast, plain) < 1e-5, `seed ${seed} ${activation}`);
        tf.dispose([fast, plain]);
      }
    }
    const relu = convRelu(conv, x);
    const reluPlain = tf.tidy(() => conv.forward(x).relu());
    assert.ok(maxAbsDiff(relu, reluPlain) < 1e-6);
    tf.dispose([x, relu, reluPlain]);
    fused.dispose();
    conv.dispose();
    bn.dispose();
  });

  test('models give the same embedding with and without the fast path', () => {
    const models = [new ResNetSE34L({ embeddingDim: 16 }), new ResNetSE34V2({ ...NARROW_V2, embeddingDim: 16 }), new VGGVox({ embeddingDim: 16 })];
    for (const m of models) {
      withModel(m, () => {
        // Non-trivial BN statistics everywhere, as in the reference fixtures.
        for (const [name, v] of m.namedBuffers()) {
          if (name.endsWith('running_mean')) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 11));
          if (name.endsWith('running_var')) v.assign(tf.randomUniform(v.shape, 0.5, 1.5, 'float32', 12));
        }
        const numMels = m instanceof ResNetSE34V2 ? 64 : 40;
        const x = randomFeatures(2, numMels, 80);
        const fast = m.forward(x);
        // A probe switches the stems to the layer-by-layer path; a tape switches every layer.
        const probed = m.forward(x, () => {});
        const taped = tf.tidy(() => {
          let out: tf.Tensor | undefined;
          tf.variableGrads(() => {
            const y = m.forward(x);
            out = tf.keep(y.clone());
            return y.sum() as tf.Scalar;
          }).value.dispose();
          return out!;
        });
        assert.ok(maxAbsDiff(fast, probed) < 1e-5, `${m.architecture}: probe path`);
        assert.ok(maxAbsDiff(fast, taped) < 1e-5, `${m.architecture}: gradient path`);
        tf.dispose([x, fast, probed, taped]);
      });
    }
  });
});

describe('determinism, training and resources', () => {
  test('same weights and input give identical outputs, across instances too', () => {
    const a = new ResNetSE34V2({ ...NARROW_V2, numMels: 40 });
    const b = new ResNetSE34V2({ ...NARROW_V2, numMels: 40 });
    const x = randomFeatures(2, 40, 30);
    const y1 = a.forward(x);
    const y2 = a.forward(x);
    assert.deepEqual(y1.dataSync(), y2.dataSync());
    // b has other random weights until it loads a's; its cached conv kernels must follow.
    const before = b.forward(x);
    b.loadStateDict(a.stateDict());
    const y3 = b.forward(x);
    assert.notDeepEqual(before.dataSync(), y3.dataSync());
    assert.deepEqual(y1.dataSync(), y3.dataSync());
    tf.dispose([x, y1, y2, y3, before]);
    a.dispose();
    b.dispose();
  });

  test('gradients reach every parameter in train mode (after an inference pass filled the kernel cache)', () => {
    withModel(new ResNetSE34L({ channelsPerStage: [8, 8, 8, 8], blocksPerStage: [1, 1, 1, 1], embeddingDim: 8 }), (m) => {
      const x = randomFeatures(2, 40, 12);
      m.forward(x).dispose();
      m.train();
      const runningMeanBefore = m.bn1.runningMean.dataSync().slice();
      const { value, grads } = tf.variableGrads(() => m.forward(x).square().sum() as tf.Scalar);
      const trainable = m.namedParameters();
      for (const [name, v] of trainable) {
        const g = grads[v.name];
        assert.ok(g, `no gradient for ${name}`);
        const values = g.dataSync();
        assert.ok(values.every(Number.isFinite), `non-finite gradient for ${name}`);
        if (name.endsWith('conv1.weight') || name.endsWith('conv2.weight')) {
          assert.ok(values.some((v2) => v2 !== 0), `zero gradient for ${name}`);
        }
      }
      assert.notDeepEqual(m.bn1.runningMean.dataSync(), runningMeanBefore, 'train mode updates BN running stats');
      m.eval();
      tf.dispose([x, value, ...Object.values(grads)]);
    });
  });

  test('Conv2d gradients on the active backend equal the cpu backend (wasm lacks Conv2DBackpropFilter)', async () => {
    const active = tf.getBackend();
    const xValues = Array.from({ length: 2 * 6 * 5 * 3 }, (_, i) => Math.sin(i * 0.7));
    const wValues = Array.from({ length: 4 * 3 * 5 * 3 }, (_, i) => Math.cos(i * 1.3));
    const gradients = () =>
      tf.tidy(() => {
        const conv = new Conv2d(3, 4, [5, 3], { stride: [2, 1], padding: [2, 1], bias: false });
        conv.weight.assign(tf.tensor4d(wValues, [4, 3, 5, 3]));
        const x = tf.tensor4d(xValues, [2, 6, 5, 3]);
        const f = (input: tf.Tensor) => conv.forward(input as tf.Tensor4D).square().sum() as tf.Scalar;
        const { grads } = tf.variableGrads(() => f(x), [conv.weight]);
        const dx = tf.grad(f)(x);
        const out = { dw: Array.from(grads[conv.weight.name].dataSync()), dx: Array.from(dx.dataSync()) };
        conv.dispose();
        return out;
      });
    const ours = gradients();
    await tf.setBackend('cpu');
    const reference = gradients();
    await tf.setBackend(active);
    for (const key of ['dw', 'dx'] as const) {
      const maxDiff = Math.max(...ours[key].map((v, i) => Math.abs(v - reference[key][i])));
      const scale = Math.max(...reference[key].map(Math.abs));
      assert.ok(maxDiff <= 1e-5 * scale, `${key}: max diff ${maxDiff} (scale ${scale})`);
    }
  });

  test('forward and embed leave no tensors behind', () => {
    const waves = [testWave(11200, 3)];
    for (const m of [new ResNetSE34L({ embeddingDim: 8 }), new ResNetSE34V2(NARROW_V2), new VGGVox({ pooling: 'TAP' })]) {
      withModel(m, () => {
        m.embed(waves).dispose(); // warm-up: caches transposed conv kernels
        const before = tf.memory().numTensors;
        m.embed(waves).dispose();
        m.embed(waves).dispose();
        assert.equal(tf.memory().numTensors, before, `${m.architecture} leaked tensors`);
      });
    }
  });

  test('dispose() frees the weights and the cached kernels', () => {
    const before = tf.memory().numTensors;
    const conv = new Conv2d(2, 3, 3, { padding: 1 });
    const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
    conv.forward(x).dispose();
    conv.dispose();
    x.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
