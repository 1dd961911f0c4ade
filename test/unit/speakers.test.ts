/**
 * Enroll and identify with the demo encoder: identification of synthetic speakers new to it, and
 * the CLI's enroll/identify/speakers commands with their one-line errors. The database's crash
 * safety, concurrency and the scoring maths are in speakers-database.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { useBackend } from '../../src/core/backend.js';
import { VoxkitError } from '../../src/errors.js';
import { loadEncoder, type LoadedEncoder } from '../../src/api/load-encoder-node.js';
import { writeTorchCheckpoint } from '../../src/io/torch-writer.js';
import { ResNetSE34L } from '../../src/models/resnet-se34l.js';
import { synthesizeCorpus } from '../../src/synth/corpus-node.js';
import { SpeakerDatabase } from '../../src/speakers/database-node.js';
import { enrollFiles, identifyFiles } from '../../src/speakers/enroll-node.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

const DEMO_MODEL = join(REPO_ROOT, 'assets/models/demo-resnetse34l.model');

let dir: string;
let corpusWav: string;
/** Corpus utterance paths (absolute) by speaker id, in corpus order. */
let bySpeaker: Map<string, string[]>;
let loaded: LoadedEncoder;

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

function assertOneLineError(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^voxkit: /);
  assert.match(lines[0], pattern);
}

before(async () => {
  await useBackend();
  dir = mkdtempSync(join(tmpdir(), 'voxkit-speakers-'));
  const corpus = join(dir, 'corpus');
  // Seed 11: voices the demo encoder never heard (it was trained on seed 1).
  await synthesizeCorpus({ outDir: corpus, speakers: 8, utterancesPerSpeaker: 6, seed: 11, engines: ['flite'], workers: 2 });
  corpusWav = join(corpus, 'wav');
  bySpeaker = new Map();
  for (const line of readFileSync(join(corpus, 'utterances.jsonl'), 'utf8').trim().split('\n')) {
    const u = JSON.parse(line) as { path: string; speaker: string };
    if (!bySpeaker.has(u.speaker)) bySpeaker.set(u.speaker, []);
    bySpeaker.get(u.speaker)!.push(join(corpusWav, u.path));
  }
  loaded = await loadEncoder(DEMO_MODEL);
});

