import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../../errors.js';
import { Module } from '../module.js';
import { uniformInit } from './init.js';
import { lstmRecurrence } from './lstm-recurrence.js';

/** Result of {@link Lstm.forward}. The caller disposes all three tensors. */
export interface LstmOutput {
  /** Hidden states of the last layer at every step, [batch, time, hidden] (PyTorch `output`, batch_first). */
  output: tf.Tensor3D;
  /** Final hidden state of every layer, [numLayers, batch, hidden] (PyTorch `h_n`). */
  hN: tf.Tensor3D;
  /** Final cell state of every layer, [numLayers, batch, hidden] (PyTorch `c_n`). */
  cN: tf.Tensor3D;
}

/** Optional initial state; both [numLayers, batch, hidden]. Zeros when omitted, as in PyTorch. */
export interface LstmInitialState {
  h0: tf.Tensor3D;
  c0: tf.Tensor3D;
}

/**
 * PyTorch `nn.LSTM(inputSize, hiddenSize, numLayers, batch_first=True)`: unidirectional, with both
 * biases, no dropout. Parameters per layer k under PyTorch's names and layouts: `weight_ih_l{k}`
 * [4H, in], `weight_hh_l{k}` [4H, H], `bias_ih_l{k}` [4H], `bias_hh_l{k}` [4H]; the 4H rows hold the
 * input, forget, cell and output gates in that order.
 *
 * Differentiable. Each layer projects all time steps with one matMul, then runs the recurrence
 * ({@link lstmRecurrence}: one kernel where the backend has it, else one [batch, H]·[H, 4H] matMul
 * and the gate ops per step).
 */
export class Lstm extends Module {
  private readonly weightsIh: tf.Variable[] = [];
  private readonly weightsHh: tf.Variable[] = [];
  private readonly biasesIh: tf.Variable[] = [];
  private readonly biasesHh: tf.Variable[] = [];

  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    readonly numLayers = 1,
  ) {
    super();
    // PyTorch's init: every LSTM tensor U(-1/√H, 1/√H).
    const bound = 1 / Math.sqrt(hiddenSize);
    const gateRows = 4 * hiddenSize;
    for (let layer = 0; layer < numLayers; layer++) {
      const layerInput = layer === 0 ? inputSize : hiddenSize;
      this.weightsIh.push(this.param(`weight_ih_l${layer}`, uniformInit([gateRows, layerInput], -bound, bound)));
      this.weightsHh.push(this.param(`weight_hh_l${layer}`, uniformInit([gateRows, hiddenSize], -bound, bound)));
      this.biasesIh.push(this.param(`bias_ih_l${layer}`, uniformInit([gateRows], -bound, bound)));
      this.biasesHh.push(this.param(`bias_hh_l${layer}`, uniformInit([gateRows], -bound, bound)));
    }
  }

  /**
   * Runs the stack over `x` [batch, time, inputSize] (time ≥ 1).
   * Returns the last layer's outputs [batch, time, H] and the final states [numLayers, batch, H].
   */
  forward(x: tf.Tensor, initial?: LstmInitialState): LstmOutput {
    const shape = x.shape as number[];
    if (shape.length !== 3 || shape[2] !== this.inputSize || shape[1] < 1) {
      throw new ShapeError('Lstm input', `[batch, time ≥ 1, ${this.inputSize}]`, shape);
    }
    const [batch, steps, features] = shape as [number, number, number];
    const H = this.hiddenSize;
    if (initial) {
      for (const [name, t] of [['h0', initial.h0], ['c0', initial.c0]] as const) {
        if (t.rank !== 3 || t.shape[0] !== this.numLayers || t.shape[1] !== batch || t.shape[2] !== H) {
          throw new ShapeError(`Lstm ${name}`, `[${this.numLayers}, ${batch}, ${H}]`, t.shape);
        }
      }
    }
    return tf.tidy(() => {
      // Time-major [time·batch, features] between layers, so one step is a contiguous row block.
      let layerInput: tf.Tensor2D = x.transpose([1, 0, 2]).reshape([steps * batch, features]);
      const finalH: tf.Tensor2D[] = [];
      const finalC: tf.Tensor2D[] = [];
      for (let layer = 0; layer < this.numLayers; layer++) {
        const h0 = initial ? initial.h0.slice([layer, 0, 0], [1, batch, H]).reshape([batch, H]) as tf.Tensor2D : undefined;
        const c0 = initial ? initial.c0.slice([layer, 0, 0], [1, batch, H]).reshape([batch, H]) as tf.Tensor2D : undefined;
        const { outputs, h, c } = this.runLayer(layer, layerInput, batch, steps, h0, c0);
        layerInput = outputs;
        finalH.push(h);
        finalC.push(c);
      }
      const output = layerInput.reshape([steps, batch, H]).transpose([1, 0, 2]) as tf.Tensor3D;
      return { output, hN: tf.stack(finalH) as tf.Tensor3D, cN: tf.stack(finalC) as tf.Tensor3D };
    });
  }

  /** One layer over time-major input [steps·batch, in] → outputs [steps·batch, H] and final h, c [batch, H]. */
  private runLayer(
    layer: number,
    input: tf.Tensor2D,
    batch: number,
    steps: number,
    h0?: tf.Tensor2D,
    c0?: tf.Tensor2D,
  ): { outputs: tf.Tensor2D; h: tf.Tensor2D; c: tf.Tensor2D } {
    // Explicit transposes, once per forward (matMul transpose flags are slow on wasm).
    const weightIhT = this.weightsIh[layer].transpose();
    const weightHhT = this.weightsHh[layer].transpose() as tf.Tensor2D;
    const bias = this.biasesIh[layer].add(this.biasesHh[layer]);
    // Input contribution of every step at once: [steps·batch, 4H].
    const projected = tf.matMul(input, weightIhT).add(bias) as tf.Tensor2D;
    return lstmRecurrence(projected, weightHhT, steps, batch, h0, c0);
  }
}
