/** Broadcasting binary operations and unary functions on float32 (other dtypes use the cpu kernels). */
import * as tf from '@tensorflow/tfjs';
import { RELU_GRAD } from '../../../core/fused-kernels.js';
import { addon, allocate, fallback, kernel, shapeArray, sizeOf, values, type KernelCall } from '../context.js';

/** elementwise.cc's BinaryOp codes. */
const BINARY: Record<string, number> = {
  [tf.Add]: 0, [tf.Sub]: 1, [tf.Multiply]: 2, [tf.RealDiv]: 3, [tf.Maximum]: 4, [tf.Minimum]: 5,
  [tf.SquaredDifference]: 6, [tf.Pow]: 7,
  [tf.Greater]: 8, [tf.GreaterEqual]: 9, [tf.Less]: 10, [tf.LessEqual]: 11, [tf.Equal]: 12, [tf.NotEqual]: 13,
};
const FIRST_COMPARISON = 8;

/** elementwise.cc's UnaryOp codes. */
const UNARY: Record<string, number> = {
  [tf.Relu]: 0, [tf.Exp]: 1, [tf.Log]: 2, [tf.Sigmoid]: 3, [tf.Tanh]: 4, [tf.Sqrt]: 5, [tf.Rsqrt]: 6, [tf.Neg]: 7,
  [tf.Abs]: 8, [tf.Square]: 9, [tf.Reciprocal]: 10, [tf.Step]: 11, [tf.Sign]: 12, [tf.Log1p]: 13, [tf.Relu6]: 14,
  [tf.Elu]: 15, [tf.LeakyRelu]: 16, [tf.Floor]: 17, [tf.Ceil]: 18, [tf.Round]: 19, [tf.Sin]: 20, [tf.Cos]: 21,
  [tf.Expm1]: 22, [tf.ClipByValue]: 23, [tf.Erf]: 24,
};

function binary(name: string, call: KernelCall): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend } = call;
  const a = inputs.a!;
  const b = inputs.b!;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(name, call);
  const op = BINARY[name]!;
  const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const size = sizeOf(outShape);
  const comparison = op >= FIRST_COMPARISON;
  const out = allocate(comparison ? 'bool' : 'float32', size) as Float32Array | Uint8Array;
  addon().binary(values(backend, a), shapeArray(a.shape), values(backend, b), shapeArray(b.shape), out, shapeArray(outShape), op);
  return backend.makeTensorInfo(outShape, comparison ? 'bool' : 'float32', out);
}

function unary(name: string, call: KernelCall): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs } = call;
  const x = inputs.x!;
  if (x.dtype !== 'float32') return fallback(name, call);
  let alpha = 0;
  let beta = 0;
  if (name === tf.Step || name === tf.LeakyRelu) alpha = Number(attrs?.alpha ?? 0);
  if (name === tf.ClipByValue) {
    alpha = Number(attrs?.clipValueMin);
    beta = Number(attrs?.clipValueMax);
  }
  const out = allocate('float32', sizeOf(x.shape));
  addon().unary(values(backend, x), out, UNARY[name]!, alpha, beta);
  return backend.makeTensorInfo(x.shape, 'float32', out);
}

/** AddN: a chain of native adds into one accumulator. */
function addN(call: KernelCall): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend } = call;
  const tensors = Object.keys(inputs).map((k) => inputs[k]!);
  if (tensors.length === 0 || tensors.some((t) => t.dtype !== 'float32')) return fallback(tf.AddN, call);
  const shape = tensors[0]!.shape;
  const out = Float32Array.from(values(backend, tensors[0]!));
  const dims = shapeArray(shape);
  for (const t of tensors.slice(1)) addon().binary(out, dims, values(backend, t), shapeArray(t.shape), out, dims, BINARY[tf.Add]!);
  return backend.makeTensorInfo(shape, 'float32', out);
}

/** The ReLU gradient (src/core/fused-kernels.ts); float32 only, as the gradient asks. */
function reluGrad({ inputs, backend }: KernelCall): tf.TensorInfo {
  const x = inputs.x!;
  const out = allocate('float32', sizeOf(x.shape));
  addon().reluGrad(values(backend, inputs.dy!), values(backend, x), out);
  return backend.makeTensorInfo(x.shape, 'float32', out);
}

export const elementwiseKernels: tf.KernelConfig[] = [
  kernel(RELU_GRAD, reluGrad),
  ...Object.keys(BINARY).map((name) => kernel(name, (call) => binary(name, call))),
  ...Object.keys(UNARY).map((name) => kernel(name, (call) => unary(name, call))),
  kernel(tf.AddN, addN),
];
