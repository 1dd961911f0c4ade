/**
 * Every kernel of the native backend against the cpu backend's, on the same seeded random inputs:
 * each case runs once under tf.setBackend('cpu') and once under 'native', and the results must
 * agree — float within 1e-5 relative (per element, plus 1e-5 of the tensor's largest magnitude
 * where a sum may cancel), layouts, integers and booleans exactly, NaN and ±Infinity in the same
 * places. Each case also checks that the addon function it is meant to exercise really ran, so a
 * kernel that silently declines to the cpu kernel cannot pass for a correct one.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/core/backend.js';
import { Random, uniformArray } from '../../src/core/random.js';
import type { NativeAddon, TypedArray } from '../../src/engine/native/addon.js';
import { loadNativeAddon } from '../../src/engine/native/addon-node.js';
import { addon, setAddon } from '../../src/engine/native/context.js';
import { batchNormTraining } from '../../src/models/layers/batch-norm-training.js';
import { assertClose, type Tolerance } from '../helpers/close.js';

const load = loadNativeAddon();
const skip = load.addon ? false : `${load.reason}; npm run build:native builds it`;

/** Float tolerances: element-wise maths is per element; anything that sums may cancel to near zero. */
const ELEMENTWISE: Tolerance = { rtol: 1e-5, atol: 1e-7 };
const SUMS: Tolerance = { rtol: 1e-5, rtolMax: 1e-5 };

const rng = new Random(7);

type Shape = number[];

function floats(shape: Shape, low = -1, high = 1): Float32Array {
  return uniformArray(sizeOf(shape), low, high, rng);
}

function ints(shape: Shape): Int32Array {
  return Int32Array.from({ length: sizeOf(shape) }, () => rng.int(201) - 100);
}

function bools(shape: Shape): Uint8Array {
  return Uint8Array.from({ length: sizeOf(shape) }, () => rng.int(2));
}

function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

function valuesOf(dtype: 'float32' | 'int32' | 'bool', shape: Shape): TypedArray {
  return dtype === 'float32' ? floats(shape) : dtype === 'int32' ? ints(shape) : bools(shape);
}

/** A fresh tensor on the active backend, on its own copy of the data (the cpu store keeps the array it is given). */
function tensor(data: TypedArray, shape: Shape, dtype: tf.DataType = data instanceof Int32Array ? 'int32' : data instanceof Uint8Array ? 'bool' : 'float32'): tf.Tensor {
  return tf.tensor(data.slice(), shape, dtype);
}

/** Calls per addon function, counted by a thin wrapper around the loaded addon. */
const calls = new Map<string, number>();

before(async () => {
  if (skip) return;
  await useBackend('native');
  const real = addon();
  const counting = Object.fromEntries(
    Object.entries(real).map(([name, fn]) => [
      name,
      typeof fn === 'function'
        ? (...args: unknown[]) => {
          calls.set(name, (calls.get(name) ?? 0) + 1);
          return (fn as (...a: unknown[]) => unknown).apply(real, args);
        }
        : fn,
    ]),
  ) as unknown as NativeAddon;
  setAddon(counting);
});

interface Output {
  shape: number[];
  dtype: tf.DataType;
  values: TypedArray;
}

function run(build: () => tf.Tensor | tf.Tensor[]): Output[] {
  const out = tf.tidy(build);
  const list = Array.isArray(out) ? out : [out];
  const result = list.map((t) => ({ shape: t.shape.slice(), dtype: t.dtype, values: t.dataSync().slice() as TypedArray }));
  tf.dispose(list);
  return result;
}

interface CaseOptions {
  /** The addon function the native run must call (omit for cases the kernel is allowed to decline). */
  calls?: keyof NativeAddon | null;
  tol?: Tolerance;
  /** A different computation for the cpu reference (for fusions the cpu backend lacks). */
  reference?: () => tf.Tensor | tf.Tensor[];
}

