/**
 * The training configuration: zod schemas grouped by concern (data, model, loss, optimizer,
 * scheduler, train, eval), with voxceleb_trainer's defaults (configs/ResNetSE34L_AP.yaml and
 * trainSpeakerNet.py).
 *
 * Loading order: schema defaults → a YAML/JSON file (nested voxkit keys, or voxceleb_trainer's flat
 * snake_case keys such as `max_frames`, `trainfunc`) → command-line overrides → strict validation
 * that collects every problem, so one message lists them all. `resolveTrainConfig` then fills the
 * values derived from others (StepLR step size, scheduler unit, scoring, run name), and the run
 * folder stores exactly that resolved config.
 *
 * Pure: no Node APIs (reading the file is the caller's job).
 */
import * as z from 'zod';
import { Document, parse as parseYaml, visit as visitYaml } from 'yaml';
import { VoxkitError } from '../errors.js';
import { MODEL_NAMES, resolveModelName, type ModelName } from '../models/registry.js';
import { AUGMENT_TYPES, DEFAULT_SPEC_AUGMENT, DEFAULT_SPEED_FACTORS, type AugmentSettings, type AugmentType, type SpecAugmentSettings } from '../data/augment/augment.js';

/** Bad settings or bad data, found before training starts; `problems` lists every one. */
export class ConfigError extends VoxkitError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options: { file?: string; heading?: string } = {}) {
    const heading = options.heading ?? 'cannot start training';
    const body = problems.length === 1 ? problems[0] : problems.map((p) => `\n  - ${p.replace(/\n/g, '\n    ')}`).join('');
    super('E_CONFIG', `${heading}: ${problems.length === 1 ? '' : `${problems.length} problems:`}${body}`, {
      file: options.file,
      details: { problems: [...problems] },
    });
    this.name = 'ConfigError';
    this.problems = [...problems];
  }
}

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().min(0);
const positiveNumber = z.number().positive();
const probability = z.number().min(0).max(1);
const intQuad = z.tuple([positiveInt, positiveInt, positiveInt, positiveInt]);

export const SAMPLER_NAMES = ['voxceleb', 'ge2e'] as const;
export const OPTIMIZER_NAMES = ['adam', 'sgd', 'adamw'] as const;
export const SCHEDULER_NAMES = ['steplr', 'warmup-cosine'] as const;
export const MONITOR_NAMES = ['eer', 'minDcf', 'loss'] as const;
export const SCORING_NAMES = ['auto', 'cosine', 'mean-distance'] as const;

export const DataConfigSchema = z.strictObject({
  /** voxceleb_trainer train list (`speaker relative/path.wav` per line); omit to read `trainPath` as a folder-per-speaker tree. */
  trainList: z.string().min(1).optional(),
  /** Folder the list's relative paths start from (or the folder-per-speaker tree). */
  trainPath: z.string().default(''),
  /** Held-out speakers for validation (`speaker path` lines); trials are generated from it. */
  valList: z.string().min(1).optional(),
  /** Trial list (`label path1 path2`) for validation; wins over `valList`. */
  testList: z.string().min(1).optional(),
  /** Folder the test/validation list's relative paths start from (default: trainPath). */
  testPath: z.string().optional(),
  /** Without valList/testList: hold out this many training speakers for validation (0 = no validation). */
  valSpeakers: nonNegativeInt.default(0),
  /** Utterances per speaker in a batch (`nPerSpeaker`). */
  nPerSpeaker: positiveInt.default(2),
  /** Speakers per batch (voxceleb sampler) — voxceleb_trainer `batch_size`. */
  batchSize: positiveInt.default(200),
  /** Training crop length in frames (`max_frames`; crops are maxFrames·160 + 240 samples). */
  maxFrames: positiveInt.default(200),
  /** Most utterances of one speaker used per epoch (`max_seg_per_spk`). */
  maxSegPerSpk: positiveInt.default(500),
  /** Worker threads loading audio and computing features (0 = on the main thread). */
  workers: nonNegativeInt.default(2),
  /** Batches prepared ahead of the training step. */
  prefetch: positiveInt.default(2),
  /** Read training sources from this feature cache (`voxkit cache build`); same batches as from audio, no decoding. */
  featureCache: z.string().min(1).optional(),
  /** 'voxceleb': tuples of nPerSpeaker, no speaker twice per batch; 'ge2e': N speakers × M utterances. */
  sampler: z.enum(SAMPLER_NAMES).default('voxceleb'),
});

