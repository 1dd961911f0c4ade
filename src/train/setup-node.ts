/**
 * Everything the trainer needs before step 0, checked up front: the training set (list or folder
 * tree, held-out speakers split off), the batch sampler, the validation trials, the loss and the
 * starting weights of --init-from. Every problem found — bad settings and bad data alike — is
 * collected, so the user gets one message listing them all before any training happens.
 * `checkTrainConfig` is that check for a loaded config, `resumeConfig` the config of a run being
 * resumed.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { formatError } from '../errors.js';
import { useBackend } from '../core/backend.js';
import { seedWeightInit } from '../core/random.js';
import { readSpeakerDataset } from '../data/dataset-node.js';
import { createBatchSampler, type BatchSampler } from '../data/samplers.js';
import { parseTrainList, splitBySpeaker, type SpeakerDataset } from '../data/train-list.js';
import { validateTrainingSet } from '../data/validate-node.js';
import { locateCachedFiles } from '../data/feature-cache-node.js';
import { AUDIO_EXTENSIONS, FEATURE_FILE_EXTENSIONS } from '../data/train-list.js';
import { readTrialListFile } from '../eval/trials-node.js';
import { trialPaths, type LabelledUtterance, type Trial } from '../eval/trials.js';
import type { SpeakerLoss } from '../losses/loss.js';
import { createLoss, lossSpec } from '../losses/registry.js';
import type { SpeakerEncoder } from '../models/encoder.js';
import { MODEL_REGISTRY, type ModelSpec } from '../models/registry.js';
import { readCheckpointForInit, sha256Hex, type LoadedTrainingCheckpoint } from './checkpoint-node.js';
import {
  ConfigError,
  applyResumeOverrides,
  canonicalJson,
  computationalConfig,
  modelOptionKeys,
  type LoadedTrainConfig,
  type TrainConfig,
  type TrainConfigInput,
} from './config.js';
import { RunFolder } from './run-folder-node.js';
import { validationTrials, type ValidationSet } from './validation-node.js';
import { checkNoiseSets } from '../data/augment/augment.js';
import { readNoiseSets } from '../data/augment/noise-sets-node.js';
import { augmentSettingsOf } from './config.js';

export interface TrainingPlan {
  /** The config with derived values filled in (model options read off an --init-from checkpoint). */
  config: TrainConfig;
  /** Training speakers (classes numbered by sorted name) and their utterances. */
  dataset: SpeakerDataset;
  sampler: BatchSampler;
  stepsPerEpoch: number;
  /** Held-out validation trials, when validation is configured. */
  validation?: ValidationSet;
  /** Weights to start from (--init-from). */
  init?: LoadedTrainingCheckpoint;
}

function sourceName(config: TrainConfig): string {
  return config.data.trainList ?? config.data.trainPath;
}

/** Speaker + path lines of a validation list, as labelled recordings (paths as written; session from the path). */
async function readValidationList(file: string): Promise<LabelledUtterance[]> {
  const text = await readFile(file, 'utf8');
  return parseTrainList(text, { listFile: file }).map((u) => ({
    speaker: u.speaker,
    path: u.relativePath,
    ...(u.session === undefined ? {} : { session: u.session }),
  }));
}

function labelled(dataset: SpeakerDataset): LabelledUtterance[] {
  return dataset.utterances.map((u) => ({ speaker: u.speaker, path: u.path, ...(u.session === undefined ? {} : { session: u.session }) }));
}

async function missingFiles(paths: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  await Promise.all(
    paths.map(async (p) => {
      const info = await stat(p).catch(() => undefined);
      if (!info?.isFile()) missing.push(p);
    }),
  );
  return missing.sort();
}

