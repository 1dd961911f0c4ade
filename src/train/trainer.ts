/**
 * The training loop, readable top to bottom:
 *
 *   check everything → run folder (config.yaml, meta.json) → networks, optimizer, scheduler →
 *   resume state if any → for each epoch: batches from the worker pool → trainStep → log →
 *   mid-epoch checkpoints → (scheduler) → validation → early stopping → checkpoints.
 *
 * Determinism: the sampler is a pure function of (seed, epoch), every item carries its own crop
 * seed, and checkpoints hold the weights, optimizer and scheduler state, the position in the epoch,
 * the loss's random generator and the early-stopping state. So a run resumed from any checkpoint
 * ends with the same weights as one that was never interrupted (same backend and thread count).
 *
 * The library never prints: progress goes to `onEvent`, metrics.jsonl, TensorBoard and train.log.
 */
import * as tf from '@tensorflow/tfjs';
import { hostname } from 'node:os';
import { useBackend } from '../core/backend.js';
import type { PyWritable } from '../io/torch-writer.js';
import { Random } from '../core/random.js';
import { VERSION } from '../version.js';
import { BatchLoader } from '../data/batch-loader-node.js';
import { defaultCropFor } from '../data/batch-features.js';
import { locateCachedFiles } from '../data/feature-cache-node.js';
import type { SpeakerLoss } from '../losses/loss.js';
import type { SpeakerEncoder } from '../models/encoder.js';
import { createOptimizer, type Optimizer } from './optimizer.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import { trainStep } from './step.js';
import { TensorBoardWriter } from './tensorboard-node.js';
import { CHECKPOINT_FORMAT_VERSION, encodeTrainingCheckpoint, type TrainingProgress } from './checkpoint-node.js';
import { ConfigError, augmentSettingsOf, type TrainConfig } from './config.js';
import { EarlyStopping } from './early-stopping.js';
import type { CheckpointKind, StopReason, TrainEvent } from './events.js';
import { ProgressReporter } from './progress.js';
import { RunFolder, type RunMeta } from './run-folder-node.js';
import { buildNetworks, checkTrainConfig, checkedPlan, configHash, planTraining, resumeConfig } from './setup-node.js';
import { Validator } from './validation-node.js';

export interface TrainOptions {
  /** Receives every event (progress display); the library itself never prints. */
  onEvent?: (event: TrainEvent) => void;
  /** Continue this run folder (its config must be `config`, see `resumeConfig`). */
  resume?: string;
  /** Stops training at the next step boundary, after writing the latest checkpoint. */
  signal?: AbortSignal;
  /** Recorded in meta.json. */
  commandLine?: string[];
}

export interface TrainResult {
  runDir: string;
  reason: StopReason;
  step: number;
  epochsCompleted: number;
  /** Best monitored value (null when nothing was validated). */
  bestValue: number | null;
  /** The checkpoint written last (latest.model). */
  latestCheckpoint: string;
}

export { checkTrainConfig, configHash, resumeConfig };

/** Random generators a loss owns (triplet/contrastive negative mining), by property name. */
function lossRandoms(loss: SpeakerLoss): Map<string, Random> {
  const out = new Map<string, Random>();
  for (const [key, value] of Object.entries(loss)) if (value instanceof Random) out.set(`loss.${key}`, value);
  return out;
}

function emptyEpochStats(): TrainingProgress['epochStats'] {
  return { lossSum: 0, accuracySum: 0, batches: 0, utterances: 0 };
}

