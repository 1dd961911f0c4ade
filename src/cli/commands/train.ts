import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { VoxkitError } from '../../errors.js';
import type { CliIO } from '../main.js';
import { finiteNumber, positiveInt } from '../options.js';
import {
  MONITOR_NAMES,
  OPTIMIZER_NAMES,
  SAMPLER_NAMES,
  SCHEDULER_NAMES,
  loadTrainConfig,
  parseConfigText,
  setPath,
  type TrainConfigInput,
} from '../../train/config.js';
import { ProgressReporter } from '../../train/progress.js';
import { terminalProgressOutput } from '../../train/progress-node.js';
import { checkTrainConfig, resumeConfig, train } from '../../train/trainer.js';

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

/** `key=value` with a JSON value (numbers, arrays, booleans) or a bare string. */
function modelOption(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected key=value, e.g. numFilters=[4,8,8,8]');
  const raw = value.slice(eq + 1);
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // A bare word such as SAP.
  }
  return { ...previous, [value.slice(0, eq)]: parsed };
}

/**
 * Each flag and the config path it sets (voxceleb_trainer's names where they exist, in kebab
 * case). Flags not given leave the file's or the default value.
 */
const FLAG_PATHS: ReadonlyArray<[flag: string, path: string]> = [
  ['model', 'model.name'],
  ['encoder', 'model.options.encoderType'],
  ['embeddingDim', 'model.options.embeddingDim'],
  ['nOut', 'model.options.embeddingDim'],
  ['nMels', 'model.options.numMels'],
  ['initFrom', 'model.initFrom'],
  ['loss', 'loss.name'],
  ['trainfunc', 'loss.name'],
  ['margin', 'loss.margin'],
  ['scale', 'loss.scale'],
  ['hardRank', 'loss.hardRank'],
  ['hardProb', 'loss.hardProb'],
  ['easyMargin', 'loss.easyMargin'],
  ['trainList', 'data.trainList'],
  ['trainPath', 'data.trainPath'],
  ['testList', 'data.testList'],
  ['testPath', 'data.testPath'],
  ['valList', 'data.valList'],
  ['valSpeakers', 'data.valSpeakers'],
  ['nPerSpeaker', 'data.nPerSpeaker'],
  ['batchSize', 'data.batchSize'],
  ['maxFrames', 'data.maxFrames'],
  ['maxSegPerSpk', 'data.maxSegPerSpk'],
  ['workers', 'data.workers'],
  ['featureCache', 'data.featureCache'],
  ['sampler', 'data.sampler'],
  ['optimizer', 'optimizer.name'],
  ['lr', 'optimizer.lr'],
  ['weightDecay', 'optimizer.weightDecay'],
  ['momentum', 'optimizer.momentum'],
  ['scheduler', 'scheduler.name'],
  ['lrDecay', 'scheduler.lrDecay'],
  ['warmup', 'scheduler.warmup'],
  ['minLr', 'scheduler.minLr'],
  ['maxEpoch', 'train.maxEpoch'],
  ['maxSteps', 'train.maxSteps'],
  ['maxMinutes', 'train.maxMinutes'],
  ['seed', 'train.seed'],
  ['clipNorm', 'train.clipNorm'],
  ['checkpointEvery', 'train.checkpointEvery'],
  ['checkpointEverySteps', 'train.checkpointEverySteps'],
  ['patience', 'train.patience'],
  ['monitor', 'train.monitor'],
  ['logEvery', 'train.logEvery'],
  ['backend', 'train.backend'],
  ['testInterval', 'eval.testInterval'],
  ['evalFrames', 'eval.evalFrames'],
  ['numEval', 'eval.numEval'],
  ['numTrials', 'eval.numTrials'],
  ['out', 'out'],
  ['runName', 'runName'],
  ['augment', 'augment.enabled'],
  ['musan', 'augment.musan'],
  ['rirs', 'augment.rirs'],
  ['speedPerturb', 'augment.speedPerturb'],
  ['specAugment', 'augment.specAugment'],
];

/** `--speed-perturb` alone (0.9, 1.0, 1.1) or with its factors, e.g. 0.95,1,1.05. */
function speedFactors(value: string): number[] {
  const factors = value.split(',').map((v) => Number(v.trim()));
  if (factors.length === 0 || factors.some((f) => !Number.isFinite(f) || f < 0.5 || f > 2)) {
    throw new InvalidArgumentError('expected comma-separated speed factors between 0.5 and 2, e.g. 0.9,1,1.1');
  }
  return factors;
}

