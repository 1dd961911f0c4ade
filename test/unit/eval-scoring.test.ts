/**
 * Scoring maths of src/eval/scoring.ts against straightforward float64 re-computations on random
 * embeddings: crop-distance and cosine scores, pooling, cohort statistics, AS-norm and S-norm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '../../src/core/random.js';
import {
  cohortScores,
  negativeMeanDistance,
  normalizeScores,
  pooledEmbedding,
  scorableRecording,
  scorePair,
  speakerCohort,
  topScoreStats,
  type ScorableRecording,
} from '../../src/eval/scoring.js';

const DIM = 24;

function randomRows(rng: Random, count: number, dim = DIM): Float32Array[] {
  return Array.from({ length: count }, () => Float32Array.from({ length: dim }, () => rng.normal() * (0.5 + rng.uniform())));
}

/** float64 reference helpers (numbers, not typed arrays, so nothing rounds to float32). */
const toF64 = (v: Float32Array): number[] => Array.from(v);
const norm64 = (v: number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const unit64 = (v: number[]): number[] => {
  const n = norm64(v);
  return v.map((x) => x / n);
};
const mean64 = (rows: number[][]): number[] => rows[0].map((_, i) => rows.reduce((s, r) => s + r[i], 0) / rows.length);
const dot64 = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i], 0);
const cosine64 = (a: number[], b: number[]): number => dot64(a, b) / (norm64(a) * norm64(b));

function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

test('crop score is minus the mean Euclidean distance over all pairs of unit-length crops', () => {
  const rng = new Random(3);
  for (let round = 0; round < 5; round++) {
    const a = randomRows(rng, 1 + rng.int(10));
    const b = randomRows(rng, 1 + rng.int(10));
    const ua = a.map((r) => unit64(toF64(r)));
    const ub = b.map((r) => unit64(toF64(r)));
    let sum = 0;
    for (const x of ua) for (const y of ub) sum += norm64(x.map((v, k) => v - y[k]));
    const expected = -sum / (ua.length * ub.length);
    const score = scorePair('crops', scorableRecording(a), scorableRecording(b));
    // The implementation normalises in float32, as torch does.
    assertClose(score, expected, 1e-6, 'crop score');
    assert.ok(score <= 0 && score >= -2, 'distances between unit vectors lie in [0, 2]');
    // Without test_normalize the raw rows are compared.
    let raw = 0;
    for (const x of a) for (const y of b) raw += norm64(toF64(x).map((v, k) => v - y[k]));
    assertClose(negativeMeanDistance(a, b), -raw / (a.length * b.length), 1e-9, 'raw distance');
    assertClose(scorePair('crops', scorableRecording(a, false), scorableRecording(b, false)), -raw / (a.length * b.length), 1e-9, 'unnormalised');
  }
});

test('cosine score compares the unit-length means of the unit-length crops', () => {
  const rng = new Random(4);
  for (let round = 0; round < 5; round++) {
    const a = randomRows(rng, 1 + rng.int(6));
    const b = randomRows(rng, 1 + rng.int(6));
    const pa = mean64(a.map((r) => unit64(toF64(r))));
    const pb = mean64(b.map((r) => unit64(toF64(r))));
    assertClose(scorePair('cosine', scorableRecording(a), scorableRecording(b)), cosine64(pa, pb), 1e-6, 'cosine');
    const pooled = pooledEmbedding(a);
    assertClose(norm64(toF64(pooled)), 1, 1e-6, 'pooled norm');
    assertClose(cosine64(toF64(pooled), pa), 1, 1e-6, 'pooled direction');
  }
  // A single whole-utterance embedding: plain cosine similarity.
  const [x] = randomRows(rng, 1);
  const [y] = randomRows(rng, 1);
  assertClose(scorePair('cosine', scorableRecording([x]), scorableRecording([y])), cosine64(toF64(x), toF64(y)), 1e-6, 'single');
});

test('top-n statistics: mean and population std of the highest scores', () => {
  const rng = new Random(5);
  const scores = Float64Array.from({ length: 57 }, () => rng.normal());
  const sorted = Array.from(scores).sort((p, q) => q - p);
  for (const n of [1, 2, 10, 57, 500]) {
    const top = sorted.slice(0, Math.min(n, sorted.length));
    const m = top.reduce((s, x) => s + x, 0) / top.length;
    const sd = Math.sqrt(top.reduce((s, x) => s + (x - m) ** 2, 0) / top.length);
    const stats = topScoreStats(scores, n);
    assertClose(stats.mean, m, 1e-12, `mean top ${n}`);
    assertClose(stats.std, sd, 1e-12, `std top ${n}`);
  }
  assert.throws(() => topScoreStats(scores, 0), /top-n/);
});