/** Non-finite values must sit in the same places; the finite rest compared within `tol`. */
function assertSameFloats(actual: TypedArray, expected: TypedArray, tol: Tolerance, label: string, shape: Shape): void {
  const a = Float64Array.from(actual);
  const e = Float64Array.from(expected);
  for (let i = 0; i < e.length; i++) {
    if (Number.isFinite(e[i]!) && Number.isFinite(a[i]!)) continue;
    assert.ok(Object.is(a[i], e[i]) || (Number.isNaN(a[i]!) && Number.isNaN(e[i]!)), `${label}: element ${i} is ${a[i]}, expected ${e[i]}`);
    a[i] = 0;
    e[i] = 0;
  }
  assertClose(a, e, tol, label, { actual: shape, expected: shape });
}

async function check(label: string, build: () => tf.Tensor | tf.Tensor[], options: CaseOptions = {}): Promise<void> {
  await tf.setBackend('cpu');
  const expected = run(options.reference ?? build);
  await tf.setBackend('native');
  calls.clear();
  const actual = run(build);
  if (options.calls) assert.ok((calls.get(options.calls) ?? 0) > 0, `${label}: the native kernel declined (addon.${options.calls} was not called)`);
  assert.equal(actual.length, expected.length, `${label}: number of outputs`);
  expected.forEach((e, i) => {
    const a = actual[i]!;
    const what = expected.length > 1 ? `${label} [output ${i}]` : label;
    assert.deepEqual(a.shape, e.shape, `${what}: shape`);
    assert.equal(a.dtype, e.dtype, `${what}: dtype`);
    if (e.dtype === 'float32') assertSameFloats(a.values, e.values, options.tol ?? SUMS, what, e.shape);
    else assert.deepEqual(Array.from(a.values), Array.from(e.values), `${what}: values`);
  });
}

// ---- BatchMatMul, _FusedMatMul ----

test('BatchMatMul: transposes, batches and batch broadcasting match the cpu backend', { skip }, async () => {
  const cases: Array<[Shape, Shape, boolean, boolean, boolean]> = [
    // a, b, transposeA, transposeB, native (false: the kernel may decline)
    [[3, 5], [5, 4], false, false, true],
    [[5, 3], [5, 4], true, false, true],
    [[3, 5], [4, 5], false, true, true],
    [[5, 3], [4, 5], true, true, true],
    [[1, 37], [37, 1], false, false, true],
    [[17, 33], [33, 19], false, false, true],
    [[2, 3, 5], [2, 5, 4], false, false, true],
    [[4, 5, 3], [4, 4, 5], true, true, true],
    [[2, 3, 5], [5, 4], false, false, true],
    [[3, 5], [2, 5, 4], false, false, true],
    [[2, 3, 5], [1, 5, 4], false, false, true],
    [[1, 5, 3], [6, 4, 5], true, true, true],
    [[2, 3, 3, 5], [5, 4], false, false, true],
    [[2, 3, 5], [1, 1, 5, 4], false, false, true],
    [[2, 2, 3, 5], [2, 2, 5, 4], false, false, true],
    [[2, 1, 3, 5], [1, 3, 5, 4], false, false, false],
    [[3, 0], [0, 4], false, false, false],
  ];
  for (const [sa, sb, ta, tb, native] of cases) {
    const a = floats(sa);
    const b = floats(sb);
    await check(`BatchMatMul ${JSON.stringify(sa)}${ta ? 'ᵀ' : ''} × ${JSON.stringify(sb)}${tb ? 'ᵀ' : ''}`, () => tf.matMul(tensor(a, sa), tensor(b, sb), ta, tb), { calls: native ? 'matmul' : null });
  }
});