export const ModelConfigSchema = z.strictObject({
  /** Registry name or alias (ResNetSE34L, ResNetSE34V2, VGGVox, RawNet3, RTVC). */
  name: z.string().min(1).default('ResNetSE34L'),
  /** Architecture options under the registry's names (see MODEL_OPTION_SCHEMAS). */
  options: z.record(z.string(), z.unknown()).default({}),
  /** Start from these weights (voxkit run checkpoint or an imported PyTorch checkpoint). */
  initFrom: z.string().min(1).optional(),
});

export const LossConfigSchema = z.strictObject({
  /** voxceleb_trainer `--trainfunc` spelling (softmax, amsoftmax, aamsoftmax, angleproto, ge2e, …). */
  name: z.string().min(1).default('angleproto'),
  margin: z.number().min(0).default(0.1),
  scale: positiveNumber.default(30),
  easyMargin: z.boolean().default(false),
  hardRank: z.number().int().default(10),
  hardProb: probability.default(0.5),
  initW: z.number().default(10),
  initB: z.number().default(-5),
  /** singer GE2E: 'ge2e' | 'pred' | 'both'. */
  mode: z.enum(['ge2e', 'pred', 'both']).optional(),
});

export const OptimizerConfigSchema = z.strictObject({
  name: z.enum(OPTIMIZER_NAMES).default('adam'),
  lr: positiveNumber.default(0.001),
  /** Default 0 (voxceleb_trainer); 0.01 for adamw (PyTorch's AdamW default). */
  weightDecay: z.number().min(0).optional(),
  /** SGD momentum (voxceleb_trainer optimizer/sgd.py: 0.9). */
  momentum: z.number().min(0).max(1).default(0.9),
  betas: z.tuple([probability, probability]).default([0.9, 0.999]),
  eps: positiveNumber.default(1e-8),
});

export const SchedulerConfigSchema = z.strictObject({
  name: z.enum(SCHEDULER_NAMES).default('steplr'),
  /** StepLR gamma (`lr_decay`). */
  lrDecay: z.number().positive().max(1).default(0.95),
  /** StepLR step size in epochs; default eval.testInterval (voxceleb_trainer uses test_interval). */
  stepSize: positiveInt.optional(),
  /** Warm-up length for warmup-cosine, in `stepUnit`s. */
  warmup: nonNegativeInt.default(0),
  /** Learning rate the cosine decays to. */
  minLr: z.number().min(0).default(0),
  /** When the scheduler steps; default 'epoch' for steplr, 'iteration' for warmup-cosine. */
  stepUnit: z.enum(['epoch', 'iteration']).optional(),
});

export const TrainLoopConfigSchema = z.strictObject({
  maxEpoch: positiveInt.default(500),
  /** Stop after this many optimizer steps (0 = no limit). */
  maxSteps: nonNegativeInt.default(0),
  /** Stop at the first step boundary after this many minutes of this session (0 = no limit). */
  maxMinutes: z.number().min(0).default(0),
  seed: z.number().int().min(0).default(10),
  /** Clip the global gradient norm to this value (0 = off; a loss's own policy still applies). */
  clipNorm: z.number().min(0).default(0),
  /** Keep `checkpoints/epoch-NNNN.model` every this many epochs (0 = never). */
  checkpointEvery: nonNegativeInt.default(10),
  /** Write `checkpoints/latest.model` every this many steps, mid-epoch too (0 = at epoch ends only). */
  checkpointEverySteps: nonNegativeInt.default(500),
  /** Stop when the monitored metric has not improved for this many validations (0 = never). */
  patience: nonNegativeInt.default(0),
  monitor: z.enum(MONITOR_NAMES).default('eer'),
  /** Compute backend (default: VOXKIT_BACKEND, else native when built, else wasm). */
  backend: z.enum(['native', 'wasm', 'cpu', 'tensorflow']).optional(),
  /** Log a training step every this many steps. */
  logEvery: positiveInt.default(10),
});

