/**
 * The trainer end to end on a tiny generated corpus: the loss goes down, the run folder holds what
 * it promises (resolved config, meta, metrics, TensorBoard events, log, PyTorch-loadable
 * checkpoints), RTVC trains with the GE2E sampler, --init-from records its parent, and the CLI
 * reports bad settings and data in one message before anything is written.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBackend, useBackend } from '../../src/core/backend.js';
import { main } from '../../src/cli/main.js';
import { loadCheckpointFile } from '../../src/io/load-checkpoint-node.js';
import { loadTrainConfig, type TrainConfigInput } from '../../src/train/config.js';
import type { TrainEvent } from '../../src/train/events.js';
import { checkTrainConfig, train } from '../../src/train/trainer.js';
import { makeTinyCorpus, type TinyCorpus } from './train-corpus.js';

let dir: string;
let corpus: TinyCorpus;

before(async () => {
  await useBackend();
  dir = mkdtempSync(join(tmpdir(), 'voxkit-train-'));
  corpus = makeTinyCorpus(join(dir, 'corpus'), { speakers: 8, utterancesPerSpeaker: 6, seconds: 0.7 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A small ResNetSE34L setup; `extra` overrides any section. */
function tinyConfig(runName: string, extra: Record<string, Record<string, unknown>> = {}): TrainConfigInput {
  return {
    data: { trainList: corpus.trainList, trainPath: corpus.wavRoot, batchSize: 4, nPerSpeaker: 2, maxFrames: 40, workers: 1, valSpeakers: 2, ...extra.data },
    model: { name: 'ResNetSE34L', options: { numFilters: [8, 8, 16, 16], layers: [1, 1, 1, 1], embeddingDim: 32 }, ...extra.model },
    loss: { name: 'softmax', ...extra.loss },
    optimizer: { lr: 0.005, ...extra.optimizer },
    train: { maxEpoch: 10, logEvery: 1, checkpointEverySteps: 0, checkpointEvery: 3, ...extra.train },
    eval: { testInterval: 3, numEval: 2, evalFrames: 40, numTrials: 40, ...extra.eval },
    out: join(dir, 'runs'),
    runName,
  } as TrainConfigInput;
}

async function runTraining(input: TrainConfigInput) {
  const config = await checkTrainConfig(loadTrainConfig({ overrides: input }));
  const events: TrainEvent[] = [];
  const result = await train(config, { onEvent: (e) => events.push(e), commandLine: ['voxkit', 'train', '(test)'] });
  return { result, events };
}

let firstRun: string;