test('_FusedMatMul: bias shapes and relu, sigmoid, tanh activations match the cpu backend', { skip }, async () => {
  const cases: Array<[Shape, Shape, boolean, boolean, Shape | null, string]> = [
    [[4, 6], [6, 5], false, false, [5], 'linear'],
    [[4, 6], [6, 5], false, false, [5], 'relu'],
    [[6, 4], [5, 6], true, true, [1, 5], 'sigmoid'],
    [[4, 6], [5, 6], false, true, [1], 'relu'],
    [[2, 4, 6], [2, 6, 5], false, false, [5], 'sigmoid'],
    [[2, 4, 6], [6, 5], false, false, null, 'relu'],
    [[3, 7], [7, 9], false, false, [9], 'tanh'],
    [[2, 3, 7], [7, 9], false, false, null, 'tanh'],
    [[4, 6], [6, 5], false, false, [4, 5], 'relu'],
  ];
  for (const [sa, sb, ta, tb, sbias, activation] of cases) {
    const a = floats(sa);
    const b = floats(sb);
    const bias = sbias ? floats(sbias) : null;
    const label = `_FusedMatMul ${JSON.stringify(sa)}${ta ? 'ᵀ' : ''} × ${JSON.stringify(sb)}${tb ? 'ᵀ' : ''} + bias ${JSON.stringify(sbias)}, ${activation}`;
    const fused = (): tf.Tensor => tf.engine().runKernel(
      tf._FusedMatMul,
      bias ? { a: tensor(a, sa), b: tensor(b, sb), bias: tensor(bias, sbias!) } : { a: tensor(a, sa), b: tensor(b, sb) },
      { transposeA: ta, transposeB: tb, activation },
    ) as tf.Tensor;
    // The cpu backend has no fused tanh: its reference is the composed matMul + bias, tanh.
    const reference = activation === 'tanh'
      ? () => {
        const product = tf.matMul(tensor(a, sa), tensor(b, sb), ta, tb);
        return tf.tanh(bias ? tf.add(product, tensor(bias, sbias!)) : product);
      }
      : undefined;
    const native = sbias === null || sizeOf(sbias) === 1 || sbias.slice(0, -1).every((d) => d === 1);
    await check(label, fused, { calls: native ? 'matmul' : null, reference });
  }
});

// ---- Conv2D, FusedConv2D, Conv2DBackpropInput, Conv2DBackpropFilter ----

type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;

interface ConvCase {
  x: Shape;
  filter: Shape;
  strides: [number, number];
  pad: Pad;
  dilations: [number, number];
}

const CONV_CASES: ConvCase[] = [
  { x: [2, 7, 9, 3], filter: [1, 1, 3, 4], strides: [1, 1], pad: 'valid', dilations: [1, 1] },
  { x: [2, 7, 9, 3], filter: [1, 1, 3, 4], strides: [2, 2], pad: 'valid', dilations: [1, 1] },
  { x: [2, 7, 9, 3], filter: [1, 1, 3, 4], strides: [2, 2], pad: 'same', dilations: [1, 1] },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: [1, 1], pad: 'same', dilations: [1, 1] },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: [1, 1], pad: 'valid', dilations: [1, 1] },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: [2, 2], pad: 'same', dilations: [1, 1] },
  { x: [2, 8, 10, 3], filter: [3, 3, 3, 4], strides: [2, 2], pad: 'same', dilations: [1, 1] },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: [2, 2], pad: 'valid', dilations: [1, 1] },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: [1, 2], pad: 'same', dilations: [1, 1] },
  { x: [2, 9, 11, 3], filter: [3, 3, 3, 4], strides: [1, 1], pad: 'same', dilations: [2, 2] },
  { x: [2, 9, 11, 3], filter: [3, 3, 3, 4], strides: [1, 1], pad: 'valid', dilations: [2, 3] },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: [1, 1], pad: [[0, 0], [1, 2], [0, 1], [0, 0]], dilations: [1, 1] },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: [2, 2], pad: [[0, 0], [2, 0], [1, 1], [0, 0]], dilations: [1, 1] },
  { x: [1, 5, 5, 1], filter: [2, 2, 1, 3], strides: [1, 1], pad: 'same', dilations: [1, 1] },
  { x: [3, 6, 1, 5], filter: [3, 1, 5, 2], strides: [2, 1], pad: 'same', dilations: [1, 1] },
];

function convLabel(kernelName: string, c: ConvCase): string {
  return `${kernelName} x ${JSON.stringify(c.x)} filter ${JSON.stringify(c.filter)} strides ${c.strides} pad ${JSON.stringify(c.pad)} dilations ${c.dilations}`;
}