export const EvalConfigSchema = z.strictObject({
  /** Validate every this many epochs (`test_interval`). */
  testInterval: positiveInt.default(10),
  /** Evaluation crops per utterance (voxceleb_trainer num_eval); 0 = the whole utterance in one pass. */
  numEval: nonNegativeInt.default(10),
  /** Frames per evaluation crop (`eval_frames`; 0 = whole utterance). */
  evalFrames: nonNegativeInt.default(300),
  pTarget: z.number().gt(0).lt(1).default(0.05),
  cMiss: positiveNumber.default(1),
  cFa: positiveNumber.default(1),
  /** 'mean-distance': voxceleb_trainer's −mean pairwise distance over crops; 'cosine': of the mean embeddings. */
  scoring: z.enum(SCORING_NAMES).default('auto'),
  /** Trials generated from a validation list (about half target trials). */
  numTrials: positiveInt.default(2000),
});

const rangeOf = (n: z.ZodNumber) => z.tuple([n, n]).refine((r: [number, number]) => r[0] <= r[1], 'expected [low, high] with low ≤ high');

/** WeSpeaker's spec_aug defaults. */
export const SpecAugmentConfigSchema = z.strictObject({
  probability: probability.default(DEFAULT_SPEC_AUGMENT.probability),
  timeMasks: nonNegativeInt.default(DEFAULT_SPEC_AUGMENT.timeMasks),
  maxTimeWidth: positiveInt.default(DEFAULT_SPEC_AUGMENT.maxTimeWidth),
  freqMasks: nonNegativeInt.default(DEFAULT_SPEC_AUGMENT.freqMasks),
  maxFreqWidth: positiveInt.default(DEFAULT_SPEC_AUGMENT.maxFreqWidth),
});

/** On-the-fly augmentation (voxceleb_trainer `--augment`, WeSpeaker speed perturbation and SpecAugment). */
export const AugmentConfigSchema = z.strictObject({
  /** One of `choices` per training crop (voxceleb_trainer `augment`). */
  enabled: z.boolean().default(false),
  /** `musan_split` folder from `voxkit prepare musan` (voxceleb_trainer `musan_path`). */
  musan: z.string().min(1).optional(),
  /** `rirs.txt` from `voxkit prepare rirs`, or an RIRS_NOISES folder (voxceleb_trainer `rir_path`). */
  rirs: z.string().min(1).optional(),
  /** Drawn uniformly per crop; default none + whatever the given sources allow (all five with both). */
  choices: z.array(z.enum(AUGMENT_TYPES)).optional(),
  /** SNR ranges in dB (voxceleb_trainer `noisesnr`). */
  snr: z
    .strictObject({
      music: rangeOf(z.number()).default([5, 15]),
      speech: rangeOf(z.number()).default([13, 20]),
      noise: rangeOf(z.number()).default([0, 15]),
    })
    .prefault({}),
  /** Speakers mixed into babble (voxceleb_trainer `numnoise.speech`). */
  babble: rangeOf(positiveInt).default([3, 7]),
  /** true = speeds 0.9/1.0/1.1 drawn per crop (WeSpeaker); or the list of factors. The speaker label is kept. */
  speedPerturb: z.union([z.boolean(), z.array(z.number().min(0.5).max(2))]).default(false),
  /** Time/frequency masks on log-mel features: true = WeSpeaker's defaults, or the settings. */
  specAugment: z.union([z.boolean(), SpecAugmentConfigSchema]).default(false),
});

export const TrainConfigSchema = z.strictObject({
  data: DataConfigSchema.prefault({}),
  model: ModelConfigSchema.prefault({}),
  loss: LossConfigSchema.prefault({}),
  optimizer: OptimizerConfigSchema.prefault({}),
  scheduler: SchedulerConfigSchema.prefault({}),
  train: TrainLoopConfigSchema.prefault({}),
  eval: EvalConfigSchema.prefault({}),
  augment: AugmentConfigSchema.prefault({}),
  /** Folder holding run folders. */
  out: z.string().min(1).default('runs'),
  /** Name of this run's folder under `out` (default: date-time, model and loss). */
  runName: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, ".", "_" and "-" only')
    .optional(),
});

