/**
 * voxceleb_trainer `ResNetSE34L` ("fast ResNet-34", `models/ResNetSE34L.py`): the encoder of the
 * released `baseline_lite_ap.model`.
 *
 * log-mel [B, mels, T] → conv 7×7 stride (2,1) → BN → ReLU → 4 SE-ResNet stages → mean over
 * frequency → SAP/ASP over time → fc. Activations are NHWC [B, freq, time, channels].
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError, VoxkitError } from '../errors.js';
import { type FeatureSpec, voxcelebLogMelSpecOf } from '../features/feature-spec.js';
import { SpeakerEncoder } from './encoder.js';
import { BatchNorm } from './layers/batch-norm.js';
import { Conv2d } from './layers/conv.js';
import { ConvBatchNorm } from './layers/conv-bn-fold.js';
import { kaimingNormalFanOut, xavierNormal } from './layers/init.js';
import type { LayerProbe } from './layers/layer-probe.js';
import { Linear } from './layers/linear.js';
import { type AttentivePoolingType, attentivePool, sapAttentionWeights } from './layers/pooling.js';
import { SEResNetStage, type Stride2d } from './layers/se-basic-block.js';
import { MelSpectrogramBuffers, type VoxcelebWindowType } from './layers/voxceleb-frontend-buffers.js';
import { DEFAULT_FBANK_MEL_BINS, DEFAULT_FBANK_SETTINGS, type EncoderFrontend, KaldiFbankBuffers } from './layers/kaldi-fbank-buffers.js';

export interface ResNetSE34LConfig {
  /** Number of mel bands of the front-end (`n_mels`). */
  numMels: number;
  /** Embedding size (`nOut`). */
  embeddingDim: number;
  /** Temporal pooling (`encoder_type`). */
  pooling: AttentivePoolingType;
  /** Take the natural log of the mel power (`log_input`; every published config sets it). */
  logInput: boolean;
  /** Output channels of the four stages (`num_filters`); the stem has channelsPerStage[0]. */
  channelsPerStage: [number, number, number, number];
  /** SEBasicBlocks per stage (`layers`). */
  blocksPerStage: [number, number, number, number];
  /** Window of a freshly built model; a loaded checkpoint's `torchfb.spectrogram.window` wins. */
  window: VoxcelebWindowType;
  /**
   * 'voxceleb-logmel' (voxceleb_trainer's instance-normalised log-mel, `torchfb` buffers) or
   * 'kaldi-fbank': the network takes Kaldi fbank frames [B, T, numMels] (default 80 bands) as
   * sherpa-onnx computes them, and has an `fbank.settings` buffer instead of `torchfb`.
   */
  frontend: EncoderFrontend;
  /** kaldi-fbank only: 32768 (int16-range samples, sherpa-onnx normalize_samples 0) or 1. */
  fbankInputScale: number;
  /** kaldi-fbank only: subtract the utterance's mean frame (sherpa-onnx feature_normalize_type global-mean). */
  fbankSubtractMean: boolean;
}

/** The config with the front end's defaults filled in (80 bands for fbank unless numMels is given). */
export function withFrontendDefaults<C extends ResNetSE34LConfig>(defaults: Readonly<C>, config: Partial<C>): C {
  const c = { ...defaults, ...config };
  if (c.frontend !== 'voxceleb-logmel' && c.frontend !== 'kaldi-fbank') {
    throw new VoxkitError('E_CONFIG', `frontend "${String(c.frontend)}" is not supported; valid: voxceleb-logmel, kaldi-fbank`);
  }
  if (c.frontend === 'kaldi-fbank' && config.numMels === undefined) c.numMels = DEFAULT_FBANK_MEL_BINS;
  return c;
}

/** The configuration of the released `baseline_lite_ap.model` (ResNetSE34L, SAP, 40 mels, 512-d). */
export const DEFAULT_RESNET_SE34L_CONFIG: Readonly<ResNetSE34LConfig> = Object.freeze({
  numMels: 40,
  embeddingDim: 512,
  pooling: 'SAP',
  logInput: true,
  channelsPerStage: [16, 32, 64, 128],
  blocksPerStage: [3, 4, 6, 3],
  window: 'hamming',
  frontend: 'voxceleb-logmel',
  fbankInputScale: DEFAULT_FBANK_SETTINGS.inputScale,
  fbankSubtractMean: DEFAULT_FBANK_SETTINGS.subtractMean,
} satisfies ResNetSE34LConfig);

/** Frequency/time strides of the stages: frequency is halved twice, time twice. */
const STAGE_STRIDES: readonly Stride2d[] = [
  [1, 1],
  [2, 2],
  [2, 2],
  [1, 1],
];

export class ResNetSE34L extends SpeakerEncoder {
  readonly architecture = 'ResNetSE34L';
  readonly config: Readonly<ResNetSE34LConfig>;
  readonly attention: tf.Variable;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm;
  readonly stages: SEResNetStage[];
  /** The log-mel buffers (absent with the kaldi-fbank front end). */
  readonly torchfb?: MelSpectrogramBuffers;
  /** The fbank settings buffer (kaldi-fbank front end only). */
  readonly fbank?: KaldiFbankBuffers;
  readonly sapLinear: Linear;
  readonly fc: Linear;
  /** conv1 → bn1 → ReLU as one convolution at inference. */
  private readonly stem: ConvBatchNorm;

