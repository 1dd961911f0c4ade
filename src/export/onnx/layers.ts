/**
 * ONNX emitters for voxkit's layers. Activations are channels-first as in PyTorch ([B, C, T] and
 * [B, C, H, W]), so the PyTorch-layout weights of the Module tree go into the graph unchanged;
 * every op mirrors the PyTorch call the layer re-implements (BatchNorm stays a BatchNormalization
 * node: ONNX Runtime folds it into the preceding Conv itself).
 */
import type * as tf from '@tensorflow/tfjs';
import type { BatchNorm } from '../../models/layers/batch-norm.js';
import type { Conv1d, Conv2d } from '../../models/layers/conv.js';
import type { Linear } from '../../models/layers/linear.js';
import type { Lstm } from '../../models/layers/lstm.js';
import type { SEBasicBlock, SELayer, SEResNetStage } from '../../models/layers/se-basic-block.js';
import type { OnnxGraph } from './graph.js';

/** A variable's values as float32 (a copy). */
export function values(v: tf.Tensor): Float32Array {
  return Float32Array.from(v.dataSync() as Float32Array);
}

export function weight(g: OnnxGraph, v: tf.Tensor, hint: string, dims: readonly number[] = v.shape): string {
  return g.initializer(hint, values(v), dims);
}

/** Row-major transpose of a [rows, cols] matrix. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** `nn.Linear` on [B, in] (Gemm) or on [..., in] (MatMul with Wᵀ + bias). */
export function linear(g: OnnxGraph, x: string, layer: Linear, hint: string, rank = 2): string {
  if (rank === 2) {
    const inputs = [x, weight(g, layer.weight, `${hint}.weight`)];
    if (layer.bias) inputs.push(weight(g, layer.bias, `${hint}.bias`));
    return g.op('Gemm', inputs, { transB: 1 }, hint);
  }
  const wT = g.initializer(`${hint}.weight_t`, transpose2d(values(layer.weight), layer.outFeatures, layer.inFeatures), [
    layer.inFeatures,
    layer.outFeatures,
  ]);
  const y = g.op('MatMul', [x, wT], {}, `${hint}.matmul`);
  return layer.bias ? g.op('Add', [y, weight(g, layer.bias, `${hint}.bias`)], {}, hint) : y;
}

/** `nn.Conv2d` on NCHW. */
export function conv2d(g: OnnxGraph, x: string, conv: Conv2d, hint: string): string {
  const [, , kh, kw] = conv.weight.shape;
  const inputs = [x, weight(g, conv.weight, `${hint}.weight`)];
  if (conv.bias) inputs.push(weight(g, conv.bias, `${hint}.bias`));
  const [ph, pw] = conv.padding;
  return g.op('Conv', inputs, { kernel_shape: [kh, kw], strides: conv.stride, pads: [ph, pw, ph, pw], dilations: conv.dilation }, hint);
}

/** `nn.Conv1d` on [B, C, T]. */
export function conv1d(g: OnnxGraph, x: string, conv: Conv1d, hint: string): string {
  const inputs = [x, weight(g, conv.weight, `${hint}.weight`)];
  if (conv.bias) inputs.push(weight(g, conv.bias, `${hint}.bias`));
  return g.op(
    'Conv',
    inputs,
    { kernel_shape: [conv.kernelSize], strides: [conv.stride], pads: [conv.padding, conv.padding], dilations: [conv.dilation] },
    hint,
  );
}

/** Eval-mode `nn.BatchNorm1d/2d` over axis 1 (channels-first). */
export function batchNorm(g: OnnxGraph, x: string, bn: BatchNorm, hint: string): string {
  const n = bn.numFeatures;
  const scale = bn.weight ? weight(g, bn.weight, `${hint}.weight`) : g.constant(new Float32Array(n).fill(1));
  const shift = bn.bias ? weight(g, bn.bias, `${hint}.bias`) : g.constant(new Float32Array(n));
  const mean = weight(g, bn.runningMean, `${hint}.running_mean`);
  const variance = weight(g, bn.runningVar, `${hint}.running_var`);
  return g.op('BatchNormalization', [x, scale, shift, mean, variance], { epsilon: { f: bn.eps } }, hint);
}

