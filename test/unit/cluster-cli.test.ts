/**
 * `voxkit cluster` end to end on voices the demo encoder never heard: a Flite corpus of seed 11
 * (the demo model was trained on seed 1), five speakers with five utterances each, clustered with
 * assets/models/demo-resnetse34l.model and scored against the true speakers.
 *
 * Measured on this corpus (2026-11-22): pairwise EER of the demo model 14 %; AHC with K = 5 gives
 * ARI 0.745 and purity 0.84, and 20 of 25 files pass the default confidence with purity 0.85.
 * The bounds below leave room for numeric drift, not for a broken pipeline (random labels: ARI ≈ 0).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { synthesizeCorpus } from '../../src/synth/corpus-node.js';
import { parseTrainList } from '../../src/data/train-list.js';
import { adjustedRandIndex, clusterPurity } from '../../src/cluster/metrics.js';
import type { CollectionReport } from '../../src/cluster/collection-node.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

const WEIGHTS = join(REPO_ROOT, 'assets/models/demo-resnetse34l.model');
let dir: string;
let corpus: string;

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

/** The speaker of `idNNNNN/SESSION/NNNNN.wav` (paths relative to the corpus's wav/ folder). */
const speakerOf = (relativePath: string) => relativePath.split('/')[0];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'voxkit-cluster-'));
  corpus = join(dir, 'corpus');
  await synthesizeCorpus({ outDir: corpus, speakers: 5, utterancesPerSpeaker: 5, seed: 11, engines: ['flite'], workers: 2 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('clusters unseen speakers into groups, a train list of the confident ones and an uncertain list; bad and non-audio files are reported', async () => {
  const wav = join(corpus, 'wav');
  writeFileSync(join(wav, 'notes.txt'), 'not audio\n');
  writeFileSync(join(wav, 'id00001', 'broken.wav'), 'RIFF but not really');
  const out = join(dir, 'groups');
  const { code, stdout, stderr } = await run(['cluster', '-w', WEIGHTS, '--num-speakers', '5', '-o', out, '--json', wav]);
  // One file could not be embedded: reported, the rest clustered, exit 2.
  assert.equal(code, 2, stderr);
  assert.match(stderr, /broken\.wav/);
  assert.match(stderr, /notes\.txt: skipped/);
  const report = JSON.parse(stdout) as CollectionReport;
  assert.deepEqual(report.failed.map((f) => f.path), [join(wav, 'id00001', 'broken.wav')]);
  assert.deepEqual(report.notAudio.map((f) => f.path), [join(wav, 'notes.txt')]);
  assert.equal(report.embedded, 25);
  assert.equal(report.numClusters, 5);

  const members = report.clusters.flatMap((c, index) => c.members.map((m) => ({ ...m, index })));
  const predicted = members.map((m) => m.index);
  const truth = members.map((m) => speakerOf(m.relativePath));
  const ari = adjustedRandIndex(predicted, truth);
  const purity = clusterPurity(predicted, truth);
  assert.ok(ari >= 0.6, `ARI ${ari}`);
  assert.ok(purity >= 0.8, `purity ${purity}`);
  const confident = members.filter((m) => m.confident);
  assert.equal(confident.length, report.confident);
  assert.ok(confident.length >= 15, `${confident.length} confident`);
  assert.ok(clusterPurity(confident.map((m) => m.index), confident.map((m) => speakerOf(m.relativePath))) >= 0.8);
  // Cluster sizes are in descending order and members carry their similarities.
  for (let i = 1; i < report.clusters.length; i++) assert.ok(report.clusters[i].size <= report.clusters[i - 1].size);
  for (const m of members) assert.ok(m.confidence >= 0 && m.confidence <= 1 && m.centroidSimilarity > 0);

  // groups.txt is a train list of the confident members that `voxkit train` can read.
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'groups.json'), 'utf8')), report);
  const list = parseTrainList(readFileSync(join(out, 'groups.txt'), 'utf8'), { trainPath: report.root });
  assert.equal(list.length, report.confident);
  for (const u of list) {
    assert.match(u.speaker, /^cluster_\d{4}$/);
    assert.ok(existsSync(u.path), u.path);
  }
  const uncertain = readFileSync(join(out, 'uncertain.txt'), 'utf8').trim().split('\n').filter(Boolean);
  assert.equal(uncertain.length, report.uncertain);
  assert.equal(report.confident + report.uncertain, 25);
});

