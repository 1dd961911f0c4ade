/**
 * `torch.optim.Adam` (torch 1.13 single-tensor path, the CPU default), step for step:
 *
 *   g ← ±grad (+ weight_decay·p)          [L2 penalty added to the gradient]
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g·g;  (amsgrad: v̂ ← max(v̂, v))
 *   denom ← √v / √(1−β2^t) + eps;  p ← p − (lr / (1−β1^t))·m / denom
 *
 * voxceleb_trainer's `optimizer/adam.py` builds it with only lr and weight_decay, i.e. betas
 * (0.9, 0.999), eps 1e-8. Bias corrections are computed in float64 (Python floats), the tensor
 * arithmetic in float32 in PyTorch's operand order.
 */
import * as tf from '@tensorflow/tfjs';
import { ADAM_STEP, type AdamStepAttrs, hasFusedKernel } from '../../core/fused-kernels.js';
import { VoxkitError } from '../../errors.js';
import type { PyWritable } from '../../io/pickle-writer.js';
import { Optimizer, type OptimizerName, type ParameterState, pyFloat } from './base.js';
import { type StateDictReader, pyTupleOf } from './state-dict.js';

export interface AdamOptions {
  lr: number;
  /** (β1, β2); default (0.9, 0.999). */
  betas?: readonly [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Default 0 for Adam (L2 added to the gradient), 0.01 for AdamW (decoupled). */
  weightDecay?: number;
  amsgrad?: boolean;
  /** Ascend instead of descend. */
  maximize?: boolean;
}

function checkBetas(betas: readonly [number, number]): void {
  for (const b of betas) {
    if (!(b >= 0 && b < 1)) throw new VoxkitError('E_CONFIG', `Adam betas must be in [0, 1), got (${betas.join(', ')})`);
  }
}

export class Adam extends Optimizer {
  readonly name: OptimizerName = 'adam';
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
  /** AdamW: decay the parameter by lr·weight_decay instead of adding an L2 term to the gradient. */
  protected readonly decoupledWeightDecay: boolean = false;

  constructor(parameters: ReadonlyArray<readonly [string, tf.Variable]>, options: AdamOptions, defaultWeightDecay = 0) {
    super(parameters, options.lr);
    this.betas = [...(options.betas ?? [0.9, 0.999])];
    checkBetas(this.betas);
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? defaultWeightDecay;
    if (!(this.eps >= 0)) throw new VoxkitError('E_CONFIG', `Adam eps must be ≥ 0, got ${this.eps}`);
    if (!(this.weightDecay >= 0)) throw new VoxkitError('E_CONFIG', `weight decay must be ≥ 0, got ${this.weightDecay}`);
    this.amsgrad = options.amsgrad ?? false;
    this.maximize = options.maximize ?? false;
  }

  protected updateParameter(variable: tf.Variable, grad: tf.Tensor, state: ParameterState): void {
    const [beta1, beta2] = this.betas;
    const step = ((state.get('step') as number | undefined) ?? 0) + 1;
    const zeros = () => tf.zeros(variable.shape, 'float32');
    const expAvg = (state.get('exp_avg') as tf.Tensor | undefined) ?? zeros();
    const expAvgSq = (state.get('exp_avg_sq') as tf.Tensor | undefined) ?? zeros();
    const maxExpAvgSq = this.amsgrad ? ((state.get('max_exp_avg_sq') as tf.Tensor | undefined) ?? zeros()) : undefined;
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** step);
    const stepSize = this.lr / biasCorrection1;
    if (hasFusedKernel(ADAM_STEP) && variable.dtype === 'float32' && grad.dtype === 'float32') {
      const decoupled = this.decoupledWeightDecay && this.weightDecay !== 0;
      const attrs: AdamStepAttrs = {
        beta1, beta2, eps: this.eps, stepSize, biasCorrection2Sqrt,
        weightDecay: decoupled ? 0 : this.weightDecay,
        decayFactor: decoupled ? 1 - this.lr * this.weightDecay : 0,
        maximize: this.maximize,
      };
      const inputs: tf.NamedTensorMap = { param: variable, grad, expAvg, expAvgSq };
      if (maxExpAvgSq) inputs.maxExpAvgSq = maxExpAvgSq;
      const [param, m, v, vMax] = tf.engine().runKernel(ADAM_STEP, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      variable.assign(param!);
      param!.dispose();
      // Zero state made for this first step (not yet in `state`) is not needed any more.
      for (const [key, t] of [['exp_avg', expAvg], ['exp_avg_sq', expAvgSq], ['max_exp_avg_sq', maxExpAvgSq]] as const) {
        if (t && state.get(key) !== t) t.dispose();
      }
      state.set('step', step);
      Optimizer.replace(state, 'exp_avg', m!);
      Optimizer.replace(state, 'exp_avg_sq', v!);
      if (vMax) Optimizer.replace(state, 'max_exp_avg_sq', vMax);
      return;
    }
    const [nextExpAvg, nextExpAvgSq, nextMax] = tf.tidy(() => {
      let g = this.maximize ? grad.neg() : grad;
      let param: tf.Tensor = variable;
      if (this.weightDecay !== 0) {
        if (this.decoupledWeightDecay) param = param.mul(1 - this.lr * this.weightDecay);
        else g = g.add(param.mul(this.weightDecay));
      }
      const m = expAvg.mul(beta1).add(g.mul(1 - beta1));
      const v = expAvgSq.mul(beta2).add(g.mul(1 - beta2).mul(g));
      const vMax = maxExpAvgSq ? tf.maximum(maxExpAvgSq, v) : undefined;
      const denom = (vMax ?? v).sqrt().div(biasCorrection2Sqrt).add(this.eps);
      variable.assign(param.add(m.mul(-stepSize).div(denom)));
      return vMax ? [m, v, vMax] : [m, v];
    });
    state.set('step', step);
    Optimizer.replace(state, 'exp_avg', nextExpAvg);
    Optimizer.replace(state, 'exp_avg_sq', nextExpAvgSq);
    if (nextMax) Optimizer.replace(state, 'max_exp_avg_sq', nextMax);
  }

  protected groupSettings(): Record<string, PyWritable> {
    return {
      betas: pyTupleOf(this.betas.map(pyFloat)),
      eps: pyFloat(this.eps),
      weight_decay: pyFloat(this.weightDecay),
      amsgrad: this.amsgrad,
      maximize: this.maximize,
      foreach: null,
      capturable: false,
      differentiable: false,
      fused: false,
    };
  }

  protected loadGroupSettings(group: unknown, reader: StateDictReader): void {
    const betas = reader.numberList(group, 'betas');
    if (betas.length !== 2) reader.fail(`"betas" has ${betas.length} values`);
    this.betas = [betas[0], betas[1]];
    checkBetas(this.betas);
    this.eps = reader.number(group, 'eps');
    this.weightDecay = reader.number(group, 'weight_decay');
    this.amsgrad = reader.boolean(group, 'amsgrad', false);
    this.maximize = reader.boolean(group, 'maximize', false);
  }

  protected stateKeys() {
    return { required: ['step', 'exp_avg', 'exp_avg_sq'], optional: ['max_exp_avg_sq'] };
  }
}