/** SE gates: x · sigmoid(fc2(relu(fc0(mean_{H,W} x)))) on NCHW. */
export function seLayer(g: OnnxGraph, x: string, se: SELayer, hint: string): string {
  const pooled = g.op('ReduceMean', [x], { axes: [2, 3], keepdims: 0 }, `${hint}.squeeze`);
  const hidden = g.op('Relu', [linear(g, pooled, se.squeeze, `${hint}.fc.0`)]);
  const gates = g.op('Sigmoid', [linear(g, hidden, se.excite, `${hint}.fc.2`)]);
  const gates4d = g.op('Unsqueeze', [gates, g.ints([2, 3])], {}, `${hint}.gates`);
  return g.op('Mul', [x, gates4d], {}, hint);
}

/** `SEBasicBlock`: conv → ReLU → BN → conv → BN → SE → + shortcut → ReLU. */
export function seBasicBlock(g: OnnxGraph, x: string, block: SEBasicBlock, hint: string): string {
  let out = g.op('Relu', [conv2d(g, x, block.conv1, `${hint}.conv1`)]);
  out = batchNorm(g, out, block.bn1, `${hint}.bn1`);
  out = batchNorm(g, conv2d(g, out, block.conv2, `${hint}.conv2`), block.bn2, `${hint}.bn2`);
  out = seLayer(g, out, block.se, `${hint}.se`);
  let residual = x;
  if (block.shortcutConv && block.shortcutBn) {
    residual = batchNorm(g, conv2d(g, x, block.shortcutConv, `${hint}.downsample.0`), block.shortcutBn, `${hint}.downsample.1`);
  }
  return g.op('Relu', [g.op('Add', [out, residual])], {}, hint);
}

export function seResNetStage(g: OnnxGraph, x: string, stage: SEResNetStage, hint: string): string {
  return stage.items.reduce((h, block, i) => seBasicBlock(g, h, block, `${hint}.${i}`), x);
}

/** Sum over `axes` keeping no dimension (ReduceSum takes axes as an input since opset 13). */
export function reduceSum(g: OnnxGraph, x: string, axes: number[], keepdims: 0 | 1, hint: string): string {
  return g.op('ReduceSum', [x, g.ints(axes)], { keepdims }, hint);
}

/**
 * PyTorch `nn.LSTM(batch_first=True)` stack as ONNX `LSTM` nodes. x: time-major [T, B, in].
 * PyTorch stacks the gate rows i, f, g, o; ONNX wants i, o, f, c (c = PyTorch's g), and takes the
 * two biases as one [8H] row (Wb then Rb).
 * @returns the last layer's final hidden state [B, H]
 */
export function lstmStack(g: OnnxGraph, x: string, lstm: Lstm, hint: string): string {
  const H = lstm.hiddenSize;
  const reorder = (data: Float32Array, cols: number): Float32Array => {
    const out = new Float32Array(data.length);
    // ONNX block k takes PyTorch block ORDER[k]: i←i, o←o(3), f←f(1), c←g(2).
    const ORDER = [0, 3, 1, 2];
    ORDER.forEach((src, dst) => out.set(data.subarray(src * H * cols, (src + 1) * H * cols), dst * H * cols));
    return out;
  };
  let input = x;
  let lastHidden = '';
  for (let layer = 0; layer < lstm.numLayers; layer++) {
    const inSize = layer === 0 ? lstm.inputSize : H;
    const w = g.initializer(`${hint}.weight_ih_l${layer}`, reorder(values(lstm.getParam(`weight_ih_l${layer}`)), inSize), [1, 4 * H, inSize]);
    const r = g.initializer(`${hint}.weight_hh_l${layer}`, reorder(values(lstm.getParam(`weight_hh_l${layer}`)), H), [1, 4 * H, H]);
    const bias = new Float32Array(8 * H);
    bias.set(reorder(values(lstm.getParam(`bias_ih_l${layer}`)), 1), 0);
    bias.set(reorder(values(lstm.getParam(`bias_hh_l${layer}`)), 1), 4 * H);
    const b = g.initializer(`${hint}.bias_l${layer}`, bias, [1, 8 * H]);
    const [y, yH] = g.opN('LSTM', [input, w, r, b], 2, { hidden_size: H, direction: 'forward' }, `${hint}.l${layer}`);
    input = g.op('Squeeze', [y, g.ints([1])], {}, `${hint}.l${layer}.output`); // [T, 1, B, H] → [T, B, H]
    lastHidden = yH;
  }
  return g.op('Squeeze', [lastHidden, g.ints([0])], {}, `${hint}.h_n`); // [1, B, H] → [B, H]
}