function convOutShape(c: ConvCase): Shape {
  const info = tf.backend_util.computeConv2DInfo(
    c.x as [number, number, number, number], c.filter as [number, number, number, number], c.strides, c.dilations, c.pad, undefined, false, 'channelsLast',
  );
  return info.outShape;
}

test('Conv2D: 1×1 and 3×3 filters, strides 1 and 2, dilation, same/valid/explicit pads, odd sizes match the cpu backend', { skip }, async () => {
  for (const c of CONV_CASES) {
    const x = floats(c.x);
    const filter = floats(c.filter);
    await check(convLabel('Conv2D', c), () => tf.conv2d(tensor(x, c.x) as tf.Tensor4D, tensor(filter, c.filter) as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilations), { calls: 'conv2d' });
  }
});

test('FusedConv2D: bias and relu match the cpu backend', { skip }, async () => {
  for (const c of CONV_CASES.slice(0, 8)) {
    const x = floats(c.x);
    const filter = floats(c.filter);
    const bias = floats([c.filter[3]!]);
    for (const [withBias, activation] of [[true, 'relu'], [true, 'linear'], [false, 'relu']] as const) {
      await check(
        `${convLabel('FusedConv2D', c)} bias ${withBias} ${activation}`,
        () => tf.fused.conv2d({
          x: tensor(x, c.x) as tf.Tensor4D, filter: tensor(filter, c.filter) as tf.Tensor4D, strides: c.strides, pad: c.pad,
          dilations: c.dilations, bias: withBias ? tensor(bias, [c.filter[3]!]) : undefined, activation,
        }),
        { calls: 'conv2d' },
      );
    }
  }
});

test('Conv2DBackpropInput and Conv2DBackpropFilter match the cpu backend', { skip }, async () => {
  // tfjs's convolution gradients have no dilation.
  for (const c of CONV_CASES.filter((k) => k.dilations[0] === 1 && k.dilations[1] === 1)) {
    const dyShape = convOutShape(c);
    const dy = floats(dyShape);
    const x = floats(c.x);
    const filter = floats(c.filter);
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
    await check(
      convLabel('Conv2DBackpropInput', c),
      () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: tensor(dy, dyShape), filter: tensor(filter, c.filter) }, { ...attrs, inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor,
      { calls: 'conv2dBackpropInput' },
    );
    await check(
      convLabel('Conv2DBackpropFilter', c),
      () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: tensor(x, c.x), dy: tensor(dy, dyShape) }, { ...attrs, filterShape: c.filter } as unknown as tf.NamedAttrMap) as tf.Tensor,
      { calls: 'conv2dBackpropFilter' },
    );
  }
});

test('the gradients of a small conv net (conv → relu → conv → mean) match the cpu backend', { skip }, async () => {
  const xShape = [2, 9, 11, 3];
  const w1Shape = [3, 3, 3, 6];
  const w2Shape = [1, 1, 6, 4];
  const x = floats(xShape);
  const w1 = floats(w1Shape, -0.5, 0.5);
  const b1 = floats([6], -0.1, 0.1);
  const w2 = floats(w2Shape, -0.5, 0.5);
  const net = (xs: tf.Tensor, k1: tf.Tensor, bias: tf.Tensor, k2: tf.Tensor): tf.Scalar => {
    const h = tf.relu(tf.add(tf.conv2d(xs as tf.Tensor4D, k1 as tf.Tensor4D, 2, 'same'), bias));
    return tf.mean(tf.square(tf.conv2d(h as tf.Tensor4D, k2 as tf.Tensor4D, 1, 'valid')));
  };
  await check(
    'd mean(conv(relu(conv(x, w1, stride 2, same) + b1), w2)²) / d(x, w1, b1, w2)',
    () => tf.grads(net as (...t: tf.Tensor[]) => tf.Tensor)([tensor(x, xShape), tensor(w1, w1Shape), tensor(b1, [6]), tensor(w2, w2Shape)]),
    { calls: 'conv2dBackpropFilter' },
  );
});

