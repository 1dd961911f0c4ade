/**
 * voxceleb_trainer `ResNetSE34V2` (`models/ResNetSE34V2.py`, class `ResNetSE`): the encoder of the
 * released `baseline_v2_smproto.model`.
 *
 * pre-emphasised log-mel [B, mels, T] → conv 3×3 (bias) → ReLU → BN → 4 SE-ResNet stages (strides
 * 1, 2, 2, 2) → reshape to (B, C·F', T') channel-major → channel-wise attention (1×1 conv, ReLU,
 * BN, 1×1 conv, softmax over time) → SAP/ASP → fc. Activations are NHWC [B, freq, time, channels].
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError, VoxkitError } from '../errors.js';
import { type FeatureSpec, voxcelebLogMelSpecOf } from '../features/feature-spec.js';
import { Container, Module } from './module.js';
import { SpeakerEncoder } from './encoder.js';
import { BatchNorm } from './layers/batch-norm.js';
import { Conv1d, Conv2d } from './layers/conv.js';
import { convRelu } from './layers/conv-bn-fold.js';
import { kaimingNormalFanOut } from './layers/init.js';
import type { LayerProbe } from './layers/layer-probe.js';
import { Linear } from './layers/linear.js';
import { type AttentivePoolingType, attentivePool, softmaxOverTime } from './layers/pooling.js';
import { SEResNetStage, type Stride2d } from './layers/se-basic-block.js';
import { type ResNetSE34LConfig, fbankSpec, melMajorInput, withFrontendDefaults } from './resnet-se34l.js';
import { DEFAULT_FBANK_SETTINGS, KaldiFbankBuffers } from './layers/kaldi-fbank-buffers.js';
import { MelSpectrogramBuffers, PreEmphasisBuffer, type VoxcelebWindowType } from './layers/voxceleb-frontend-buffers.js';

/** The ResNetSE34L settings (numMels must be a multiple of 8: three stride-2 stages) plus V2's own. */
export interface ResNetSE34V2Config extends ResNetSE34LConfig {
  /** Hidden width of the attention bottleneck (Conv1d(C·F', 128)). */
  attentionChannels: number;
  /** Pre-emphasis coefficient of a freshly built model; a loaded `torchfb.0.flipped_filter` wins. */
  preEmphasis: number;
}

/** The configuration of the released `baseline_v2_smproto.model` (ASP, 64 mels, 512-d). */
export const DEFAULT_RESNET_SE34V2_CONFIG: Readonly<ResNetSE34V2Config> = Object.freeze({
  numMels: 64,
  embeddingDim: 512,
  pooling: 'ASP',
  logInput: true,
  channelsPerStage: [32, 64, 128, 256],
  blocksPerStage: [3, 4, 6, 3],
  attentionChannels: 128,
  preEmphasis: 0.97,
  window: 'hamming',
  frontend: 'voxceleb-logmel',
  fbankInputScale: DEFAULT_FBANK_SETTINGS.inputScale,
  fbankSubtractMean: DEFAULT_FBANK_SETTINGS.subtractMean,
} satisfies ResNetSE34V2Config);

const STAGE_STRIDES: readonly Stride2d[] = [
  [1, 1],
  [2, 2],
  [2, 2],
  [2, 2],
];

/** Frequency bands left after the three stride-2 stages (`outmap_size = int(n_mels / 8)`). */
export function v2OutputBands(numMels: number): number {
  return Math.floor(numMels / 8);
}

/** `torchfb` = Sequential(PreEmphasis, MelSpectrogram): keys `0.flipped_filter`, `1.spectrogram.window`, `1.mel_scale.fb`. */
class PreEmphasisMelBuffers extends Module {
  readonly preEmphasis: PreEmphasisBuffer;
  readonly melSpectrogram: MelSpectrogramBuffers;
  constructor(numMels: number, coefficient: number, window: VoxcelebWindowType) {
    super();
    this.preEmphasis = this.child('0', new PreEmphasisBuffer(coefficient));
    this.melSpectrogram = this.child('1', new MelSpectrogramBuffers({ numMels, window }));
  }
}

export class ResNetSE34V2 extends SpeakerEncoder {
  readonly architecture = 'ResNetSE34V2';
  readonly config: Readonly<ResNetSE34V2Config>;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm;
  readonly stages: SEResNetStage[];
  /** Pre-emphasis and log-mel buffers (absent with the kaldi-fbank front end). */
  readonly torchfb?: PreEmphasisMelBuffers;
  /** The fbank settings buffer (kaldi-fbank front end only; Kaldi fbank has its own pre-emphasis). */
  readonly fbank?: KaldiFbankBuffers;
  readonly attentionIn: Conv1d;
  readonly attentionBn: BatchNorm;
  readonly attentionOut: Conv1d;
  readonly fc: Linear;
  /** C·F': the channel count of the flattened stage-4 output. */
  readonly flatChannels: number;