export type TrainConfigInput = z.input<typeof TrainConfigSchema>;
export type ParsedTrainConfig = z.output<typeof TrainConfigSchema>;

/** Every value filled in: what config.yaml holds and the trainer reads. */
export interface TrainConfig extends ParsedTrainConfig {
  model: ParsedTrainConfig['model'] & { name: ModelName };
  optimizer: ParsedTrainConfig['optimizer'] & { weightDecay: number };
  scheduler: ParsedTrainConfig['scheduler'] & { stepSize: number; stepUnit: 'epoch' | 'iteration' };
  eval: Omit<ParsedTrainConfig['eval'], 'scoring'> & { scoring: 'cosine' | 'mean-distance' };
  /** Choices, speeds and SpecAugment resolved (empty lists / false = off). */
  augment: Omit<ParsedTrainConfig['augment'], 'choices' | 'speedPerturb' | 'specAugment'> & {
    choices: AugmentType[];
    speedPerturb: number[];
    specAugment: SpecAugmentSettings | false;
  };
  runName: string;
}

/** ResNet front-end options: voxceleb_trainer's log-mel, or Kaldi fbank frames (sherpa-onnx export). */
const RESNET_FRONTEND_OPTIONS = {
  frontend: z.enum(['voxceleb-logmel', 'kaldi-fbank']).optional(),
  fbankInputScale: z.union([z.literal(1), z.literal(32768)]).optional(),
  fbankSubtractMean: z.boolean().optional(),
};

/** Architecture options each model accepts (the registry's hyper-parameter names). */
export const MODEL_OPTION_SCHEMAS: Readonly<Record<ModelName, z.ZodType>> = Object.freeze({
  ResNetSE34L: z.strictObject({
    numMels: positiveInt.optional(),
    embeddingDim: positiveInt.optional(),
    encoderType: z.enum(['SAP', 'ASP']).optional(),
    numFilters: intQuad.optional(),
    layers: intQuad.optional(),
    ...RESNET_FRONTEND_OPTIONS,
  }),
  ResNetSE34V2: z.strictObject({
    numMels: positiveInt.optional(),
    embeddingDim: positiveInt.optional(),
    encoderType: z.enum(['SAP', 'ASP']).optional(),
    numFilters: intQuad.optional(),
    layers: intQuad.optional(),
    ...RESNET_FRONTEND_OPTIONS,
  }),
  VGGVox: z.strictObject({ embeddingDim: positiveInt.optional() }),
  RawNet3: z.strictObject({
    embeddingDim: positiveInt.optional(),
    channels: positiveInt.optional(),
    sincKernelSize: positiveInt.optional(),
    encoderType: z.enum(['ECA', 'ASP']).optional(),
    context: z.boolean().optional(),
  }),
  RTVC: z.strictObject({
    numMels: positiveInt.optional(),
    hiddenSize: positiveInt.optional(),
    embeddingDim: positiveInt.optional(),
    numLayers: positiveInt.optional(),
  }),
  SingerEncoder: z.strictObject({
    numFeats: positiveInt.optional(),
    hiddenSize: positiveInt.optional(),
    embeddingDim: positiveInt.optional(),
    numLayers: positiveInt.optional(),
  }),
});

/** The option names a model accepts. */
export function modelOptionKeys(name: ModelName): string[] {
  const schema = MODEL_OPTION_SCHEMAS[name] as unknown as { shape?: Record<string, unknown> };
  return Object.keys(schema.shape ?? {});
}

/**
 * voxceleb_trainer's flat config keys (trainSpeakerNet.py argument names) → voxkit paths. A
 * config file may use them at its top level, so the repository's configs/*.yaml load as they are.
 */
