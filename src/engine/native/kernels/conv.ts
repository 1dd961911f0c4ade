/**
 * Conv2D, FusedConv2D (bias, ReLU) and both convolution gradients on oneDNN, NHWC activations and
 * HWIO filters as tfjs lays them out. Conv1D reaches here through tfjs's reshape to Conv2D.
 */
import * as tf from '@tensorflow/tfjs';
import { addon, allocate, fallback, flopCounter, kernel, sizeOf, values, type KernelCall } from '../context.js';

type PadAttr = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/** The 17 numbers conv.cc's Geometry reads, or null when oneDNN's output-size rule cannot hold. */
function geometry(info: tf.backend_util.Conv2DInfo): Int32Array | null {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, padInfo } = info;
  const { top, left } = padInfo;
  // oneDNN gets the bottom/right padding the output actually uses, as PyTorch passes it: tfjs's
  // symmetric padding of a strided convolution can exceed it (3×3, stride 2, 64 → 32 pads 1 where 0
  // is used), and oneDNN 2.6's strided filter-gradient kernels corrupt memory with such padding.
  const bottom = Math.max(0, (outHeight - 1) * strideHeight + (filterHeight - 1) * dilationHeight + 1 - inHeight - top);
  const right = Math.max(0, (outWidth - 1) * strideWidth + (filterWidth - 1) * dilationWidth + 1 - inWidth - left);
  if (bottom > padInfo.bottom || right > padInfo.right || top < 0 || left < 0) return null;
  flopCounter.flops += 2 * batchSize * outHeight * outWidth * outChannels * filterHeight * filterWidth * inChannels;
  return Int32Array.from([
    batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth,
    strideHeight, strideWidth, dilationHeight, dilationWidth, top, left, bottom, right,
  ]);
}

function forward(call: KernelCall, name: string, fused: boolean): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs } = call;
  const x = inputs.x!;
  const filter = inputs.filter!;
  const bias = fused ? inputs.bias : undefined;
  const activation = (attrs?.activation as string | undefined) ?? 'linear';
  const dataFormat = (attrs?.dataFormat as string | undefined) ?? 'NHWC';
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || dataFormat !== 'NHWC') return fallback(name, call);
  if (fused && (inputs.preluActivationWeights || (activation !== 'linear' && activation !== 'relu'))) return fallback(name, call);
  const dilations = (attrs?.dilations as [number, number] | number | undefined) ?? 1;
  const full = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
    attrs!.strides as [number, number] | number, dilations, attrs!.pad as PadAttr,
    attrs!.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined, false, 'channelsLast',
  );
  const geo = geometry(full);
  if (!geo) return fallback(name, call);
  let biasValues: Float32Array | null = null;
  if (bias) {
    if (bias.dtype !== 'float32' || sizeOf(bias.shape) !== full.outChannels) return fallback(name, call);
    biasValues = values<Float32Array>(backend, bias);
  }
  const out = allocate('float32', sizeOf(full.outShape));
  addon().conv2d(values(backend, x), values(backend, filter), out, geo, biasValues, activation === 'relu' ? 1 : 0);
  return backend.makeTensorInfo(full.outShape, 'float32', out);
}

function backpropInput(call: KernelCall): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs } = call;
  const dy = inputs.dy!;
  const filter = inputs.filter!;
  const dataFormat = (attrs?.dataFormat as string | undefined) ?? 'NHWC';
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32' || dataFormat !== 'NHWC') return fallback(tf.Conv2DBackpropInput, call);
  const inputShape = attrs!.inputShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], attrs!.strides as [number, number] | number, 1,
    attrs!.pad as PadAttr, attrs!.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined, false, 'channelsLast',
  );
  const geo = geometry(info);
  if (!geo) return fallback(tf.Conv2DBackpropInput, call);
  const dx = allocate('float32', sizeOf(inputShape));
  addon().conv2dBackpropInput(values(backend, dy), values(backend, filter), dx, geo);
  return backend.makeTensorInfo(inputShape, 'float32', dx);
}

function backpropFilter(call: KernelCall): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs } = call;
  const x = inputs.x!;
  const dy = inputs.dy!;
  const dataFormat = (attrs?.dataFormat as string | undefined) ?? 'NHWC';
  if (x.dtype !== 'float32' || dy.dtype !== 'float32' || dataFormat !== 'NHWC') return fallback(tf.Conv2DBackpropFilter, call);
  const filterShape = attrs!.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, attrs!.strides as [number, number] | number, 1,
    attrs!.pad as PadAttr, attrs!.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined, false, 'channelsLast',
  );
  const geo = geometry(info);
  if (!geo) return fallback(tf.Conv2DBackpropFilter, call);
  const dw = allocate('float32', sizeOf(filterShape));
  addon().conv2dBackpropFilter(values(backend, x), values(backend, dy), dw, geo);
  return backend.makeTensorInfo(filterShape, 'float32', dw);
}

export const convKernels: tf.KernelConfig[] = [
  kernel(tf.Conv2D, (call) => forward(call, tf.Conv2D, false)),
  kernel(tf.FusedConv2D, (call) => forward(call, tf.FusedConv2D, true)),
  kernel(tf.Conv2DBackpropInput, backpropInput),
  kernel(tf.Conv2DBackpropFilter, backpropFilter),
];