test('the ReLU gradient (fused kernel) equals tfjs\'s dy · step(x) on the cpu backend, NaN and zeros included', { skip }, async () => {
  const shape = [3, 5, 7];
  const x = quarters(shape);
  x[3] = NaN;
  x[10] = -0;
  const dy = floats(shape);
  dy[20] = Infinity;
  await check(
    'd sum(relu(x) · dy) / dx',
    () => tf.grad((xs: tf.Tensor) => tf.sum(tf.mul(tf.relu(xs), tensor(dy, shape))))(tensor(x, shape)),
    { calls: 'reluGrad', tol: { atol: 0 } },
  );
});

// ---- Binary and unary element-wise ----

const BROADCAST_PAIRS: Array<[Shape, Shape]> = [
  [[2, 3], [2, 3]],
  [[2, 3], [3]],
  [[3], [2, 3]],
  [[2, 3], []],
  [[], [4]],
  [[], []],
  [[1], [5]],
  [[4, 1], [1, 5]],
  [[4, 1], [5]],
  [[2, 3, 4, 5], [3, 1, 5]],
  [[2, 1, 1, 5], [1, 3, 4, 1]],
  [[2, 3, 4], [2, 1, 4]],
  [[6, 1, 2, 1, 3], [1, 4, 1, 5, 3]],
  [[0, 3], [3]],
  [[1031], [1031]],
  [[33, 65], [65]],
];

const BINARY_OPS: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor]> = [
  [tf.Add, tf.add], [tf.Sub, tf.sub], [tf.Multiply, tf.mul], [tf.RealDiv, tf.div], [tf.Maximum, tf.maximum], [tf.Minimum, tf.minimum],
  [tf.SquaredDifference, tf.squaredDifference], [tf.Pow, tf.pow],
  [tf.Greater, tf.greater], [tf.GreaterEqual, tf.greaterEqual], [tf.Less, tf.less], [tf.LessEqual, tf.lessEqual],
  [tf.Equal, tf.equal], [tf.NotEqual, tf.notEqual],
];

/** Multiples of 1/4 in [−2, 2], so that ties, zeros (x/0, 0/0) and negative bases of fractional powers occur. */
function quarters(shape: Shape): Float32Array {
  return Float32Array.from({ length: sizeOf(shape) }, () => (rng.int(17) - 8) / 4);
}

test('binary ops with broadcasting, ties, zeros and NaN match the cpu backend (comparisons give bool)', { skip }, async () => {
  for (const [name, op] of BINARY_OPS) {
    for (const [sa, sb] of BROADCAST_PAIRS) {
      const a = quarters(sa);
      const b = sizeOf(sb) > 2 ? quarters(sb) : floats(sb, -2, 2);
      if (a.length > 3) a[1] = NaN;
      // pow(±1, NaN) differs between JavaScript (NaN) and C (1): see the test below.
      if (b.length > 3 && name !== tf.Pow) b[2] = NaN;
      const nonEmpty = sizeOf(sa) > 0 && sizeOf(sb) > 0;
      await check(`${name} ${JSON.stringify(sa)} with ${JSON.stringify(sb)}`, () => op(tensor(a, sa), tensor(b, sb)), { calls: nonEmpty ? 'binary' : null, tol: ELEMENTWISE });
    }
    // Random operands (not quarters), where rounding rather than special values is tested.
    const a = floats([7, 9], 0.1, 2);
    const b = floats([9], -2, 2);
    await check(`${name} random [7,9] with [9]`, () => op(tensor(a, [7, 9]), tensor(b, [9])), { calls: 'binary', tol: ELEMENTWISE });
  }
});

test('Pow follows C, as the wasm backend and TensorFlow do, where JavaScript differs: pow(1, NaN) and pow(±1, ±Infinity) are 1', { skip }, async () => {
  await tf.setBackend('native');
  const result = tf.tidy(() => tf.pow(tf.tensor([1, -1, 1, -1, NaN, 2]), tf.tensor([NaN, Infinity, -Infinity, NaN, 0, NaN])).dataSync());
  // The cpu backend's Math.pow gives [NaN, NaN, NaN, NaN, 1, NaN].
  assert.deepEqual(Array.from(result), [1, 1, 1, NaN, 1, NaN]);
});