export const VOXCELEB_TRAINER_KEYS: Readonly<Record<string, string>> = Object.freeze({
  model: 'model.name',
  encoder_type: 'model.options.encoderType',
  nOut: 'model.options.embeddingDim',
  n_mels: 'model.options.numMels',
  initial_model: 'model.initFrom',
  trainfunc: 'loss.name',
  margin: 'loss.margin',
  scale: 'loss.scale',
  hard_rank: 'loss.hardRank',
  hard_prob: 'loss.hardProb',
  nPerSpeaker: 'data.nPerSpeaker',
  batch_size: 'data.batchSize',
  max_frames: 'data.maxFrames',
  max_seg_per_spk: 'data.maxSegPerSpk',
  nDataLoaderThread: 'data.workers',
  train_list: 'data.trainList',
  test_list: 'data.testList',
  train_path: 'data.trainPath',
  test_path: 'data.testPath',
  eval_frames: 'eval.evalFrames',
  test_interval: 'eval.testInterval',
  dcf_p_target: 'eval.pTarget',
  dcf_c_miss: 'eval.cMiss',
  dcf_c_fa: 'eval.cFa',
  max_epoch: 'train.maxEpoch',
  seed: 'train.seed',
  optimizer: 'optimizer.name',
  lr: 'optimizer.lr',
  weight_decay: 'optimizer.weightDecay',
  scheduler: 'scheduler.name',
  lr_decay: 'scheduler.lrDecay',
  save_path: 'out',
  augment: 'augment.enabled',
  musan_path: 'augment.musan',
  rir_path: 'augment.rirs',
});

/** voxceleb_trainer keys voxkit accepts and ignores, with the reason (reported as warnings). */
const IGNORED_VOXCELEB_KEYS: Readonly<Record<string, string>> = Object.freeze({
  nClasses: 'the number of classes comes from the training data',
  log_input: 'log-mel input is always on (as in every published config)',
  mixedprec: 'mixed precision is not available in TensorFlow.js',
  gpu: 'voxkit picks its backend with --backend',
  distributed: 'distributed training is not implemented',
  port: 'distributed training is not implemented',
  eval: 'use `voxkit verify` to evaluate a model',
  verbose: 'voxkit always reports progress',
  sinc_stride: 'RawNet3 is built with the published sinc stride (10)',
});

export interface LoadTrainConfigOptions {
  /** Parsed config file contents (YAML or JSON), if any. */
  file?: unknown;
  /** Name of that file, for messages. */
  fileName?: string;
  /** Values from command-line flags, nested like the schema (`{ data: { batchSize: 8 } }`). */
  overrides?: TrainConfigInput;
}

export interface LoadedTrainConfig {
  config?: TrainConfig;
  /**
   * The config as far as it could be resolved when there are problems the schema does not catch
   * (an unknown model name, cross-field rules): enough to check the data too, so one message can
   * list every problem.
   */
  draft?: TrainConfig;
  /** Every problem found; empty when `config` is set. */
  problems: string[];
  /** Settings accepted but ignored (voxceleb_trainer keys voxkit has no use for). */
  warnings: string[];
}

/** Parses YAML or JSON text (JSON is YAML 1.2); a syntax error becomes a ConfigError. */
export function parseConfigText(text: string, fileName?: string): unknown {
  try {
    return parseYaml(text) ?? {};
  } catch (cause) {
    throw new ConfigError([`not valid YAML/JSON: ${(cause as Error).message.split('\n')[0]}`], { file: fileName, heading: 'cannot read the config file' });
  }
}

/** Sets `obj.a.b.c = value` for path 'a.b.c', creating objects on the way. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = obj;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: `top` wins; arrays and scalars replace; undefined in `top` keeps `base`. */
export function mergeConfig(base: unknown, top: unknown): unknown {
  if (top === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(top)) return top;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(top)) out[k] = mergeConfig(base[k], v);
  return out;
}