  constructor(config: Partial<ResNetSE34V2Config> = {}) {
    super();
    const c = withFrontendDefaults(DEFAULT_RESNET_SE34V2_CONFIG, config);
    if (c.pooling !== 'SAP' && c.pooling !== 'ASP') {
      throw new VoxkitError('E_CONFIG', `resnet-se34v2.ts: pooling "${c.pooling}" is not supported; valid: SAP, ASP`);
    }
    if (c.numMels < 8) throw new VoxkitError('E_CONFIG', `resnet-se34v2.ts: numMels must be at least 8, got ${c.numMels}`);
    this.config = Object.freeze(c);
    const channels = c.channelsPerStage;
    this.conv1 = this.child('conv1', new Conv2d(1, channels[0], 3, { padding: 1 }));
    this.bn1 = this.child('bn1', new BatchNorm(channels[0]));
    this.stages = channels.map((outChannels, i) =>
      this.child(
        `layer${i + 1}`,
        new SEResNetStage({
          inChannels: i === 0 ? channels[0] : channels[i - 1],
          outChannels,
          numBlocks: c.blocksPerStage[i],
          stride: STAGE_STRIDES[i],
        }),
      ),
    );
    if (c.frontend === 'kaldi-fbank') {
      this.fbank = this.child('fbank', new KaldiFbankBuffers({ numMelBins: c.numMels, inputScale: c.fbankInputScale, subtractMean: c.fbankSubtractMean }));
    } else {
      this.torchfb = this.child('torchfb', new PreEmphasisMelBuffers(c.numMels, c.preEmphasis, c.window));
    }
    this.flatChannels = channels[3] * v2OutputBands(c.numMels);
    const attention = this.child('attention', new Container());
    this.attentionIn = attention.add(0, new Conv1d(this.flatChannels, c.attentionChannels, 1));
    this.attentionBn = attention.add(2, new BatchNorm(c.attentionChannels));
    this.attentionOut = attention.add(3, new Conv1d(c.attentionChannels, this.flatChannels, 1));
    this.fc = this.child('fc', new Linear(c.pooling === 'ASP' ? 2 * this.flatChannels : this.flatChannels, c.embeddingDim));
    kaimingNormalFanOut(this.conv1.weight);
    for (const stage of this.stages) stage.initConvKaiming();
  }

  get embeddingDim(): number {
    return this.config.embeddingDim;
  }

  /**
   * Instance-normalised log-mel of the pre-emphasised waveforms: [batch, numMels, frames], or Kaldi
   * fbank [batch, frames, numMels] (kaldi-fbank front end).
   */
  override featureSpec(): FeatureSpec {
    if (this.fbank) return fbankSpec(this.architecture, this.sampleRateHz, this.fbank, this.config.numMels);
    const torchfb = this.torchfb!;
    const melSpectrogram = torchfb.melSpectrogram;
    const frontend = melSpectrogram.frontend({ preEmphasis: torchfb.preEmphasis.coefficient(), logInput: this.config.logInput });
    return voxcelebLogMelSpecOf(this.architecture, frontend, () => melSpectrogram.values().melFilterbank);
  }

  /**
   * features [batch, numMels, frames] (fbank: [batch, frames, numMels]) → embeddings [batch,
   * embeddingDim]. `probe` sees `conv1`, `bn1`, `layer1`…`layer4` (NHWC), `attention` (softmax
   * weights [B, T', C·F']) and `fc.input`.
   */
  forward(features: tf.Tensor, probe?: LayerProbe): tf.Tensor2D {
    return tf.tidy(() => {
      const input = melMajorInput('ResNetSE34V2', features, this.config);
      const [batch, numMels, frames] = input.shape;
      let x = input.reshape([batch, numMels, frames, 1]) as tf.Tensor4D;
      if (probe) {
        x = this.conv1.forward(x);
        probe('conv1', x);
        x = this.bn1.forward(x.relu() as tf.Tensor4D);
        probe('bn1', x);
      } else {
        x = this.bn1.forward(convRelu(this.conv1, x));
      }
      this.stages.forEach((stage, i) => {
        x = stage.forward(x);
        probe?.(`layer${i + 1}`, x);
      });
      const sequence = this.flattenChannelMajor(x);
      let hidden = this.attentionIn.forward(sequence).relu() as tf.Tensor3D;
      hidden = this.attentionBn.forward(hidden);
      const weights = softmaxOverTime(this.attentionOut.forward(hidden));
      probe?.('attention', weights);
      const pooled = attentivePool(this.config.pooling, sequence, weights);
      probe?.('fc.input', pooled);
      return this.fc.forward(pooled) as tf.Tensor2D;
    });
  }

  /**
   * NHWC [B, F', T', C] → [B, T', C·F'] with channel index c·F' + f, i.e. PyTorch's
   * `x.reshape(B, -1, T)` of (B, C, F', T') in time-major layout (one transpose).
   */
  private flattenChannelMajor(x: tf.Tensor4D): tf.Tensor3D {
    const [batch, bands, time, channels] = x.shape;
    const expectedBands = v2OutputBands(this.config.numMels);
    if (bands !== expectedBands) {
      // n_mels not a multiple of 8 rounds differently in the convs than in outmap_size.
      throw new ShapeError('ResNetSE34V2 stage-4 output', `[batch, ${expectedBands}, time, ${channels}]`, x.shape);
    }
    return x.transpose([0, 2, 3, 1]).reshape([batch, time, channels * bands]);
  }
}
