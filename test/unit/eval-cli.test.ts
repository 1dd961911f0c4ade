/**
 * `voxkit eval` end to end, in process, with the demo encoder on a small Flite corpus of voices it
 * has never heard (seed 11): printed metrics against a recomputation from the scores file, the
 * cache making a second run fast, a damaged cache rebuilt, score normalisation, and bad inputs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { useBackend } from '../../src/core/backend.js';
import { verificationMetrics } from '../../src/eval/metrics.js';
import { parseTrialList, trialPaths } from '../../src/eval/trials.js';
import { synthesizeCorpus } from '../../src/synth/corpus-node.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

const WEIGHTS = join(REPO_ROOT, 'assets', 'models', 'demo-resnetse34l.model');
// Fewer, shorter crops than the full protocol (10 × 400) keep the first run short on a busy machine.
const CROPS = ['--num-eval', '4', '--eval-frames', '200'];

let dir: string;
let corpus: string;
let wav: string;
let trialList: string;
let cacheDir: string;

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string; seconds: number }> {
  let stdout = '';
  let stderr = '';
  const started = performance.now();
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr, seconds: (performance.now() - started) / 1000 };
}

function evalArgs(...extra: string[]): string[] {
  return ['eval', '-w', WEIGHTS, '--test-list', trialList, '--test-path', wav, '--cache', cacheDir, ...extra];
}

function readScores(file: string): { scores: number[]; labels: number[]; pairs: string[] } {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const fields = lines.map((line) => line.split(' '));
  return { scores: fields.map((f) => Number(f[0])), labels: fields.map((f) => Number(f[1])), pairs: fields.map((f) => `${f[2]} ${f[3]}`) };
}

before(async () => {
  await useBackend();
  dir = mkdtempSync(join(tmpdir(), 'voxkit-eval-cli-'));
  corpus = join(dir, 'corpus');
  await synthesizeCorpus({ outDir: corpus, speakers: 8, utterancesPerSpeaker: 6, seed: 11, engines: ['flite'], workers: 1 });
  wav = join(corpus, 'wav');
  trialList = join(corpus, 'veri_test.txt');
  cacheDir = join(dir, 'cache');
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('eval prints EER and minDCF that match the scores file; the cached second run is at least 5× faster', async () => {
  const scoresFile = join(dir, 'scores.txt');
  const first = await run(evalArgs(...CROPS, '--scores', scoresFile));
  assert.equal(first.code, 0, first.stderr);
  const trials = parseTrialList(readFileSync(trialList, 'utf8'));
  const written = readScores(scoresFile);
  assert.equal(written.scores.length, trials.length);
  assert.deepEqual(written.labels, trials.map((t) => t.label));
  assert.deepEqual(written.pairs, trials.map((t) => `${t.enrollPath} ${t.testPath}`));
  const expected = verificationMetrics(written.scores, written.labels, { pTarget: 0.05 });
  assert.match(first.stdout, new RegExp(`EER\\s+${expected.eer.toFixed(4)} %`));
  assert.match(first.stdout, new RegExp(`minDCF\\s+${expected.minDcf.toFixed(5)}\\s+\\(p_target 0\\.05`));
  assert.match(first.stdout, /0 embeddings from the cache/);

  const second = await run(evalArgs(...CROPS, '--json', '--p-target', '0.01'));
  assert.equal(second.code, 0, second.stderr);
  const report = JSON.parse(second.stdout);
  const files = trialPaths(trials).length;
  assert.equal(report.files, files);
  assert.equal(report.cacheHits, files, 'every recording comes from the cache');
  // Same embeddings, so the same scores: the metrics recomputed with the new p_target match exactly.
  const atOnePercent = verificationMetrics(written.scores, written.labels, { pTarget: 0.01 });
  assert.equal(report.eer, atOnePercent.eer);
  assert.equal(report.minDcf, atOnePercent.minDcf);
  assert.equal(report.threshold, atOnePercent.eerThreshold);
  assert.equal(report.pTarget, 0.01);
  assert.ok(first.seconds >= 5 * second.seconds, `first run ${first.seconds.toFixed(2)} s, second ${second.seconds.toFixed(2)} s`);
});

test('a damaged cache segment is detected and rebuilt with the same embeddings', async () => {
  const before = await run(evalArgs(...CROPS, '--json'));
  const reference = JSON.parse(before.stdout);
  assert.equal(reference.cacheHits, reference.files);
  const folder = reference.cache as string;
  const segment = readdirSync(folder).find((name) => name.endsWith('.vxe'))!;
  const path = join(folder, segment);
  // As if the disk lost the end of the file.
  writeFileSync(path, readFileSync(path).subarray(0, Math.floor(statSync(path).size * 0.6)));

  const rebuilt = await run(evalArgs(...CROPS, '--json'));
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  const report = JSON.parse(rebuilt.stdout);
  assert.match(rebuilt.stderr, /discarded a damaged segment/);
  assert.ok(report.cacheHits < report.files, 'the damaged entries were recomputed');
  assert.equal(report.eer, reference.eer);
  assert.equal(report.minDcf, reference.minDcf);

  const after = JSON.parse((await run(evalArgs(...CROPS, '--json'))).stdout);
  assert.equal(after.cacheHits, after.files, 'the rebuilt cache serves every recording again');
});

test('s-norm with a cohort from the training list changes the scores and reports the cohort', async () => {
  const raw = join(dir, 'raw.txt');
  const normed = join(dir, 'normed.txt');
  const base = ['--scoring', 'cosine', '--json'];
  assert.equal((await run(evalArgs(...base, '--scores', raw))).code, 0);
  const r = await run(evalArgs(...base, '--scores', normed, '--cohort', join(corpus, 'train_list.txt'), '--cohort-path', wav, '--norm', 's-norm'));
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const cohortSpeakers = new Set(readFileSync(join(corpus, 'train_list.txt'), 'utf8').trim().split('\n').map((l) => l.split(' ')[0])).size;
  assert.deepEqual(report.norm, { method: 's-norm', topN: cohortSpeakers, cohortSpeakers });
  const a = readScores(raw);
  const b = readScores(normed);
  assert.deepEqual(b.pairs, a.pairs);
  assert.ok(b.scores.some((s, i) => Math.abs(s - a.scores[i]) > 1e-3), 'normalised scores differ from raw cosine');
  assert.equal(report.eer, verificationMetrics(b.scores, b.labels).eer);
});

function assertOneLineError(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('bad inputs give one-line errors and exit code 2', async () => {
  const missingList = join(dir, 'nope.txt');
  assertOneLineError(await run(['eval', '-w', WEIGHTS, '--test-list', missingList, '--cache', cacheDir]), new RegExp(`${missingList}.*ENOENT`));

  const withMissingAudio = join(dir, 'missing-audio.txt');
  const lines = readFileSync(trialList, 'utf8').trim().split('\n');
  writeFileSync(withMissingAudio, `${lines[0]}\n1 id00099/gone/00001.wav ${lines[1].split(' ')[2]}\n`);
  assertOneLineError(await run(['eval', '-w', WEIGHTS, '--test-list', withMissingAudio, '--test-path', wav, '--cache', cacheDir]), /missing-audio\.txt: 1 of the \d+ trial recordings.*id00099\/gone\/00001\.wav/);

  const unlabelled = join(dir, 'unlabelled.txt');
  writeFileSync(unlabelled, `${lines[0]}\n${lines[1].split(' ').slice(1).join(' ')}\n`);
  assertOneLineError(await run(['eval', '-w', WEIGHTS, '--test-list', unlabelled, '--test-path', wav, '--cache', cacheDir]), /unlabelled\.txt.*line 2: no label/);

  assertOneLineError(await run(['eval', '-w', join(dir, 'none.model'), '--test-list', trialList, '--test-path', wav, '--cache', cacheDir]), /none\.model: file not found/);
  assertOneLineError(await run(['eval', '-w', join(dir, 'none.model'), '-m', 'ResNetSE34L', '--test-list', trialList, '--test-path', wav, '--cache', cacheDir]), /none\.model: file not found/);
  assertOneLineError(await run(evalArgs('--norm', 's-norm')), /need --cohort/);
  assert.equal((await run(evalArgs('--p-target', '1.5'))).code, 2);
});

test('--engine ort and --engine tfjs give the same scores (within 1e-4) and keep separate cache entries', async () => {
  const engineCache = join(dir, 'engine-cache');
  const runEngine = async (engine: string) => {
    const scores = join(dir, `scores-${engine}.txt`);
    const r = await run(['eval', '-w', WEIGHTS, '--test-list', trialList, '--test-path', wav, '--cache', engineCache, ...CROPS, '--json', '--scores', scores, '--engine', engine, '--threads', '1']);
    assert.equal(r.code, 0, r.stderr);
    return { report: JSON.parse(r.stdout), ...readScores(scores) };
  };
  const tfjs = await runEngine('tfjs');
  const ort = await runEngine('ort');
  assert.equal(tfjs.report.engine, 'tfjs');
  assert.equal(ort.report.engine, 'ort');
  assert.equal(ort.report.cacheHits, 0, 'tfjs embeddings are not reused for ort');
  assert.deepEqual(ort.pairs, tfjs.pairs);
  assert.deepEqual(ort.labels, tfjs.labels);
  const worst = Math.max(...ort.scores.map((s, i) => Math.abs(s - tfjs.scores[i])));
  assert.ok(worst < 1e-4, `largest score difference ${worst}`);
  const again = await runEngine('tfjs');
  assert.equal(again.report.cacheHits, again.report.files, 'each engine finds its own entries');
});