test('AddN of 1 to 4 tensors matches the cpu backend', { skip }, async () => {
  for (let n = 1; n <= 4; n++) {
    const parts = Array.from({ length: n }, () => floats([5, 7]));
    await check(`AddN of ${n} [5,7]`, () => tf.addN(parts.map((p) => tensor(p, [5, 7]))), { calls: n > 1 ? 'binary' : null, tol: ELEMENTWISE });
  }
});

const UNARY_OPS: Array<[string, (x: tf.Tensor) => tf.Tensor]> = [
  [tf.Relu, tf.relu], [tf.Exp, tf.exp], [tf.Log, tf.log], [tf.Sigmoid, tf.sigmoid], [tf.Tanh, tf.tanh], [tf.Sqrt, tf.sqrt],
  [tf.Rsqrt, tf.rsqrt], [tf.Neg, tf.neg], [tf.Abs, tf.abs], [tf.Square, tf.square], [tf.Reciprocal, tf.reciprocal],
  [`${tf.Step} (alpha 0)`, (x) => tf.step(x)], [`${tf.Step} (alpha 0.3)`, (x) => tf.step(x, 0.3)], [tf.Sign, tf.sign],
  [tf.Log1p, tf.log1p], [tf.Relu6, tf.relu6], [tf.Elu, tf.elu], [tf.LeakyRelu, (x) => tf.leakyRelu(x, 0.15)],
  [tf.Floor, tf.floor], [tf.Ceil, tf.ceil], [tf.Round, tf.round], [tf.Sin, tf.sin], [tf.Cos, tf.cos], [tf.Expm1, tf.expm1],
  [tf.ClipByValue, (x) => tf.clipByValue(x, -0.7, 1.3)], [tf.Erf, tf.erf],
];

test('unary ops on random values, halves, zeros, ±Infinity and NaN match the cpu backend', { skip }, async () => {
  const specials = [NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 1e-3, -1e-3, 6, 7, -1, -1.25];
  const random = floats([9, 13], -4, 4);
  const x = Float32Array.from([...specials, ...random]);
  const shape = [x.length];
  for (const [name, op] of UNARY_OPS) {
    await check(`${name} of ${shape[0]} values incl. NaN, ±Infinity, ±0 and halves`, () => op(tensor(x, shape)), { calls: 'unary', tol: ELEMENTWISE });
  }
});

// ---- Reductions ----

test('Sum, Mean, Max, Min, Prod over adjacent and non-adjacent axes, with and without keepDims, match the cpu backend', { skip }, async () => {
  const shape = [3, 4, 5, 6];
  const x = floats(shape);
  const nearOne = floats(shape, 0.8, 1.25);
  const reductions: Array<[string, (t: tf.Tensor, axes: number | number[], keep: boolean) => tf.Tensor, Float32Array]> = [
    [tf.Sum, tf.sum, x], [tf.Mean, tf.mean, x], [tf.Max, tf.max, x], [tf.Min, tf.min, x], [tf.Prod, tf.prod, nearOne],
  ];
  const axisSets: Array<number | number[]> = [0, 1, 3, -1, [1, 2], [2, 3], [0, 1], [0, 3], [0, 2], [1, 3], [0, 2, 3], [3, 1], [0, 1, 2, 3]];
  for (const [name, op, data] of reductions) {
    for (const axes of axisSets) {
      for (const keepDims of [false, true]) {
        await check(`${name} of [3,4,5,6] over ${JSON.stringify(axes)} keepDims ${keepDims}`, () => op(tensor(data, shape), axes, keepDims), { calls: 'reduce' });
      }
    }
    await check(`${name} of [7] over 0`, () => op(tensor(data.subarray(0, 7), [7]), 0, false), { calls: 'reduce' });
    await check(`${name} of [1,5] over 0`, () => op(tensor(data.subarray(0, 5), [1, 5]), 0, true), { calls: 'reduce' });
    const long = floats([2, 3, 1000], 0.999, 1.001);
    await check(`${name} of [2,3,1000] over 2`, () => op(tensor(long, [2, 3, 1000]), 2, false), { calls: 'reduce' });
  }
});

