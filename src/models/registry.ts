/**
 * Every built-in encoder, registered by name. The keys are the names voxceleb_trainer/RTVC users
 * know; `aliases` are accepted on the command line too. `fromCheckpoint` turns the hyper-parameters
 * read off a checkpoint's shapes into the model's typed config, so a checkpoint alone rebuilds its
 * network.
 */
import { UnknownComponentError } from '../errors.js';
import type { StateDict } from '../core/tensor-data.js';
import type { SpeakerEncoder } from './encoder.js';
import { ResNetSE34L, type ResNetSE34LConfig } from './resnet-se34l.js';
import { ResNetSE34V2, type ResNetSE34V2Config } from './resnet-se34v2.js';
import { VGGVox, type VGGVoxConfig } from './vggvox.js';
import { RawNet3, type RawNet3Config } from './rawnet3.js';
import { RtvcEncoder, type RtvcEncoderConfig } from './rtvc-encoder.js';
import { SingerEncoder, type SingerEncoderConfig } from './singer-encoder.js';

/** How a whole recording becomes one embedding. */
export type EmbeddingStrategy =
  /** voxceleb_trainer: the network on the whole waveform (or on evaluation crops). */
  | 'utterance'
  /** RTVC: preprocess (volume, VAD trim), 1.6 s partials with 50 % overlap, mean, L2 norm. */
  | 'rtvc-partials'
  /** Needs precomputed feature frames (the singer encoder's WORLD features). */
  | 'feature-frames';

export interface ModelSpec {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly description: string;
  readonly strategy: EmbeddingStrategy;
  /** Builds the network; `hp` are hyper-parameters read off a checkpoint (see io/checkpoint-architecture). */
  create(hp?: Record<string, unknown>, state?: StateDict): SpeakerEncoder;
}

type Hp = Record<string, unknown>;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const quad = (v: unknown): [number, number, number, number] | undefined =>
  Array.isArray(v) && v.length === 4 && v.every((x) => typeof x === 'number') ? (v as [number, number, number, number]) : undefined;
/** Drops undefined entries so the model's defaults apply. */
function defined<T extends object>(o: { [K in keyof T]?: T[K] | undefined }): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
/** ResNet front-end options (frontend, fbankInputScale, fbankSubtractMean) of hp. */
function frontendOptions(hp: Hp): Partial<Pick<ResNetSE34LConfig, 'frontend' | 'fbankInputScale' | 'fbankSubtractMean'>> {
  return defined<ResNetSE34LConfig>({
    frontend: hp.frontend === 'kaldi-fbank' || hp.frontend === 'voxceleb-logmel' ? hp.frontend : undefined,
    fbankInputScale: num(hp.fbankInputScale),
    fbankSubtractMean: typeof hp.fbankSubtractMean === 'boolean' ? hp.fbankSubtractMean : undefined,
  });
}
const shape0 = (state: StateDict | undefined, key: string): number | undefined => state?.get(key)?.shape[0];