test('a single speaker folder with the default AHC: summary, exit 0, outputs next to nothing half-written', async () => {
  const out = join(dir, 'one');
  const { code, stdout, stderr } = await run(['cluster', '-w', WEIGHTS, '-o', out, join(corpus, 'wav', 'id00003')]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^5 file\(s\) → \d+ cluster\(s\) by ahc \(threshold 0\.5 \(default, not calibrated for this model\)\)/);
  assert.match(stdout, /voxkit train --train-list/);
  const report = JSON.parse(readFileSync(join(out, 'groups.json'), 'utf8')) as CollectionReport;
  assert.equal(report.embedded, 5);
  assert.equal(report.root, join(corpus, 'wav', 'id00003'));
});

test('bad inputs: one line naming the problem, exit 2, before the model is loaded', async () => {
  const out = join(dir, 'bad');
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  writeFileSync(join(empty, 'readme.md'), '# nothing here\n');
  const cases: Array<{ args: string[]; message: RegExp }> = [
    { args: ['-w', WEIGHTS, '-o', out, join(dir, 'missing')], message: /missing: no such file or folder/ },
    { args: ['-w', WEIGHTS, '-o', out, empty], message: /no audio files found .*1 other file/ },
    { args: ['-w', join(dir, 'nope.model'), '-o', out, join(corpus, 'wav')], message: /nope\.model/ },
    { args: ['-w', WEIGHTS, '-o', out, '--min-confidence', '2', join(corpus, 'wav')], message: /between 0 and 1/ },
    { args: ['-w', WEIGHTS, '-o', out, '--method', 'kmeans', join(corpus, 'wav')], message: /kmeans/ },
    { args: ['-w', WEIGHTS, '-o', out, '--method', 'spectral', '--threshold', '0.7', join(corpus, 'wav')], message: /--threshold applies to --method ahc/ },
    { args: ['-w', WEIGHTS, '-o', out, '--min-speakers', '4', '--max-speakers', '2', join(corpus, 'wav')], message: /--min-speakers/ },
    { args: ['-w', WEIGHTS, join(corpus, 'wav')], message: /--out/ },
  ];
  for (const { args, message } of cases) {
    const { code, stderr } = await run(['cluster', ...args]);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, message);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  }
  assert.equal(existsSync(out), false, 'nothing written for bad inputs');
});

test('--engine ort and --engine tfjs give the same clusters and confident members', async () => {
  const inputs = ['id00002', 'id00003', 'id00004'].map((id) => join(corpus, 'wav', id));
  const clustered = async (engine: string) => {
    const { code, stdout, stderr } = await run(['cluster', '-w', WEIGHTS, '--engine', engine, '--threads', '1', '-o', join(dir, `engine-${engine}`), '--json', ...inputs]);
    assert.equal(code, 0, stderr);
    return JSON.parse(stdout) as CollectionReport;
  };
  const ort = await clustered('ort');
  const tfjs = await clustered('tfjs');
  assert.equal(ort.embedded, 15);
  assert.ok(ort.numClusters >= 2, `${ort.numClusters} cluster(s)`);
  assert.equal(ort.numClusters, tfjs.numClusters);
  const groups = (r: CollectionReport) => r.clusters.map((c) => c.members.map((m) => `${m.relativePath} ${m.confident}`));
  assert.deepEqual(groups(ort), groups(tfjs));
  ort.clusters.forEach((c, i) => c.members.forEach((m, j) => assert.ok(Math.abs(m.centroidSimilarity - tfjs.clusters[i].members[j].centroidSimilarity) < 1e-4)));
  assert.equal(readFileSync(join(dir, 'engine-ort', 'groups.txt'), 'utf8'), readFileSync(join(dir, 'engine-tfjs', 'groups.txt'), 'utf8'));
});