test('ArgMax and ArgMin over every axis match the cpu backend (int32)', { skip }, async () => {
  const shape = [3, 4, 5, 6];
  const x = floats(shape);
  for (const [name, op] of [[tf.ArgMax, tf.argMax], [tf.ArgMin, tf.argMin]] as const) {
    for (const axis of [0, 1, 2, 3, -1]) {
      await check(`${name} of [3,4,5,6] over ${axis}`, () => op(tensor(x, shape), axis), { calls: 'reduce' });
    }
    await check(`${name} of [9] over 0`, () => op(tensor(x.subarray(0, 9), [9]), 0), { calls: 'reduce' });
  }
});

// ---- Layout: Transpose, Slice, SplitV, Concat ----

const DTYPES = ['float32', 'int32', 'bool'] as const;

test('Transpose of ranks 2 to 5 (float32, int32, bool) matches the cpu backend', { skip }, async () => {
  const cases: Array<[Shape, number[]]> = [
    [[3, 5], [1, 0]],
    [[1, 7], [1, 0]],
    [[2, 3, 4], [2, 0, 1]],
    [[2, 3, 4], [0, 2, 1]],
    [[2, 3, 4], [1, 0, 2]],
    [[2, 3, 4, 5], [3, 1, 0, 2]],
    [[2, 3, 4, 5], [0, 1, 3, 2]],
    [[2, 3, 4, 5], [0, 3, 1, 2]],
    [[2, 3, 1, 4, 5], [4, 3, 2, 1, 0]],
    [[2, 3, 1, 4, 5], [0, 2, 4, 1, 3]],
    [[33, 65], [1, 0]],
  ];
  for (const dtype of DTYPES) {
    for (const [shape, perm] of cases) {
      const x = valuesOf(dtype, shape);
      await check(`Transpose ${dtype} ${JSON.stringify(shape)} perm ${JSON.stringify(perm)}`, () => tf.transpose(tensor(x, shape), perm), { calls: 'transpose' });
    }
  }
});

test('Slice, contiguous (a view) and strided (float32, int32, bool), matches the cpu backend', { skip }, async () => {
  const shape = [4, 5, 6];
  const cases: Array<[number[], number[], boolean]> = [
    // begin, size, strided
    [[1, 0, 0], [2, 5, 6], false],
    [[2, 3, 1], [1, 1, 4], false],
    [[0, 1, 2], [4, 3, 3], true],
    [[1, 0, 3], [3, -1, -1], true],
    [[0, 2, 0], [-1, 2, 6], true],
    [[3, 4, 5], [1, 1, 1], false],
  ];
  for (const dtype of DTYPES) {
    const x = valuesOf(dtype, shape);
    for (const [begin, size, strided] of cases) {
      await check(`Slice ${dtype} [4,5,6] begin ${JSON.stringify(begin)} size ${JSON.stringify(size)}`, () => tf.slice(tensor(x, shape), begin, size), { calls: strided ? 'slice' : null });
    }
  }
});

test('SplitV along every axis (float32, int32, bool) matches the cpu backend', { skip }, async () => {
  const shape = [4, 6, 5];
  for (const dtype of DTYPES) {
    const x = valuesOf(dtype, shape);
    for (const [splits, axis] of [[[1, 3], 0], [2, 0], [[1, 2, 3], 1], [3, 1], [[2, -1], 2], [5, -1]] as Array<[number | number[], number]>) {
      await check(`SplitV ${dtype} [4,6,5] into ${JSON.stringify(splits)} along ${axis}`, () => tf.split(tensor(x, shape), splits, axis), { calls: axis === 0 ? null : 'slice' });
    }
  }
});