after(() => {
  loaded?.encoder.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Measured (seed-11 corpus, default channels, demo encoder whose pairwise EER on these voices is
 * 21.7 %): top-1 14/15, open-set correct 11/15, unknown rejected 12/18 at the calibrated threshold.
 * Chance: 1/5 for top-1, 1/6 for the open-set decision.
 */
test('identify: enrolled synthetic speakers are found well above chance, unenrolled ones mostly come back unknown', async () => {
  const db = join(dir, 'ident.voxdb');
  const speakers = [...bySpeaker.keys()].sort();
  const enrolled = speakers.slice(0, 5);
  const unenrolled = speakers.slice(5);
  for (const s of enrolled) await enrollFiles(db, s, bySpeaker.get(s)!.slice(0, 3), { weights: loaded });
  // The threshold comes from the enrolled recordings only (leave-one-out EER point).
  const handle = SpeakerDatabase.open(db);
  const calibration = handle.calibrate();
  assert.equal(handle.speakers().length, 5);
  await handle.close();

  const known = enrolled.flatMap((s) => bySpeaker.get(s)!.slice(3).map((file) => ({ file, truth: s })));
  const unknown = unenrolled.flatMap((s) => bySpeaker.get(s)!);
  const knownResults = await identifyFiles(db, known.map((k) => k.file), { weights: loaded });
  const unknownResults = await identifyFiles(db, unknown, { weights: loaded });
  for (const r of [...knownResults, ...unknownResults]) {
    assert.equal(r.thresholdSource, 'calibrated');
    assert.equal(r.threshold, calibration.threshold);
    assert.equal(r.ranked.length, 5);
  }
  const top1 = knownResults.filter((r, i) => r.ranked[0].name === known[i].truth).length / known.length;
  const openSet = knownResults.filter((r, i) => r.decision === known[i].truth).length / known.length;
  const rejected = unknownResults.filter((r) => r.decision === null).length / unknown.length;
  assert.ok(top1 >= 0.6, `top-1 accuracy ${top1} (chance 0.2)`);
  assert.ok(openSet >= 0.5, `open-set accuracy ${openSet} (chance 1/6)`);
  assert.ok(rejected > 0.5, `unenrolled speakers rejected ${rejected}`);

  // The CLI gives the same answers.
  const sample = [known[0].file, known[1].file, unknown[0], unknown[1]];
  const cli = await run(['identify', '--json', '--top', '5', '--db', db, '-w', DEMO_MODEL, ...sample]);
  assert.equal(cli.code, 0, cli.stderr);
  const lines = cli.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const library = [knownResults[0], knownResults[1], unknownResults[0], unknownResults[1]];
  lines.forEach((line, i) => {
    assert.equal(line.file, sample[i]);
    assert.equal(line.speaker, library[i].decision);
    assert.ok(Math.abs(line.score - library[i].ranked[0].score) < 1e-6);
  });
});

test('CLI: enroll, list, identify, threshold, rename, remove', async () => {
  const db = join(dir, 'cli.voxdb');
  const [s1, s2, s3] = [...bySpeaker.keys()].sort();
  const a = bySpeaker.get(s1)!;
  const b = bySpeaker.get(s2)!;
  let r = await run(['enroll', '--db', db, '--speaker', 'alice', '-w', DEMO_MODEL, a[0], a[1]]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /enrolled 2 recording\(s\) of "alice" \(new speaker\)/);
  assert.equal((await run(['enroll', '--db', db, '--speaker', 'bob', '-w', DEMO_MODEL, b[0], b[1]])).code, 0);
  r = await run(['enroll', '--db', db, '--speaker', 'alice', '-w', DEMO_MODEL, a[2]]);
  assert.match(r.stdout, /"alice" \(3 recordings in all\)/);

  r = await run(['speakers', '--db', db, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const listing = JSON.parse(r.stdout);
  assert.deepEqual(listing.speakers.map((s: { name: string }) => s.name), ['alice', 'bob']);
  assert.equal(listing.speakers[0].embeddings, 3);
  assert.deepEqual(listing.speakers[0].sources, a.slice(0, 3));
  assert.equal(listing.model.architecture, 'ResNetSE34L');
  assert.equal(listing.model.embeddingDim, 128);
  assert.equal(listing.threshold, null);
  r = await run(['speakers', '--db', db]);
  assert.match(r.stdout, /2 speaker\(s\)/);
  assert.match(r.stdout, /^alice\s+3\s/m);

  // No stored threshold: the default, with a note.
  r = await run(['identify', '--db', db, '-w', DEMO_MODEL, a[3], bySpeaker.get(s3)![0]]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /not calibrated/);
  const identifyJson = async (...extra: string[]) => {
    const out = await run(['identify', '--json', '--db', db, '-w', DEMO_MODEL, ...extra, a[3]]);
    assert.equal(out.code, 0, out.stderr);
    return JSON.parse(out.stdout);
  };
  assert.equal((await identifyJson()).thresholdSource, 'default');
  // Cosines are ≤ 1 and ≥ −1: these thresholds force unknown and a name.
  assert.equal((await identifyJson('--threshold', '1.5')).speaker, null);
  const forced = await identifyJson('--threshold', '-1.5');
  assert.equal(forced.speaker, forced.ranked[0].name);
  assert.equal(forced.ranked.length, 2);

  assert.equal((await run(['speakers', '--db', db, '--set-threshold', '0.25'])).code, 0);
  let j = await identifyJson();
  assert.equal(j.threshold, 0.25);
  assert.equal(j.thresholdSource, 'set');
  r = await run(['speakers', '--db', db, '--calibrate']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /threshold calibrated to/);
  j = await identifyJson();
  assert.equal(j.thresholdSource, 'calibrated');

  assert.equal((await run(['speakers', '--db', db, '--rename', 'alice', 'carol'])).code, 0);
  assertOneLineError(await run(['speakers', '--db', db, '--rename', 'bob', 'carol']), /speaker "carol" already exists/);
  assertOneLineError(await run(['speakers', '--db', db, '--rename', 'nobody', 'x']), /no speaker named "nobody" \(enrolled: bob, carol\)/);
  assertOneLineError(await run(['speakers', '--db', db, '--rename', 'bob']), /--rename takes two names/);
  assert.equal((await run(['speakers', '--db', db, '--remove', 'bob'])).code, 0);
  const final = JSON.parse((await run(['speakers', '--db', db, '--json'])).stdout);
  assert.deepEqual(final.speakers.map((s: { name: string }) => s.name), ['carol']);
  assert.equal(final.speakers[0].embeddings, 3);
  assertOneLineError(await run(['speakers', '--db', db, '--remove', 'bob']), /no speaker named "bob"/);
});

test('CLI: another model, bad names, missing files and databases are one-line errors with exit code 2', async () => {
  const db = join(dir, 'errors.voxdb');
  const files = bySpeaker.get([...bySpeaker.keys()].sort()[0])!;
  assert.equal((await run(['enroll', '--db', db, '--speaker', 'alice', '-w', DEMO_MODEL, files[0]])).code, 0);

  // A different (random) ResNetSE34L: the database refuses its embeddings, naming both models.
  const other = new ResNetSE34L();
  const otherWeights = join(dir, 'other.model');
  writeFileSync(otherWeights, writeTorchCheckpoint(new Map([...other.stateDict()].map(([k, v]) => [`__S__.${k}`, v]))));
  other.dispose();
  const mismatch = /holds embeddings of ResNetSE34L \(128-d, weights sha256 [0-9a-f]{12}…\), not of ResNetSE34L \(512-d/;
  assertOneLineError(await run(['enroll', '--db', db, '--speaker', 'bob', '-w', otherWeights, files[1]]), mismatch);
  assertOneLineError(await run(['identify', '--db', db, '-w', otherWeights, files[1]]), mismatch);
  assert.throws(
    () => {
      const handle = SpeakerDatabase.open(db);
      try {
        handle.enroll('bob', [new Float32Array(128)], ['x'], { architecture: 'ResNetSE34L', checkpointSha256: 'd'.repeat(64), embeddingDim: 128 });
      } finally {
        void handle.close();
      }
    },
    (e: unknown) => e instanceof VoxkitError && e.code === 'E_USAGE',
  );

  assertOneLineError(await run(['enroll', '--db', db, '--speaker', '', '-w', DEMO_MODEL, files[1]]), /must not be empty/);
  assertOneLineError(await run(['enroll', '--db', db, '--speaker', 'tab\there', '-w', DEMO_MODEL, files[1]]), /control characters/);
  assertOneLineError(await run(['enroll', '--db', db, '--speaker', ' bob', '-w', DEMO_MODEL, files[1]]), /leading or trailing spaces/);

  // A bad file aborts the whole enrollment before the database is created.
  const fresh = join(dir, 'never.voxdb');
  assertOneLineError(await run(['enroll', '--db', fresh, '--speaker', 'x', '-w', DEMO_MODEL, files[0], join(dir, 'missing.wav')]), /missing\.wav: no such file/);
  assert.equal(existsSync(fresh), false);
  assertOneLineError(await run(['identify', '--db', fresh, '-w', DEMO_MODEL, files[0]]), /never\.voxdb: no speaker database here/);
  assertOneLineError(await run(['speakers', '--db', fresh]), /no speaker database here/);
  assertOneLineError(await run(['speakers', '--db', files[0]]), /not a speaker database/);
  // Commander's own parse errors add its usual '(run with --help for usage)' line.
  const notANumber = await run(['speakers', '--db', db, '--set-threshold', 'abc']);
  assert.equal(notANumber.code, 2);
  assert.match(notANumber.stderr, /'--set-threshold <t>' argument 'abc' is invalid\. expected a number/);
  assertOneLineError(await run(['speakers', '--db', db, '--remove', 'alice', '--calibrate']), /one of --rename, --remove, --set-threshold, --calibrate/);
  // One enrolled speaker cannot calibrate an open-set threshold.
  assertOneLineError(await run(['speakers', '--db', db, '--calibrate']), /at least 2 enrolled speakers/);

  const listing = JSON.parse((await run(['speakers', '--db', db, '--json'])).stdout);
  assert.deepEqual(listing.speakers.map((s: { name: string; embeddings: number }) => [s.name, s.embeddings]), [['alice', 1]]);
});

test('CLI: enroll and identify with --engine ort and --engine tfjs give the same decisions and scores (within 1e-4)', async () => {
  const speakers = [...bySpeaker.keys()].sort().slice(0, 3);
  const queries = [...speakers.map((s) => bySpeaker.get(s)![2]), bySpeaker.get([...bySpeaker.keys()].sort()[6])![0]];
  const identified = async (engine: string) => {
    const db = join(dir, `engine-${engine}.voxdb`);
    for (const s of speakers) {
      const r = await run(['enroll', '--db', db, '--speaker', s, '-w', DEMO_MODEL, '--engine', engine, '--threads', '1', ...bySpeaker.get(s)!.slice(0, 2)]);
      assert.equal(r.code, 0, r.stderr);
    }
    const r = await run(['identify', '--json', '--db', db, '-w', DEMO_MODEL, '--engine', engine, '--threads', '1', '--threshold', '0.3', ...queries]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; speaker: string | null; ranked: Array<{ name: string; score: number }> });
  };
  const ort = await identified('ort');
  const tfjs = await identified('tfjs');
  assert.equal(ort.length, queries.length);
  ort.forEach((o, i) => {
    const t = tfjs[i];
    assert.equal(o.file, t.file);
    assert.equal(o.speaker, t.speaker);
    assert.deepEqual(o.ranked.map((s) => s.name), t.ranked.map((s) => s.name));
    o.ranked.forEach((s, k) => assert.ok(Math.abs(s.score - t.ranked[k].score) < 1e-4, `${o.file}: ${s.score} vs ${t.ranked[k].score}`));
  });
});