type TrainFlags = Record<string, unknown> & { config?: string; resume?: string; modelOption?: Record<string, unknown>; plain?: boolean };

/** Nested config overrides from the flags that were given. */
export function overridesFromFlags(flags: TrainFlags): TrainConfigInput {
  const out: Record<string, unknown> = {};
  for (const [flag, path] of FLAG_PATHS) if (flags[flag] !== undefined) setPath(out, path, flags[flag]);
  for (const [key, value] of Object.entries(flags.modelOption ?? {})) setPath(out, `model.options.${key}`, value);
  return out as TrainConfigInput;
}

export function registerTrain(program: Command, io: CliIO): void {
  program
    .command('train')
    .description('train a speaker encoder (voxceleb_trainer-style); writes a run folder with config, checkpoints, metrics, TensorBoard events and a log')
    .option('--config <file>', 'YAML/JSON config (voxkit sections or voxceleb_trainer keys); flags override it')
    .option('--resume <run>', 'continue an interrupted run from its last intact checkpoint')
    .option('--init-from <checkpoint>', 'start from these weights (voxkit or PyTorch checkpoint); recorded as the run parent')
    .option('--model <name>', 'encoder architecture (ResNetSE34L, ResNetSE34V2, VGGVox, RawNet3, RTVC)')
    .option('--encoder <type>', 'pooling / encoder_type (SAP, ASP, ECA)')
    .option('--embedding-dim <n>', 'embedding size (nOut)', positiveInt)
    .option('--n-out <n>', 'alias of --embedding-dim', positiveInt)
    .option('--n-mels <n>', 'mel bands of the front end', positiveInt)
    .option('--model-option <key=value>', 'any architecture option, e.g. numFilters=[4,8,8,8] (repeatable)', modelOption)
    .option('--loss <name>', 'loss (softmax, amsoftmax, aamsoftmax, angleproto, ge2e, proto, softmaxproto, triplet, …)')
    .option('--trainfunc <name>', 'alias of --loss (voxceleb_trainer)')
    .option('--margin <m>', 'margin of margin-based losses', finiteNumber)
    .option('--scale <s>', 'scale of margin-based softmax losses', finiteNumber)
    .option('--hard-rank <n>', 'triplet hard negative rank', (v) => Math.trunc(finiteNumber(v)))
    .option('--hard-prob <p>', 'triplet hard negative probability', finiteNumber)
    .option('--easy-margin', 'aamsoftmax easy margin')
    .option('--train-list <file>', 'train list (speaker relative/path.wav per line)')
    .option('--train-path <dir>', 'folder the train list paths start from (or a folder per speaker)')
    .option('--test-list <file>', 'validation trial list (label path1 path2)')
    .option('--test-path <dir>', 'folder the trial list paths start from')
    .option('--val-list <file>', 'held-out speakers (speaker path per line); trials are generated')
    .option('--val-speakers <n>', 'hold out this many training speakers for validation', nonNegativeInt)
    .option('--n-per-speaker <n>', 'utterances per speaker in a batch', positiveInt)
    .option('--batch-size <n>', 'speakers per batch', positiveInt)
    .option('--max-frames <n>', 'training crop length in frames', positiveInt)
    .option('--max-seg-per-spk <n>', 'most utterances of a speaker per epoch', positiveInt)
    .option('--workers <n>', 'worker threads for audio loading and features (0 = main thread)', nonNegativeInt)
    .option('--feature-cache <dir>', 'read the training audio from this feature cache (voxkit cache build): the same batches, no decoding')
    .addOption(new Option('--sampler <name>', 'batch sampler').choices([...SAMPLER_NAMES]))
    .addOption(new Option('--optimizer <name>', 'optimizer').choices([...OPTIMIZER_NAMES]))
    .option('--lr <x>', 'learning rate', finiteNumber)
    .option('--weight-decay <x>', 'weight decay', finiteNumber)
    .option('--momentum <x>', 'SGD momentum', finiteNumber)
    .addOption(new Option('--scheduler <name>', 'learning-rate schedule').choices([...SCHEDULER_NAMES]))
    .option('--lr-decay <x>', 'StepLR decay factor', finiteNumber)
    .option('--warmup <n>', 'warm-up length of warmup-cosine', nonNegativeInt)
    .option('--min-lr <x>', 'final learning rate of warmup-cosine', finiteNumber)
    .option('--test-interval <n>', 'validate (and decay the StepLR rate) every n epochs', positiveInt)
    .option('--max-epoch <n>', 'number of epochs', positiveInt)
    .option('--max-steps <n>', 'stop after n optimizer steps (0 = no limit)', nonNegativeInt)
    .option('--max-minutes <m>', 'stop at the first step boundary after m minutes of this session (0 = no limit)', finiteNumber)
    .option('--seed <n>', 'random seed', nonNegativeInt)
    .option('--clip-norm <x>', 'clip the global gradient norm (0 = off)', finiteNumber)
    .option('--checkpoint-every <n>', 'keep an epoch-NNNN checkpoint every n epochs (0 = never)', nonNegativeInt)
    .option('--checkpoint-every-steps <n>', 'write the latest checkpoint every n steps (0 = epoch ends only)', nonNegativeInt)
    .option('--patience <n>', 'stop after n validations without improvement (0 = never)', nonNegativeInt)
    .addOption(new Option('--monitor <metric>', 'metric for best checkpoint and patience').choices([...MONITOR_NAMES]))
    .option('--eval-frames <n>', 'frames per evaluation crop (0 = whole utterance)', nonNegativeInt)
    .option('--num-eval <n>', 'evaluation crops per recording', nonNegativeInt)
    .option('--num-trials <n>', 'trials generated for validation', positiveInt)
    .option('--log-every <n>', 'log every n steps', positiveInt)
    .option('--out <dir>', 'folder of run folders (save_path)')
    .option('--run-name <name>', 'name of the run folder')
    .option('--augment', 'augment each training crop with one of none/reverb/music/babble/noise (voxceleb_trainer); needs --musan and/or --rirs')
    .option('--musan <dir>', 'musan_split folder written by voxkit prepare musan')
    .option('--rirs <path>', 'rirs.txt written by voxkit prepare rirs, or an RIRS_NOISES folder (small and medium rooms)')
    .option('--speed-perturb [factors]', 'play each crop at a speed drawn from 0.9,1,1.1 (or the factors given); the speaker label is kept', speedFactors)
    .option('--spec-augment', 'SpecAugment time and frequency masks on log-mel features (WeSpeaker defaults)')
    .option('--plain', 'plain log lines even on a terminal')
    .action(async (flags: TrainFlags, cmd: Command) => {
      const { backend } = cmd.optsWithGlobals<{ backend?: string }>();
      const withBackend: TrainFlags = { ...flags, backend: backend ?? flags.backend };
      const overrides = overridesFromFlags(withBackend);
      let config;
      let warnings: string[] = [];
      if (flags.resume) {
        if (flags.config) throw new VoxkitError('E_USAGE', '--resume uses the run folder\'s config.yaml; do not pass --config');
        config = resumeConfig(flags.resume, overrides);
      } else {
        let file: unknown;
        if (flags.config) {
          const text = await readFile(flags.config, 'utf8').catch((cause: unknown) => {
            throw new VoxkitError('E_IO', (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'config file not found' : 'cannot read the config file', {
              file: flags.config,
              cause,
            });
          });
          file = parseConfigText(text, flags.config);
        }
        const loaded = loadTrainConfig({ file, fileName: flags.config, overrides });
        warnings = loaded.warnings;
        config = await checkTrainConfig(loaded, flags.config);
      }
      for (const w of warnings) io.stderr(`voxkit: warning: ${w}\n`);
      // The bar needs the real terminal; otherwise (CI, pipes, tests) plain lines go through io.
      const useBar = !flags.plain && Boolean(process.stderr.isTTY);
      const reporter = new ProgressReporter(terminalProgressOutput(useBar ? process.stderr : { isTTY: false, write: (t: string) => io.stderr(t) }));
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const result = await train(config, {
          resume: flags.resume,
          onEvent: (e) => reporter.handle(e),
          signal: controller.signal,
          commandLine: process.argv.slice(1),
        });
        io.stdout(`${result.runDir}\n`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