test('Concat of 1 to 4 parts, with empty parts (float32, int32, bool), matches the cpu backend', { skip }, async () => {
  const cases: Array<[Shape[], number]> = [
    [[[2, 3]], 0],
    [[[2, 3], [4, 3]], 0],
    [[[2, 3], [2, 5]], 1],
    [[[2, 3], [2, 1], [2, 4]], -1],
    [[[2, 3, 4], [2, 1, 4], [2, 2, 4], [2, 5, 4]], 1],
    [[[2, 3, 4], [2, 3, 1], [2, 3, 2], [2, 3, 3]], 2],
    [[[1, 2, 3, 4], [2, 2, 3, 4]], 0],
    [[[2, 0, 3], [2, 4, 3]], 1],
    [[[2, 4, 3], [2, 0, 3], [2, 1, 3]], 1],
    [[[0, 3], [0, 3]], 0],
    [[[5], [0], [7]], 0],
  ];
  for (const dtype of DTYPES) {
    for (const [shapes, axis] of cases) {
      const parts = shapes.map((s) => valuesOf(dtype, s));
      const nonEmpty = shapes.filter((s) => sizeOf(s) > 0).length;
      // Through the kernel directly: tf.concat returns a copy of a single part without running it.
      await check(
        `Concat ${dtype} ${shapes.map((s) => JSON.stringify(s)).join(' + ')} along ${axis}`,
        () => tf.engine().runKernel(tf.Concat, parts.map((p, i) => tensor(p, shapes[i]!, dtype)) as unknown as tf.NamedTensorMap, { axis }) as tf.Tensor,
        { calls: nonEmpty > 1 ? 'concat' : null },
      );
    }
  }
});

// ---- Tensors made by Cast ----

test('kernels read tensors made by Cast, whose storage on the cpu backend keeps the source type', { skip }, async () => {
  const shape = [3, 4];
  const i = ints(shape);
  const b = bools(shape);
  const f = floats(shape);
  await check('Add of Cast(int32 → float32) and float32', () => tf.add(tf.cast(tensor(i, shape), 'float32'), tensor(f, shape)), { calls: 'binary', tol: ELEMENTWISE });
  await check('Mul of Cast(bool → float32) and float32', () => tf.mul(tf.cast(tensor(b, shape), 'float32'), tensor(f, shape)), { calls: 'binary', tol: ELEMENTWISE });
  await check('Sum of Cast(int32 → float32)', () => tf.sum(tf.cast(tensor(i, shape), 'float32'), 1), { calls: 'reduce' });
  await check('Transpose of Cast(bool → int32)', () => tf.transpose(tf.cast(tensor(b, shape), 'int32')), { calls: 'transpose' });
  await check('MatMul of Cast(int32 → float32)', () => tf.matMul(tf.cast(tensor(i, shape), 'float32'), tensor(f, shape), false, true), { calls: 'matmul' });
});

// ---- Fused training-mode batch normalisation ----

test('training-mode BatchNorm (fused kernel) and its gradients match the composed version on the cpu backend', { skip }, async () => {
  for (const shape of [[4, 3, 5, 8], [6, 16], [2, 7, 1]]) {
    const channels = shape[shape.length - 1]!;
    const x = floats(shape, -2, 3);
    const scale = floats([channels], 0.5, 1.5);
    const offset = floats([channels], -0.5, 0.5);
    const weights = floats(shape);
    const statWeights = floats([channels]);
    const loss = (xs: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Scalar => {
      const { y, mean, variance } = batchNormTraining(xs, gamma, beta, 1e-5);
      return tf.addN([tf.sum(tf.mul(y, tensor(weights, shape))), tf.sum(tf.mul(mean, tensor(statWeights, [channels]))), tf.sum(tf.mul(variance, tensor(statWeights, [channels])))]) as tf.Scalar;
    };
    await check(`BatchNormTraining ${JSON.stringify(shape)} forward`, () => {
      const { y, mean, variance } = batchNormTraining(tensor(x, shape), tensor(scale, [channels]), tensor(offset, [channels]), 1e-5);
      return [y, mean, variance];
    }, { calls: 'batchNormTraining' });
    await check(`BatchNormTraining ${JSON.stringify(shape)} gradients of x, scale, offset`, () => tf.grads(loss as (...t: tf.Tensor[]) => tf.Tensor)(
      [tensor(x, shape), tensor(scale, [channels]), tensor(offset, [channels])],
    ), { calls: 'batchNormTrainingGrad' });
  }
});