export const MODEL_REGISTRY = Object.freeze({
  ResNetSE34L: {
    name: 'ResNetSE34L',
    aliases: ['resnet-se34l', 'resnetse34l'],
    description: 'voxceleb_trainer ResNetSE34L ("baseline_lite"): 40 log-mels, SE-ResNet, SAP/ASP',
    strategy: 'utterance',
    create: (hp: Hp = {}) =>
      new ResNetSE34L(
        defined<ResNetSE34LConfig>({
          numMels: num(hp.numMels),
          embeddingDim: num(hp.embeddingDim),
          pooling: hp.encoderType as ResNetSE34LConfig['pooling'] | undefined,
          channelsPerStage: quad(hp.numFilters),
          blocksPerStage: quad(hp.layers),
          ...frontendOptions(hp),
        }),
      ),
  },
  ResNetSE34V2: {
    name: 'ResNetSE34V2',
    aliases: ['resnet-se34v2', 'resnetse34v2'],
    description: 'voxceleb_trainer ResNetSE34V2 ("baseline_v2"): pre-emphasis, 64 log-mels, SE-ResNet, ASP/SAP',
    strategy: 'utterance',
    create: (hp: Hp = {}, state?: StateDict) =>
      new ResNetSE34V2(
        defined<ResNetSE34V2Config>({
          numMels: num(hp.numMels),
          embeddingDim: num(hp.embeddingDim),
          pooling: hp.encoderType as ResNetSE34V2Config['pooling'] | undefined,
          channelsPerStage: quad(hp.numFilters),
          blocksPerStage: quad(hp.layers),
          ...frontendOptions(hp),
          attentionChannels: shape0(state, 'attention.0.weight'),
        }),
      ),
  },
  VGGVox: {
    name: 'VGGVox',
    aliases: ['vggvox', 'vgg-vox'],
    description: 'voxceleb_trainer VGGVox: 40 log-mels (Hann window), VGG-M style CNN, SAP/TAP/MAX',
    strategy: 'utterance',
    create: (hp: Hp = {}, state?: StateDict) =>
      new VGGVox(
        defined<VGGVoxConfig>({
          embeddingDim: num(hp.embeddingDim),
          // TAP and MAX have no parameters of their own, so a checkpoint cannot tell them apart: SAP when attention exists.
          pooling: state ? (state.has('attention') ? 'SAP' : 'TAP') : undefined,
        }),
      ),
  },
  RawNet3: {
    name: 'RawNet3',
    aliases: ['rawnet3', 'raw-net3'],
    description: 'voxceleb_trainer RawNet3: learnable sinc filterbank on the raw waveform, Res2Net blocks with AFMS, channel-dependent ASP',
    strategy: 'utterance',
    create: (hp: Hp = {}) =>
      new RawNet3(
        defined<RawNet3Config>({
          embeddingDim: num(hp.embeddingDim),
          channels: num(hp.channels),
          sincKernelSize: num(hp.sincKernelSize),
          encoderType: hp.encoderType as RawNet3Config['encoderType'] | undefined,
          context: typeof hp.context === 'boolean' ? hp.context : undefined,
        }),
      ),
  },
  RTVC: {
    name: 'RTVC',
    aliases: ['rtvc', 'rtvc-lstm', 'rtvc_encoder', 'ge2e-lstm'],
    description: 'Real-Time-Voice-Cloning speaker encoder: 40 mels, 3-layer LSTM 256, GE2E; partial-utterance embedding',
    strategy: 'rtvc-partials',
    create: (hp: Hp = {}) =>
      new RtvcEncoder(
        defined<RtvcEncoderConfig>({
          numMels: num(hp.numMels),
          hiddenSize: num(hp.hiddenSize),
          embeddingDim: num(hp.embeddingDim),
          numLayers: num(hp.numLayers),
        }),
      ),
  },
  SingerEncoder: {
    name: 'SingerEncoder',
    aliases: ['singer', 'singer-encoder', 'singer_encoder', 'singer-id'],
    description: 'singer_id_encoder: the RTVC LSTM on singing features, with a singer classification layer',
    strategy: 'feature-frames',
    create: (hp: Hp = {}) =>
      new SingerEncoder(
        defined<SingerEncoderConfig>({
          classNum: num(hp.numClasses),
          numFeats: num(hp.numFeats),
          hiddenSize: num(hp.hiddenSize),
          embeddingDim: num(hp.embeddingDim),
          numLayers: num(hp.numLayers),
        }),
      ),
  },
} satisfies Record<string, ModelSpec>);

export type ModelName = keyof typeof MODEL_REGISTRY;
export const MODEL_NAMES = Object.keys(MODEL_REGISTRY) as ModelName[];

/** The registered name for a name or alias (case-insensitive); throws UnknownComponentError. */
export function resolveModelName(name: string): ModelName {
  const lower = name.toLowerCase();
  for (const key of MODEL_NAMES) {
    const spec: ModelSpec = MODEL_REGISTRY[key];
    if (key.toLowerCase() === lower || spec.aliases.includes(lower)) return key;
  }
  throw new UnknownComponentError('model', name, MODEL_NAMES);
}

export function modelSpec(name: string): ModelSpec {
  return MODEL_REGISTRY[resolveModelName(name)];
}