  constructor(config: Partial<ResNetSE34LConfig> = {}) {
    super();
    const c = withFrontendDefaults(DEFAULT_RESNET_SE34L_CONFIG, config);
    validatePooling(c.pooling);
    this.config = Object.freeze(c);
    const channels = c.channelsPerStage;
    const width = channels[3];
    // Registration order = PyTorch state-dict order: own parameter `attention` first, then children.
    this.attention = this.param('attention', xavierNormal([width, 1]));
    this.conv1 = this.child('conv1', new Conv2d(1, channels[0], 7, { stride: [2, 1], padding: 3, bias: false }));
    this.bn1 = this.child('bn1', new BatchNorm(channels[0]));
    this.stem = new ConvBatchNorm(this.conv1, this.bn1);
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
      this.torchfb = this.child('torchfb', new MelSpectrogramBuffers({ numMels: c.numMels, window: c.window }));
    }
    this.sapLinear = this.child('sap_linear', new Linear(width, width));
    this.fc = this.child('fc', new Linear(c.pooling === 'ASP' ? 2 * width : width, c.embeddingDim));
    kaimingNormalFanOut(this.conv1.weight);
    for (const stage of this.stages) stage.initConvKaiming();
  }

  get embeddingDim(): number {
    return this.config.embeddingDim;
  }

  /**
   * Instance-normalised log-mel [batch, numMels, frames] from the model's own window/filterbank
   * buffers, or Kaldi fbank [batch, frames, numMels] (kaldi-fbank front end).
   */
  override featureSpec(): FeatureSpec {
    if (this.fbank) return fbankSpec(this.architecture, this.sampleRateHz, this.fbank, this.config.numMels);
    const torchfb = this.torchfb!;
    const frontend = torchfb.frontend({ logInput: this.config.logInput });
    return voxcelebLogMelSpecOf(this.architecture, frontend, () => torchfb.values().melFilterbank);
  }

  /**
   * features [batch, numMels, frames] (fbank: [batch, frames, numMels]) → embeddings [batch,
   * embeddingDim]. `probe` sees `conv1`, `bn1`, `layer1`…`layer4` (NHWC), `sap_linear` ([B, T', C],
   * before tanh) and `fc.input`.
   */
  forward(features: tf.Tensor, probe?: LayerProbe): tf.Tensor2D {
    return tf.tidy(() => {
      const input = melMajorInput('ResNetSE34L', features, this.config);
      const [batch, numMels, frames] = input.shape;
      let x = input.reshape([batch, numMels, frames, 1]) as tf.Tensor4D;
      if (probe) {
        x = this.conv1.forward(x);
        probe('conv1', x);
        x = this.bn1.forward(x);
        probe('bn1', x);
        x = x.relu();
      } else {
        x = this.stem.forward(x, 'relu');
      }
      this.stages.forEach((stage, i) => {
        x = stage.forward(x);
        probe?.(`layer${i + 1}`, x);
      });
      const sequence = x.mean(1) as tf.Tensor3D; // [B, T', C]: mean over frequency
      const weights = sapAttentionWeights(sequence, this.sapLinear, this.attention as tf.Tensor2D, (h) =>
        probe?.('sap_linear', h),
      );
      const pooled = attentivePool(this.config.pooling, sequence, weights);
      probe?.('fc.input', pooled);
      return this.fc.forward(pooled) as tf.Tensor2D;
    });
  }

  override dispose(): void {
    this.stem.dispose();
    super.dispose();
  }
}

/** The fbank spec, checking the loaded settings agree with the network's band count. */
export function fbankSpec(source: string, sampleRateHz: number, fbank: KaldiFbankBuffers, numMels: number): FeatureSpec {
  const spec = fbank.spec(source, sampleRateHz);
  if (spec.numMelBins !== numMels) {
    throw new VoxkitError('E_CHECKPOINT', `${source}: fbank.settings says ${spec.numMelBins} mel bins but the network was built for ${numMels}`);
  }
  return spec;
}

/**
 * The network input as [batch, numMels, frames]: log-mel features as they are, fbank frames
 * [batch, frames, numMels] transposed (the layout WeSpeaker's ResNets permute to as well).
 */
export function melMajorInput(source: string, features: tf.Tensor, config: Pick<ResNetSE34LConfig, 'numMels' | 'frontend'>): tf.Tensor3D {
  const fbank = config.frontend === 'kaldi-fbank';
  const [batch, second, third] = features.shape;
  const [numMels, frames] = fbank ? [third, second] : [second, third];
  if (features.rank !== 3 || numMels !== config.numMels || frames < 1 || batch < 1) {
    throw new ShapeError(`${source} input`, fbank ? `[batch, frames, ${config.numMels}]` : `[batch, ${config.numMels}, frames]`, features.shape);
  }
  return fbank ? (features.transpose([0, 2, 1]) as tf.Tensor3D) : (features as tf.Tensor3D);
}

function validatePooling(pooling: string): void {
  if (pooling !== 'SAP' && pooling !== 'ASP') {
    throw new VoxkitError('E_CONFIG', `resnet-se34l.ts: pooling "${pooling}" is not supported; valid: SAP, ASP`);
  }
}