/** Trains a speaker encoder as `config` says; see the module comment. */
export async function train(config: TrainConfig, options: TrainOptions = {}): Promise<TrainResult> {
  const startedAt = performance.now();
  const backend = await useBackend(config.train.backend);

  // ---- Check everything before touching the disk: one message lists every problem.
  const resuming = options.resume !== undefined;
  const resumedRun = resuming ? RunFolder.open(options.resume!, config.out) : undefined;
  const found = await resumedRun?.checkpoints.findResumable();
  // A resumed run takes its weights from its own checkpoint, not from --init-from (which may be gone).
  const { plan, problems } = checkedPlan(config) ? { plan: checkedPlan(config), problems: [] } : await planTraining(config, { skipInit: found !== undefined });
  if (!plan) throw new ConfigError(problems);
  config = plan.config;

  // ---- Run folder: config.yaml and meta.json exist before step 0.
  const run = resumedRun ?? RunFolder.create(config.out, config.runName);
  const hash = configHash(config);
  const trainLog = new ProgressReporter({ line: (text) => run.log(text) });
  const emit = (event: TrainEvent): void => {
    trainLog.handle(event);
    if (event.type !== 'log') run.appendMetric({ ...event, time: new Date().toISOString() });
    options.onEvent?.(event);
  };
  const warn = (message: string) => emit({ type: 'log', level: 'warn', message });
  const info = (message: string) => emit({ type: 'log', level: 'info', message });

  // ---- Networks, optimizer, scheduler (seeded initial weights, or --init-from weights).
  const { spec, encoder, loss, initReport } = buildNetworks(plan);
  const randoms = lossRandoms(loss);
  for (const [i, r] of [...randoms.values()].entries()) r.reseed(config.train.seed + 1000 + i);
  const parameters: Array<[string, tf.Variable]> = [...encoder.namedParameters('__S__.'), ...loss.namedParameters('__L__.')];
  const optimizer: Optimizer = createOptimizer(config.optimizer.name, parameters, {
    lr: config.optimizer.lr,
    weightDecay: config.optimizer.weightDecay,
    momentum: config.optimizer.momentum,
    betas: config.optimizer.betas,
    eps: config.optimizer.eps,
  });
  const totalSteps = ProgressReporter.totalSteps(plan.stepsPerEpoch, config.train.maxEpoch, config.train.maxSteps);
  const scheduler: Scheduler = createScheduler(config.scheduler.name, optimizer, {
    stepSize: config.scheduler.stepSize,
    gamma: config.scheduler.lrDecay,
    warmup: config.scheduler.warmup,
    minLr: config.scheduler.minLr,
    stepUnit: config.scheduler.stepUnit,
    totalSteps: config.scheduler.stepUnit === 'epoch' ? config.train.maxEpoch : totalSteps,
  });
  const earlyStopping = new EarlyStopping(config.train.monitor, config.train.patience);

  // ---- Where to start: a fresh run, or the newest intact checkpoint of the run being resumed.
  let step = 0;
  let epochsCompleted = 0;
  let batchInEpoch = 0;
  let epochStats = emptyEpochStats();
  let lastValidation: TrainingProgress['lastValidation'] = null;
  if (resuming) {
    for (const r of found?.rejected ?? []) warn(`${r.path} is ${r.reason}; not used`);
    const meta = run.readMeta();
    if (found) {
      const progress = found.checkpoint.progress!;
      if (progress.configHash !== hash) {
        throw new ConfigError([`${found.path} was written with a different configuration (config hash ${progress.configHash.slice(0, 12)} ≠ ${hash.slice(0, 12)})`], {
          heading: 'cannot resume',
        });
      }
      encoder.loadStateDict(found.checkpoint.model, { file: found.path });
      loss.loadStateDict(found.checkpoint.loss, { file: found.path });
      optimizer.loadStateDict(found.checkpoint.optimizer);
      scheduler.loadStateDict(found.checkpoint.scheduler);
      for (const [name, r] of randoms) if (progress.rng[name]) r.setState(progress.rng[name]);
      earlyStopping.setState({
        metric: config.train.monitor,
        value: progress.best.value,
        step: progress.best.step,
        epoch: progress.best.epoch,
        validationsWithoutImprovement: progress.validationsWithoutImprovement,
      });
      ({ step, epochsCompleted, batchInEpoch, epochStats, lastValidation } = progress);
      info(`resuming from ${found.path} (step ${step}, epoch ${epochsCompleted + 1}, batch ${batchInEpoch})`);
    } else {
      info('no intact checkpoint in the run folder: starting it again from step 0');
    }
    run.truncateMetricsAfter(step);
    if (meta) {
      meta.resumes.push({ at: new Date().toISOString(), checkpoint: found?.path ?? '', step, rejected: (found?.rejected ?? []).map((r) => r.path) });
      await run.writeMeta(meta);
    }
  } else {
    await run.writeConfig(config, `voxkit ${VERSION} training run ${config.runName}: fully resolved config (voxkit train --config this-file reproduces it)`);
    const meta: RunMeta = {
      voxkitVersion: VERSION,
      node: process.version,
      platform: `${process.platform}-${process.arch} ${hostname()}`,
      backend,
      seed: config.train.seed,
      commandLine: options.commandLine ?? [],
      createdAt: new Date().toISOString(),
      ...(plan.init
        ? {
            parent: {
              checkpoint: plan.init.file,
              ...(plan.init.progress ? { run: plan.init.progress.runName, step: plan.init.progress.step, epochsCompleted: plan.init.progress.epochsCompleted } : {}),
              sha256: plan.init.sha256,
            },
          }
        : {}),
      resumes: [],
    };
    await run.writeMeta(meta);
    for (const line of initReport) info(`init: ${line}`);
  }

  // ---- Data: batches come from worker threads, in the sampler's order.
  const featureSpec = encoder.featureSpec();
  const augmentSettings = augmentSettingsOf(config);
  const trainFiles = plan.dataset.utterances.map((u) => u.path);
  // planTraining checked the cache covers every file and is current.
  const featureCache = config.data.featureCache ? await locateCachedFiles(config.data.featureCache, trainFiles, featureSpec, { trustSources: true }) : undefined;
  if (featureCache) info(`training sources from the feature cache ${featureCache.dir}`);
  const loader = new BatchLoader({
    featureSpec,
    crop: defaultCropFor(featureSpec, config.data.maxFrames),
    files: trainFiles,
    ...(featureCache ? { featureCache } : {}),
    numWorkers: config.data.workers,
    prefetch: config.data.prefetch,
    ...(augmentSettings ? { augment: { settings: augmentSettings, musan: config.augment.musan, rirs: config.augment.rirs } } : {}),
  });
  const validator = plan.validation
    ? new Validator(plan.validation, {
        strategy: spec.strategy,
        scoring: config.eval.scoring,
        numEval: config.eval.numEval,
        evalFrames: config.eval.evalFrames,
        testNormalize: loss.testNormalize,
        pTarget: config.eval.pTarget,
        cMiss: config.eval.cMiss,
        cFa: config.eval.cFa,
      })
    : undefined;
  const tensorboard = new TensorBoardWriter(run.tensorboardDir);

  const progressState = (): TrainingProgress => ({
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    step,
    epochsCompleted,
    batchInEpoch,
    epochStats: { ...epochStats },
    rng: Object.fromEntries([...randoms].map(([name, r]) => [name, r.getState()])),
    sampler: { kind: config.data.sampler, epoch: epochsCompleted + 1, batchIndex: batchInEpoch },
    best: (({ metric, value, step: s, epoch }) => ({ metric, value, step: s, epoch }))(earlyStopping.getState()),
    validationsWithoutImprovement: earlyStopping.getState().validationsWithoutImprovement,
    lastValidation,
    configHash: hash,
    runName: run.name,
  });
  let latestCheckpoint = '';
  let savedAtStep = -1;
  const saveCheckpoint = async (kinds: CheckpointKind[]): Promise<void> => {
    const progress = progressState();
    const bytes = encodeTrainingCheckpoint({
      model: encoder.stateDict(),
      loss: loss.stateDict(),
      optimizer: optimizer.stateDict() as unknown as PyWritable,
      scheduler: scheduler.stateDict(),
      progress,
    });
    for (const kind of kinds) {
      const path = await run.checkpoints.save(kind, bytes, progress);
      if (kind === 'latest') {
        latestCheckpoint = path;
        savedAtStep = step;
      }
      emit({ type: 'checkpoint', kind, path, step, epochsCompleted, batchInEpoch });
    }
    tensorboard.flush();
  };

  emit({
    type: 'start',
    runDir: run.dir,
    runName: run.name,
    resumed: resuming,
    step,
    epochsCompleted,
    batchInEpoch,
    stepsPerEpoch: plan.stepsPerEpoch,
    maxEpoch: config.train.maxEpoch,
    maxSteps: config.train.maxSteps,
    maxSeconds: config.train.maxMinutes * 60,
    speakers: plan.dataset.speakers.length,
    utterances: plan.dataset.utterances.length,
    parameters: encoder.numParameters() + loss.numParameters(),
    backend,
  });
  if (plan.validation) info(`validation: ${plan.validation.source}`);

  // ---- The loop.
  let reason: StopReason = 'max-epoch';
  const reachedMaxSteps = () => config.train.maxSteps > 0 && step >= config.train.maxSteps;
  const loopStarted = performance.now();
  const timeLimitMs = config.train.maxMinutes > 0 ? config.train.maxMinutes * 60_000 : Infinity;
  /** Why to stop at this step boundary, if at all. */
  const limitReached = (): StopReason | undefined =>
    options.signal?.aborted ? 'aborted' : reachedMaxSteps() ? 'max-steps' : performance.now() - loopStarted >= timeLimitMs ? 'max-time' : undefined;
  encoder.train();
  loss.train();
  try {
    training: while (epochsCompleted < config.train.maxEpoch) {
      const epoch = epochsCompleted + 1;
      const epochStarted = performance.now();
      let windowStarted = performance.now();
      let windowUtterances = 0;
      // voxceleb_trainer epochs differ by a batch or so: count this epoch's own batches.
      const epochBatches = plan.sampler.batchesForEpoch(epoch);
      const batchesInEpoch = epochBatches.length;
      for await (const loaded of loader.iterate(epochBatches.slice(batchInEpoch))) {
        const result = trainStep({
          encoder,
          loss,
          optimizer,
          features: loaded.features,
          labels: loaded.labels,
          layout: loaded.batch.layout,
          speakers: loaded.batch.speakersPerBatch,
          utterancesPerSpeaker: loaded.batch.utterancesPerSpeaker,
          clipNorm: config.train.clipNorm,
        });
        step++;
        batchInEpoch++;
        const utterances = loaded.batch.items.length;
        epochStats = {
          lossSum: epochStats.lossSum + result.loss,
          accuracySum: epochStats.accuracySum + result.accuracy,
          batches: epochStats.batches + 1,
          utterances: epochStats.utterances + utterances,
        };
        windowUtterances += utterances;
        if (config.scheduler.stepUnit === 'iteration') scheduler.step();

        if (step % config.train.logEvery === 0 || batchInEpoch === batchesInEpoch) {
          const seconds = (performance.now() - windowStarted) / 1000;
          const utterancesPerSec = seconds > 0 ? windowUtterances / seconds : 0;
          emit({ type: 'step', step, epoch, batch: batchInEpoch, stepsPerEpoch: batchesInEpoch, loss: result.loss, accuracy: result.accuracy, lr: optimizer.lr, utterancesPerSec });
          tensorboard.scalars({ 'train/loss': result.loss, 'train/accuracy': result.accuracy, 'train/lr': optimizer.lr, 'train/utterances_per_sec': utterancesPerSec }, step);
          windowStarted = performance.now();
          windowUtterances = 0;
        }
        const limit = limitReached();
        if (limit) {
          reason = limit;
          if (batchInEpoch < batchesInEpoch) {
            await saveCheckpoint(['latest']);
            break training;
          }
        }
        if (config.train.checkpointEverySteps > 0 && step % config.train.checkpointEverySteps === 0 && batchInEpoch < batchesInEpoch) {
          await saveCheckpoint(['latest']);
        }
      }

      // ---- End of epoch: scheduler, epoch summary, validation, early stopping, checkpoints.
      if (config.scheduler.stepUnit === 'epoch') scheduler.step();
      const epochSeconds = (performance.now() - epochStarted) / 1000;
      const epochLoss = epochStats.batches > 0 ? epochStats.lossSum / epochStats.batches : NaN;
      emit({
        type: 'epoch',
        epoch,
        step,
        loss: epochLoss,
        accuracy: epochStats.batches > 0 ? epochStats.accuracySum / epochStats.batches : NaN,
        lr: optimizer.lr,
        seconds: epochSeconds,
        utterancesPerSec: epochSeconds > 0 ? epochStats.utterances / epochSeconds : 0,
      });
      tensorboard.scalars({ 'epoch/loss': epochLoss, 'epoch/accuracy': epochStats.batches > 0 ? epochStats.accuracySum / epochStats.batches : NaN }, step);
      epochsCompleted = epoch;
      batchInEpoch = 0;
      epochStats = emptyEpochStats();

      const kinds: CheckpointKind[] = ['latest'];
      let stopEarly = false;
      if (epoch % config.eval.testInterval === 0 && (validator || config.train.monitor === 'loss')) {
        let monitored = epochLoss;
        if (validator) {
          const result = await validator.run(encoder);
          lastValidation = { eer: result.eer, minDcf: result.minDcf, epoch };
          monitored = config.train.monitor === 'eer' ? result.eer : config.train.monitor === 'minDcf' ? result.minDcf : epochLoss;
          const decision = earlyStopping.update(monitored, step, epoch);
          emit({ type: 'validation', epoch, step, eer: result.eer, minDcf: result.minDcf, threshold: result.threshold, trials: result.trials, seconds: result.seconds, improved: decision.improved, monitor: config.train.monitor, bestValue: earlyStopping.bestValue });
          tensorboard.scalars({ 'val/eer': result.eer, 'val/min_dcf': result.minDcf }, step);
          if (decision.improved) kinds.push('best');
          stopEarly = decision.stop;
        } else {
          const decision = earlyStopping.update(monitored, step, epoch);
          if (decision.improved) kinds.push('best');
          stopEarly = decision.stop;
        }
      }
      if (config.train.checkpointEvery > 0 && epoch % config.train.checkpointEvery === 0) kinds.push('epoch');
      await saveCheckpoint(kinds);
      if (stopEarly) {
        reason = 'early-stop';
        break;
      }
      const limit = limitReached();
      if (limit) {
        reason = limit;
        break;
      }
    }
    if (savedAtStep !== step) await saveCheckpoint(['latest']);
  } finally {
    await loader.close();
    tensorboard.close();
  }

  emit({
    type: 'end',
    reason,
    step,
    epochsCompleted,
    runDir: run.dir,
    bestValue: earlyStopping.bestValue,
    monitor: config.train.monitor,
    seconds: (performance.now() - startedAt) / 1000,
  });
  encoder.dispose();
  loss.dispose();
  optimizer.dispose?.();
  return { runDir: run.dir, reason, step, epochsCompleted, bestValue: earlyStopping.bestValue, latestCheckpoint };
}
