/**
 * Squeeze-and-excitation residual blocks of voxceleb_trainer's ResNetSE34L / ResNetSE34V2
 * (`models/ResNetBlocks.py`), on NHWC activations [batch, freq, time, channels].
 *
 * Note the reference order inside the block: conv → **ReLU → BN** (ReLU before BatchNorm) →
 * conv → BN → SE → + residual → ReLU.
 */
import * as tf from '@tensorflow/tfjs';
import { Container, Module, ModuleList } from '../module.js';
import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv.js';
import { ConvBatchNorm, convRelu } from './conv-bn-fold.js';
import { kaimingNormalFanOut } from './init.js';
import { Linear } from './linear.js';

/** Channel reduction of the SE bottleneck (`SELayer(channel, reduction=8)`). */
export const SE_REDUCTION = 8;

/** Stride over (freq, time), as PyTorch's `stride=(sh, sw)`. */
export type Stride2d = [number, number];

/**
 * SE layer: channel gates `sigmoid(fc2(relu(fc0(mean_{F,T} x))))` multiplied into x.
 * Keys: `fc.0.{weight,bias}`, `fc.2.{weight,bias}`.
 */
export class SELayer extends Module {
  readonly squeeze: Linear;
  readonly excite: Linear;

  constructor(readonly channels: number, reduction = SE_REDUCTION) {
    super();
    const fc = this.child('fc', new Container());
    const hidden = Math.floor(channels / reduction);
    this.squeeze = fc.add(0, new Linear(channels, hidden));
    this.excite = fc.add(2, new Linear(hidden, channels));
  }

  /** x: [batch, H, W, C] → same shape, each channel scaled by its gate. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [batch, , , channels] = x.shape;
      // Fewer channels than the reduction leaves PyTorch a zero-width bottleneck, whose Linear
      // outputs its bias alone; tfjs kernels refuse zero-size matrices, so take that path directly.
      const gates =
        this.squeeze.outFeatures === 0
          ? (this.excite.bias ?? tf.zeros([channels])).sigmoid().reshape([1, channels]).tile([batch, 1])
          : this.excite.forward(this.squeeze.forward(x.mean([1, 2])).relu()).sigmoid();
      return x.mul(gates.reshape([batch, 1, 1, channels])) as tf.Tensor4D;
    });
  }
}

export interface SEBasicBlockOptions {
  inChannels: number;
  outChannels: number;
  /** Stride of the first 3×3 conv (and of the 1×1 shortcut); default [1, 1]. */
  stride?: Stride2d;
}

/**
 * `SEBasicBlock` (expansion 1). A 1×1 conv + BN shortcut (`downsample.0/1`) is created when the
 * stride is not 1 or the channel count changes, as `_make_layer` does.
 */
export class SEBasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm;
  readonly se: SELayer;
  readonly shortcutConv?: Conv2d;
  readonly shortcutBn?: BatchNorm;
  /** conv2 → bn2 and the shortcut, folded into single convolutions at inference. */
  private readonly conv2Bn2: ConvBatchNorm;
  private readonly shortcut?: ConvBatchNorm;

  constructor(options: SEBasicBlockOptions) {
    super();
    const { inChannels, outChannels } = options;
    const stride = options.stride ?? [1, 1];
    this.conv1 = this.child('conv1', new Conv2d(inChannels, outChannels, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.child('bn1', new BatchNorm(outChannels));
    this.conv2 = this.child('conv2', new Conv2d(outChannels, outChannels, 3, { padding: 1, bias: false }));
    this.bn2 = this.child('bn2', new BatchNorm(outChannels));
    this.se = this.child('se', new SELayer(outChannels));
    if (stride[0] !== 1 || stride[1] !== 1 || inChannels !== outChannels) {
      const downsample = this.child('downsample', new Container());
      this.shortcutConv = downsample.add(0, new Conv2d(inChannels, outChannels, 1, { stride, bias: false }));
      this.shortcutBn = downsample.add(1, new BatchNorm(outChannels));
      this.shortcut = new ConvBatchNorm(this.shortcutConv, this.shortcutBn);
    }
    this.conv2Bn2 = new ConvBatchNorm(this.conv2, this.bn2);
  }

  /** x: [batch, H, W, inChannels] → [batch, ⌈H/sh⌉, ⌈W/sw⌉, outChannels]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let out = this.bn1.forward(convRelu(this.conv1, x));
      out = this.se.forward(this.conv2Bn2.forward(out));
      const residual = this.shortcut ? this.shortcut.forward(x) : x;
      return out.add(residual).relu() as tf.Tensor4D;
    });
  }

  override dispose(): void {
    this.conv2Bn2.dispose();
    this.shortcut?.dispose();
    super.dispose();
  }
}

export interface SEResNetStageOptions {
  inChannels: number;
  outChannels: number;
  numBlocks: number;
  /** Stride of the stage's first block. */
  stride?: Stride2d;
}

/** One `layerN` of the ResNet: `nn.Sequential` of SEBasicBlocks (keys `0.…`, `1.…`). */
export class SEResNetStage extends ModuleList<SEBasicBlock> {
  constructor(options: SEResNetStageOptions) {
    const blocks: SEBasicBlock[] = [];
    for (let i = 0; i < options.numBlocks; i++) {
      blocks.push(
        new SEBasicBlock({
          inChannels: i === 0 ? options.inChannels : options.outChannels,
          outChannels: options.outChannels,
          stride: i === 0 ? options.stride : undefined,
        }),
      );
    }
    super(blocks);
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.items.reduce((h, block) => block.forward(h), x));
  }

  /** Re-draws every conv kernel with PyTorch's `kaiming_normal_(mode='fan_out')` (the ResNets' init). */
  initConvKaiming(): void {
    for (const block of this.items) {
      for (const conv of [block.conv1, block.conv2, block.shortcutConv]) if (conv) kaimingNormalFanOut(conv.weight);
    }
  }
}