/** Moves voxceleb_trainer flat keys to their voxkit paths; collects warnings for ignored ones. */
function translateVoxcelebKeys(file: unknown, warnings: string[]): unknown {
  if (!isPlainObject(file)) return file;
  const out: Record<string, unknown> = {};
  const sections = new Set(['data', 'model', 'loss', 'optimizer', 'scheduler', 'train', 'eval', 'augment', 'out', 'runName']);
  for (const [key, value] of Object.entries(file)) {
    // `model`, `optimizer`, `scheduler` are both a section (object) and a voxceleb_trainer key (a name).
    if (sections.has(key) && (isPlainObject(value) || key === 'out' || key === 'runName')) {
      out[key] = mergeConfig(out[key], value);
    } else if (key in VOXCELEB_TRAINER_KEYS) {
      const nested: Record<string, unknown> = {};
      setPath(nested, VOXCELEB_TRAINER_KEYS[key], value);
      Object.assign(out, mergeConfig(out, nested));
    } else if (key in IGNORED_VOXCELEB_KEYS) {
      warnings.push(`"${key}" ignored: ${IGNORED_VOXCELEB_KEYS[key]}`);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? issue.path.join('.') : 'config';
  if (issue.code === 'unrecognized_keys') {
    return `${where === 'config' ? 'unknown setting' : `${where}: unknown setting`}${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  return `${where}: ${issue.message}`;
}

function defaultRunName(config: ParsedTrainConfig, now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `${stamp}-${config.model.name}-${config.loss.name}`.replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * Defaults → file → overrides → validation → derived values. Never throws for bad settings: the
 * caller gets every problem at once (and adds the data check before reporting them).
 */
export function loadTrainConfig(options: LoadTrainConfigOptions = {}, now: Date = new Date()): LoadedTrainConfig {
  const warnings: string[] = [];
  const problems: string[] = [];
  const fromFile = options.file === undefined ? {} : translateVoxcelebKeys(options.file, warnings);
  if (!isPlainObject(fromFile)) {
    return { problems: [`the config file must hold a mapping of settings, not ${Array.isArray(fromFile) ? 'a list' : typeof fromFile}`], warnings };
  }
  const merged = mergeConfig(fromFile, options.overrides ?? {});
  const parsed = TrainConfigSchema.safeParse(merged);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map(describeIssue));
    return { problems, warnings };
  }
  const resolved = resolveTrainConfig(parsed.data, now, problems);
  return problems.length ? { draft: resolved, problems, warnings } : { config: resolved, problems, warnings };
}

/** Fills derived values and checks what the schema cannot (model name and options, cross-field rules). */
export function resolveTrainConfig(parsed: ParsedTrainConfig, now: Date = new Date(), problems: string[] = []): TrainConfig {
  let modelName: ModelName = parsed.model.name as ModelName;
  try {
    modelName = resolveModelName(parsed.model.name);
    const optionCheck = MODEL_OPTION_SCHEMAS[modelName].safeParse(parsed.model.options);
    if (!optionCheck.success) {
      for (const issue of optionCheck.error.issues) {
        problems.push(describeIssue({ ...issue, path: ['model', 'options', ...issue.path] }));
      }
    }
  } catch {
    problems.push(`model.name: unknown model "${parsed.model.name}"; valid names: ${MODEL_NAMES.join(', ')}`);
  }
  if (modelName === 'SingerEncoder') {
    problems.push('model.name: SingerEncoder trains on precomputed singing features, which voxkit train cannot read from audio lists');
  }
  if (parsed.data.sampler === 'voxceleb' && parsed.data.nPerSpeaker > parsed.data.maxSegPerSpk) {
    problems.push(`data.nPerSpeaker (${parsed.data.nPerSpeaker}) is larger than data.maxSegPerSpk (${parsed.data.maxSegPerSpk})`);
  }
  if (parsed.scheduler.name === 'warmup-cosine' && parsed.scheduler.minLr > parsed.optimizer.lr) {
    problems.push(`scheduler.minLr (${parsed.scheduler.minLr}) is above optimizer.lr (${parsed.optimizer.lr})`);
  }
  if (parsed.train.monitor !== 'loss' && parsed.train.patience > 0 && !hasValidationData(parsed)) {
    problems.push(`train.patience needs validation data for train.monitor "${parsed.train.monitor}": set data.testList, data.valList or data.valSpeakers, or monitor "loss"`);
  }
  if (!parsed.data.trainList && !parsed.data.trainPath) {
    problems.push('data: no training data: set data.trainList (voxceleb_trainer list) or data.trainPath (a folder per speaker)');
  }
  const augment = resolveAugmentConfig(parsed.augment, modelName, problems);
  if (augment.specAugment && (parsed.model.options as { frontend?: unknown }).frontend === 'kaldi-fbank') {
    problems.push('augment.specAugment masks log-mel features in the voxceleb [mels, frames] layout; not available with model option frontend=kaldi-fbank');
  }
  const stepUnit = parsed.scheduler.stepUnit ?? (parsed.scheduler.name === 'warmup-cosine' ? 'iteration' : 'epoch');
  const scoring = parsed.eval.scoring === 'auto' ? (modelName === 'RTVC' || parsed.eval.numEval === 0 ? 'cosine' : 'mean-distance') : parsed.eval.scoring;
  return {
    ...parsed,
    model: { ...parsed.model, name: modelName },
    optimizer: { ...parsed.optimizer, weightDecay: parsed.optimizer.weightDecay ?? (parsed.optimizer.name === 'adamw' ? 0.01 : 0) },
    scheduler: { ...parsed.scheduler, stepSize: parsed.scheduler.stepSize ?? parsed.eval.testInterval, stepUnit },
    eval: { ...parsed.eval, scoring },
    augment,
    runName: parsed.runName ?? defaultRunName(parsed, now),
  };
}

/** Models whose front end ends in log-mel features (where SpecAugment applies). */
const LOG_MEL_MODELS: readonly ModelName[] = ['ResNetSE34L', 'ResNetSE34V2', 'VGGVox'];

/** Fills the augmentation choices, speeds and SpecAugment settings; checks they have what they need. */
export function resolveAugmentConfig(parsed: ParsedTrainConfig['augment'], modelName: ModelName, problems: string[] = []): TrainConfig['augment'] {
  const available: AugmentType[] = ['none', ...(parsed.rirs ? (['reverb'] as const) : []), ...(parsed.musan ? (['music', 'speech', 'noise'] as const) : [])];
  let choices: AugmentType[] = [];
  if (parsed.enabled) {
    if (!parsed.musan && !parsed.rirs && !parsed.choices) {
      problems.push('augment.enabled needs noise to draw from: set augment.musan (voxkit prepare musan) and/or augment.rirs (voxkit prepare rirs)');
    }
    choices = parsed.choices ?? available;
    for (const choice of new Set(choices)) {
      if (choice === 'reverb' && !parsed.rirs) problems.push('augment.choices: "reverb" needs augment.rirs (room impulse responses)');
      if ((choice === 'music' || choice === 'speech' || choice === 'noise') && !parsed.musan) problems.push(`augment.choices: "${choice}" needs augment.musan (the MUSAN split)`);
    }
    if (choices.length === 0) problems.push('augment.choices: empty; list at least one of none, reverb, music, speech, noise');
  }
  const speedPerturb = parsed.speedPerturb === true ? [...DEFAULT_SPEED_FACTORS] : parsed.speedPerturb === false ? [] : [...parsed.speedPerturb];
  const specAugment = parsed.specAugment === true ? { ...DEFAULT_SPEC_AUGMENT } : parsed.specAugment === false ? false : { ...parsed.specAugment };
  if (specAugment && !LOG_MEL_MODELS.includes(modelName)) {
    problems.push(`augment.specAugment masks log-mel features; ${modelName} takes ${modelName === 'RawNet3' ? 'the raw waveform' : 'linear mel features'} (use it with ResNetSE34L, ResNetSE34V2 or VGGVox)`);
  }
  return { ...parsed, choices, speedPerturb, specAugment };
}

/** The settings batch loaders apply, or undefined when augmentation is off. */
export function augmentSettingsOf(config: Pick<TrainConfig, 'augment'>): AugmentSettings | undefined {
  const a = config.augment;
  const settings: AugmentSettings = {
    choices: a.choices,
    snrDb: { music: a.snr.music, speech: a.snr.speech, noise: a.snr.noise },
    numNoises: { music: [1, 1], speech: a.babble, noise: [1, 1] },
    speedFactors: a.speedPerturb,
    specAugment: a.specAugment,
  };
  const active = a.choices.some((c) => c !== 'none') || a.speedPerturb.some((f) => f !== 1) || a.specAugment !== false;
  return active ? settings : undefined;
}

export function hasValidationData(config: Pick<ParsedTrainConfig, 'data'>): boolean {
  return Boolean(config.data.testList || config.data.valList || config.data.valSpeakers > 0);
}

/** The settings that may differ when a run is resumed (they do not change the computation). */
export const RESUMABLE_OVERRIDES: readonly string[] = Object.freeze([
  'train.maxEpoch',
  'train.maxSteps',
  'train.maxMinutes',
  'train.patience',
  'train.backend',
  'train.logEvery',
  'train.checkpointEvery',
  'train.checkpointEverySteps',
  'data.workers',
  'data.prefetch',
  'data.featureCache',
  'out',
]);

/** Leaf paths of a nested object ('data.batchSize', …); arrays are leaves. */
export function leafPaths(obj: unknown, prefix = ''): string[] {
  if (!isPlainObject(obj)) return prefix ? [prefix] : [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    const path = prefix ? `${prefix}.${k}` : k;
    if (isPlainObject(v) && Object.keys(v).length > 0) out.push(...leafPaths(v, path));
    else out.push(path);
  }
  return out;
}

export function getPath(obj: unknown, path: string): unknown {
  let node: unknown = obj;
  for (const part of path.split('.')) {
    if (!isPlainObject(node)) return undefined;
    node = node[part];
  }
  return node;
}

/**
 * The config of a run being resumed with the given overrides applied. Only RESUMABLE_OVERRIDES may
 * change (anything else would make the resumed run differ from an uninterrupted one); other
 * overrides that differ from the stored value are problems.
 */
export function applyResumeOverrides(stored: TrainConfig, overrides: TrainConfigInput, problems: string[]): TrainConfig {
  const allowed: Record<string, unknown> = {};
  for (const path of leafPaths(overrides)) {
    const value = getPath(overrides, path);
    if (RESUMABLE_OVERRIDES.includes(path)) setPath(allowed, path, value);
    else if (JSON.stringify(value) !== JSON.stringify(getPath(stored, path))) {
      problems.push(`${path} cannot change when resuming (the run has ${JSON.stringify(getPath(stored, path))}); start a new run with --init-from instead`);
    }
  }
  const merged = mergeConfig(stored, allowed);
  const parsed = TrainConfigSchema.safeParse(merged);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map(describeIssue));
    return stored;
  }
  return { ...stored, ...(merged as TrainConfig) };
}

/** Sorted-key JSON: the same config always gives the same text (for hashing). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The part of the config that determines the computation (what a resumed run must share). */
export function computationalConfig(config: TrainConfig): unknown {
  const copy = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  for (const path of RESUMABLE_OVERRIDES) {
    const parts = path.split('.');
    const parent = parts.length > 1 ? (getPath(copy, parts.slice(0, -1).join('.')) as Record<string, unknown> | undefined) : copy;
    if (parent) delete parent[parts[parts.length - 1]];
  }
  delete copy.runName;
  // Runs from before augmentation existed (and runs without it) keep their hash.
  if (!augmentSettingsOf(config)) delete copy.augment;
  return copy;
}

/** config.yaml text of a resolved config. */
export function configToYaml(config: TrainConfig, header?: string): string {
  const doc = new Document(JSON.parse(JSON.stringify(config)));
  // Lists (numFilters, betas) read best on one line.
  visitYaml(doc, { Seq: (_key, node) => void (node.flow = true) });
  const body = doc.toString({ lineWidth: 0 });
  return header ? `${header
    .split('\n')
    .map((l) => `# ${l}`)
    .join('\n')}\n${body}` : body;
}

/** Reads a config.yaml written by configToYaml back into a TrainConfig (validated). */
export function configFromYaml(text: string, fileName?: string): TrainConfig {
  const raw = parseConfigText(text, fileName);
  const parsed = TrainConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map(describeIssue), { file: fileName, heading: 'invalid run config' });
  const problems: string[] = [];
  const config = resolveTrainConfig(parsed.data, new Date(), problems);
  if (problems.length) throw new ConfigError(problems, { file: fileName, heading: 'invalid run config' });
  return config;
}