test('a tiny encoder trains: the loss decreases and the run folder holds config, meta, metrics, TensorBoard, log and checkpoints', async () => {
  const { result, events } = await runTraining(tinyConfig('tiny'));
  firstRun = result.runDir;
  const epochs = events.filter((e): e is Extract<TrainEvent, { type: 'epoch' }> => e.type === 'epoch');
  assert.equal(epochs.length, 10);
  assert.ok(epochs[9].loss < 0.8 * epochs[0].loss, `epoch losses ${epochs.map((e) => e.loss.toFixed(3)).join(', ')}`);
  assert.equal(result.reason, 'max-epoch');
  assert.equal(result.epochsCompleted, 10);
  const validations = events.filter((e) => e.type === 'validation');
  assert.equal(validations.length, 3, 'validated every testInterval (3) epochs');
  // StepLR: lr × lrDecay every stepSize (= testInterval) epochs, stepped per epoch.
  assert.ok(Math.abs(epochs[9].lr - 0.005 * 0.95 ** 3) < 1e-12, `lr ${epochs[5].lr}`);

  const files = readdirSync(result.runDir).sort();
  assert.deepEqual(files, ['checkpoints', 'config.yaml', 'meta.json', 'metrics.jsonl', 'tensorboard', 'train.log']);
  assert.match(readFileSync(join(result.runDir, 'config.yaml'), 'utf8'), /numFilters: \[ 8, 8, 16, 16 \]/);
  const meta = JSON.parse(readFileSync(join(result.runDir, 'meta.json'), 'utf8'));
  assert.equal(meta.seed, 10);
  assert.equal(meta.backend, await defaultBackend());
  assert.deepEqual(meta.commandLine, ['voxkit', 'train', '(test)']);
  const metrics = readFileSync(join(result.runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  for (const type of ['start', 'step', 'epoch', 'validation', 'checkpoint', 'end']) assert.ok(metrics.some((m) => m.type === type), type);
  assert.ok(readdirSync(join(result.runDir, 'tensorboard')).some((f) => f.startsWith('events.out.tfevents.')));
  assert.match(readFileSync(join(result.runDir, 'train.log'), 'utf8'), /validation after epoch 3: EER/);
  const checkpoints = readdirSync(join(result.runDir, 'checkpoints')).sort();
  for (const name of ['best.model', 'checksums.json', 'epoch-0003.model', 'epoch-0009.model', 'latest.model']) assert.ok(checkpoints.includes(name), name);
  // voxceleb_trainer's new layout: __S__ encoder keys, __L__ loss keys, optimizer and scheduler state, epoch.
  const latest = await loadCheckpointFile(join(result.runDir, 'checkpoints', 'latest.model'));
  assert.equal(latest.layout, 'voxceleb-new');
  assert.equal(latest.architecture, 'ResNetSE34L');
  assert.equal(latest.meta.epoch, 10);
  assert.deepEqual([...latest.loss.keys()], ['fc.weight', 'fc.bias']);
  assert.ok(latest.hasOptimizerState);
});

test('--init-from starts a new run from a checkpoint and records its parent', async () => {
  assert.ok(firstRun, 'needs the first run');
  const parent = join(firstRun, 'checkpoints', 'best.model');
  const { result, events } = await runTraining(tinyConfig('finetune', { model: { initFrom: parent }, train: { maxEpoch: 1 } }));
  const meta = JSON.parse(readFileSync(join(result.runDir, 'meta.json'), 'utf8'));
  assert.equal(meta.parent.checkpoint, parent);
  assert.equal(meta.parent.run, 'tiny');
  assert.equal(typeof meta.parent.step, 'number');
  assert.match(meta.parent.sha256, /^[0-9a-f]{64}$/);
  const logs = events.filter((e) => e.type === 'log').map((e) => (e as { message: string }).message);
  assert.ok(logs.some((m) => m.includes('encoder weights from')));
  assert.ok(logs.some((m) => m.includes('loss head from the same checkpoint')));
});

test('--patience stops training after that many validations without improvement', async () => {
  const { result, events } = await runTraining(
    tinyConfig('patience', { train: { maxEpoch: 12, patience: 2, checkpointEvery: 0 }, eval: { testInterval: 1 }, optimizer: { lr: 1e-7 } }),
  );
  const validations = events.filter((e): e is Extract<TrainEvent, { type: 'validation' }> => e.type === 'validation');
  let best = Infinity;
  let without = 0;
  let stopEpoch = -1;
  for (const v of validations) {
    if (v.eer < best) {
      best = v.eer;
      without = 0;
    } else if (++without === 2) {
      stopEpoch = v.epoch;
      break;
    }
  }
  assert.ok(stopEpoch > 0, `EERs ${validations.map((v) => v.eer).join(', ')}`);
  assert.equal(result.reason, 'early-stop');
  assert.equal(result.epochsCompleted, stopEpoch);
  assert.equal(result.bestValue, best);
});

test('RTVC with the GE2E sampler and the RTVC GE2E loss trains (speaker-major batches, gradient policy)', async () => {
  const { result, events } = await runTraining(
    tinyConfig('rtvc', {
      data: { sampler: 'ge2e', batchSize: 4, nPerSpeaker: 3, maxFrames: 30, valSpeakers: 0 },
      model: { name: 'RTVC', options: { hiddenSize: 16, embeddingDim: 16, numLayers: 1 } },
      loss: { name: 'rtvc-ge2e' },
      optimizer: { lr: 0.01 },
      train: { maxEpoch: 2, checkpointEvery: 0 },
    }),
  );
  assert.equal(result.reason, 'max-epoch');
  const steps = events.filter((e): e is Extract<TrainEvent, { type: 'step' }> => e.type === 'step');
  assert.ok(steps.length >= 2);
  assert.ok(steps.every((s) => Number.isFinite(s.loss)));
});

test('CLI: bad settings and bad data are reported in one message (exit code 2) before anything is written', async () => {
  let stderr = '';
  const out = join(dir, 'cli-runs');
  const code = await main(
    ['train', '--model', 'NoSuchNet', '--loss', 'angleproto', '--n-per-speaker', '7', '--train-list', corpus.trainList, '--train-path', join(dir, 'nowhere'), '--batch-size', '2', '--out', out],
    { stdout: () => undefined, stderr: (t) => (stderr += t) },
  );
  assert.equal(code, 2);
  assert.match(stderr, /cannot start training: \d+ problems:/);
  assert.match(stderr, /unknown model "NoSuchNet"/);
  assert.match(stderr, /48 files missing or unreadable/);
  assert.match(stderr, /8 speakers with fewer than 7 utterances/);
  assert.ok(!existsSync(out));
});