function randomSetup(seed: number, cohortSpeakers: number) {
  const rng = new Random(seed);
  const recordings = new Map<string, ScorableRecording>();
  for (let i = 0; i < 12; i++) recordings.set(`spk${i % 4}/utt${i}.wav`, scorableRecording(randomRows(rng, 3)));
  const bySpeaker = new Map<string, ScorableRecording[]>();
  for (let s = 0; s < cohortSpeakers; s++) bySpeaker.set(`c${s}`, Array.from({ length: 1 + rng.int(3) }, () => scorableRecording(randomRows(rng, 3))));
  const paths = [...recordings.keys()];
  const trials = Array.from({ length: 30 }, () => ({ enrollPath: paths[rng.int(paths.length)], testPath: paths[rng.int(paths.length)] }));
  return { recordings, bySpeaker, trials };
}

test('speaker cohort: one unit vector per speaker, the mean of its pooled embeddings', () => {
  const { bySpeaker } = randomSetup(6, 5);
  const cohort = speakerCohort(bySpeaker);
  assert.equal(cohort.length, 5);
  [...bySpeaker.values()].forEach((recordings, s) => {
    const expected = unit64(mean64(recordings.map((r) => toF64(r.pooled))));
    assert.equal(cohort[s].rows.length, 1);
    cohort[s].pooled.forEach((v, i) => assertClose(v, expected[i], 1e-6, `cohort ${s}[${i}]`));
  });
});

for (const mode of ['cosine', 'crops'] as const) {
  test(`AS-norm and S-norm (${mode} scores) match a float64 re-computation`, () => {
    const { recordings, bySpeaker, trials } = randomSetup(mode === 'cosine' ? 7 : 8, 9);
    const cohort = speakerCohort(bySpeaker);
    const raw = Float64Array.from(trials, (t) => scorePair(mode, recordings.get(t.enrollPath)!, recordings.get(t.testPath)!));
    // Reference: each side's cohort scores by the same scoring function, sorted, top n, numpy-style std.
    const stats64 = (path: string, n: number) => {
      const rec = recordings.get(path)!;
      const crop64 = (c: ScorableRecording) => -rec.rows.reduce((acc, r) => acc + norm64(toF64(r).map((v, k) => v - c.rows[0][k])), 0) / rec.rows.length;
      const s = cohort.map((c) => (mode === 'cosine' ? cosine64(toF64(rec.pooled), toF64(c.pooled)) : crop64(c)));
      const top = s.sort((p, q) => q - p).slice(0, n);
      const m = top.reduce((acc, x) => acc + x, 0) / top.length;
      return { m, sd: Math.sqrt(top.reduce((acc, x) => acc + (x - m) ** 2, 0) / top.length) };
    };
    for (const [norm, n] of [['as-norm', 4], ['s-norm', cohort.length]] as const) {
      const normed = normalizeScores({ mode, norm, topN: 4, recordings, cohort, trials, scores: raw });
      trials.forEach((t, i) => {
        const e = stats64(t.enrollPath, n);
        const te = stats64(t.testPath, n);
        const expected = 0.5 * ((raw[i] - e.m) / e.sd + (raw[i] - te.m) / te.sd);
        assertClose(normed[i], expected, 1e-5, `${norm} trial ${i}`);
      });
    }
    // AS-norm with top-n at least the cohort size is S-norm.
    const asAll = normalizeScores({ mode, norm: 'as-norm', topN: cohort.length, recordings, cohort, trials, scores: raw });
    const s = normalizeScores({ mode, norm: 's-norm', recordings, cohort, trials, scores: raw });
    assert.deepEqual(asAll, s);
    // The cohort scores are the trial scoring function applied to each cohort entry.
    const first = recordings.get(trials[0].enrollPath)!;
    assert.deepEqual(cohortScores(mode, first, cohort), Float64Array.from(cohort, (c) => scorePair(mode, first, c)));
  });
}

test('normalisation refuses a cohort too small to have a spread', () => {
  const { recordings, bySpeaker, trials } = randomSetup(9, 1);
  const cohort = speakerCohort(bySpeaker);
  const raw = new Float64Array(trials.length);
  assert.throws(() => normalizeScores({ mode: 'cosine', norm: 's-norm', recordings, cohort, trials, scores: raw }), /at least 2/);
});