function listSome(items: readonly string[], max = 5): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} … and ${items.length - max} more`;
}

/** Model options of an --init-from checkpoint (explicit config options win). */
function mergedModelOptions(config: TrainConfig, init: LoadedTrainingCheckpoint | undefined): Record<string, unknown> {
  if (!init || init.architecture !== config.model.name) return config.model.options;
  const allowed = new Set(modelOptionKeys(config.model.name));
  const fromCheckpoint = Object.fromEntries(Object.entries(init.hyperparameters).filter(([k]) => allowed.has(k)));
  return { ...fromCheckpoint, ...config.model.options };
}

/** The model and loss a config describes, with the seeded initial weights (and --init-from weights). */
export function buildNetworks(
  plan: TrainingPlan,
): { spec: ModelSpec; encoder: SpeakerEncoder; loss: SpeakerLoss; initReport: string[] } {
  const { config } = plan;
  const spec: ModelSpec = MODEL_REGISTRY[config.model.name];
  seedWeightInit(config.train.seed);
  const encoder = spec.create({ ...config.model.options, numClasses: plan.dataset.speakers.length });
  const loss = createLoss(config.loss.name, {
    embeddingDim: encoder.embeddingDim,
    numClasses: plan.dataset.speakers.length,
    margin: config.loss.margin,
    scale: config.loss.scale,
    easyMargin: config.loss.easyMargin,
    hardRank: config.loss.hardRank,
    hardProb: config.loss.hardProb,
    initW: config.loss.initW,
    initB: config.loss.initB,
    ...(config.loss.mode ? { mode: config.loss.mode } : {}),
  });
  const initReport: string[] = [];
  if (plan.init) {
    encoder.loadStateDict(plan.init.model, { file: plan.init.file });
    initReport.push(`encoder weights from ${plan.init.file}`);
    // The loss head carries over only when it fits (same loss, same number of classes).
    const wanted = loss.stateDictShapes();
    const fits =
      wanted.length === plan.init.loss.size &&
      wanted.every(([key, shape]) => {
        const have = plan.init!.loss.get(key);
        return have !== undefined && (have.shape.join() === shape.join() || (have.shape.length <= 1 && shape.length <= 1));
      });
    if (fits) {
      loss.loadStateDict(plan.init.loss, { file: plan.init.file });
      initReport.push('loss head from the same checkpoint');
    } else {
      initReport.push(plan.init.loss.size > 0 ? "loss head freshly initialised (the checkpoint's does not fit this loss and data)" : 'loss head freshly initialised');
    }
  }
  return { spec, encoder, loss, initReport };
}

/**
 * Reads and checks everything before training. Returns the plan, or every problem found (settings,
 * data, validation files, --init-from) for one ConfigError. `skipInit` leaves the --init-from
 * weights unread (a resumed run starts from its own checkpoint).
 */
export async function planTraining(config: TrainConfig, options: { skipInit?: boolean } = {}): Promise<{ plan?: TrainingPlan; problems: string[] }> {
  const problems: string[] = [];

  // The loss: known name, classes, utterances per speaker.
  let minUtterances = 1;
  let needsClasses = false;
  try {
    const spec = lossSpec(config.loss.name);
    needsClasses = spec.needsClasses;
    const probe = spec.create({ embeddingDim: 8, numClasses: 2 });
    minUtterances = probe.minUtterancesPerSpeaker;
    probe.dispose();
  } catch (err) {
    problems.push(`loss.name: ${formatError(err)}`);
  }
  if (config.data.nPerSpeaker < minUtterances) {
    problems.push(`data.nPerSpeaker is ${config.data.nPerSpeaker} but loss "${config.loss.name}" needs at least ${minUtterances} utterances per speaker in a batch`);
  }

  // --init-from weights.
  let init: LoadedTrainingCheckpoint | undefined;
  if (config.model.initFrom && !options.skipInit) {
    try {
      init = await readCheckpointForInit(config.model.initFrom);
      if (init.architecture && init.architecture !== config.model.name) {
        problems.push(`model.initFrom: ${config.model.initFrom} holds ${init.architecture} weights, but model.name is ${config.model.name}`);
      }
    } catch (err) {
      problems.push(`model.initFrom: ${formatError(err)}`);
    }
  }
  const resolved: TrainConfig = { ...config, model: { ...config.model, options: mergedModelOptions(config, init) } };

  // The training set.
  let dataset: SpeakerDataset | undefined;
  let heldOut: SpeakerDataset | undefined;
  try {
    const all = await readSpeakerDataset({ trainList: config.data.trainList, trainPath: config.data.trainPath });
    if (config.data.valSpeakers > 0 && !config.data.testList && !config.data.valList) {
      const split = splitBySpeaker(all, { valSpeakers: config.data.valSpeakers, seed: config.train.seed });
      dataset = split.train;
      heldOut = split.validation;
    } else {
      dataset = all;
    }
    await validateTrainingSet(dataset, {
      utterancesPerSpeaker: config.data.nPerSpeaker,
      speakersPerBatch: config.data.batchSize,
      source: sourceName(config),
      // RTVC also trains on the mel frames of SV2TTS preprocessing (voxkit prepare --sv2tts).
      ...(config.model.name === 'RTVC' ? { extensions: [...AUDIO_EXTENSIONS, ...FEATURE_FILE_EXTENSIONS] } : {}),
    });
    if (config.data.featureCache) {
      await locateCachedFiles(config.data.featureCache, dataset.utterances.map((u) => u.path), undefined).catch((err: unknown) => {
        problems.push(`data.featureCache: ${formatError(err)}`);
      });
    }
    if (needsClasses && dataset.speakers.length < 2) problems.push(`loss "${config.loss.name}" needs at least 2 training speakers (classes)`);
  } catch (err) {
    problems.push(formatError(err));
  }

  // Validation trials.
  let validation: ValidationSet | undefined;
  try {
    const root = config.data.testPath ?? config.data.trainPath;
    let trials: Trial[] | undefined;
    let source = '';
    if (config.data.testList) {
      trials = await readTrialListFile(config.data.testList);
      source = config.data.testList;
    } else if (config.data.valList) {
      trials = validationTrials(await readValidationList(config.data.valList), config.eval.numTrials, config.train.seed);
      source = `${trials.length} trials generated from ${config.data.valList}`;
    } else if (heldOut) {
      trials = validationTrials(labelled(heldOut), config.eval.numTrials, config.train.seed);
      source = `${trials.length} trials generated over ${heldOut.speakers.length} held-out speakers`;
    }
    if (trials) {
      const useRoot = config.data.testList || config.data.valList ? root : '';
      const paths = trialPaths(trials).map((p) => (isAbsolute(p) || !useRoot ? p : join(useRoot, p)));
      const missing = await missingFiles(paths);
      if (missing.length) problems.push(`${missing.length} validation file(s) missing: ${listSome(missing)}`);
      validation = { trials, source, root: useRoot };
    }
  } catch (err) {
    problems.push(`validation: ${formatError(err)}`);
  }

  // Augmentation sources: readable and holding what the choices draw from.
  const augment = augmentSettingsOf(config);
  if (augment) {
    try {
      checkNoiseSets(augment, await readNoiseSets(config.augment));
    } catch (err) {
      problems.push(`augment: ${formatError(err)}`);
    }
  }

  if (problems.length > 0 || !dataset) return { problems };

  let sampler: BatchSampler;
  let stepsPerEpoch: number;
  try {
    sampler = createBatchSampler(config.data.sampler, dataset.labels, {
      speakersPerBatch: config.data.batchSize,
      utterancesPerSpeaker: config.data.nPerSpeaker,
      maxSegPerSpeaker: config.data.maxSegPerSpk,
      seed: config.train.seed,
    });
    // voxceleb_trainer's epochs vary by a batch or so (tuples dropped at random): epoch 1 is the estimate.
    stepsPerEpoch = sampler.batchesForEpoch(1).length;
  } catch (err) {
    return { problems: [formatError(err)] };
  }
  if (stepsPerEpoch === 0) {
    return {
      problems: [
        `the training data gives no full batch of ${config.data.batchSize} speakers × ${config.data.nPerSpeaker} utterances per epoch; lower data.batchSize or data.nPerSpeaker`,
      ],
    };
  }
  return { plan: { config: resolved, dataset, sampler, stepsPerEpoch, validation, init }, problems };
}

/** The stored config of a run folder with the allowed --resume overrides applied (ConfigError otherwise). */
export function resumeConfig(runPath: string, overrides: TrainConfigInput = {}, out?: string): TrainConfig {
  const run = RunFolder.open(runPath, out);
  const problems: string[] = [];
  const config = applyResumeOverrides(run.readConfig(), overrides, problems);
  if (problems.length) throw new ConfigError(problems, { file: run.configPath, heading: 'cannot resume' });
  return config;
}

/**
 * The config to train with, after every check: settings (`loaded.problems`) and, whenever the
 * settings could be read that far, the data, validation files and --init-from weights too.
 * @throws ConfigError listing every problem in one message
 */
export async function checkTrainConfig(loaded: LoadedTrainConfig, fileName?: string): Promise<TrainConfig> {
  const candidate = loaded.config ?? loaded.draft;
  const problems = [...loaded.problems];
  let plan: TrainingPlan | undefined;
  if (candidate) {
    await useBackend(candidate.train.backend);
    const checked = await planTraining(candidate);
    problems.push(...checked.problems);
    plan = checked.plan;
  }
  if (problems.length > 0 || !loaded.config) throw new ConfigError(problems, { file: fileName });
  // `train` on this very config object reuses the checked plan instead of reading the data again.
  if (plan) checkedPlans.set(loaded.config, plan);
  return loaded.config;
}

const checkedPlans = new WeakMap<TrainConfig, TrainingPlan>();

/** The plan `checkTrainConfig` made for this config object, if any. */
export function checkedPlan(config: TrainConfig): TrainingPlan | undefined {
  return checkedPlans.get(config);
}

/** SHA-256 of the part of the config that decides the computation. */
export function configHash(config: TrainConfig): string {
  return sha256Hex(canonicalJson(computationalConfig(config)));
}
