/**
 * The speaker database and the scoring maths without an encoder: identifyEmbedding and the
 * threshold calibration on hand-made vectors; a process killed with SIGKILL during enroll; two
 * processes enrolling at once (the children run speakers-enroll-child.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VoxkitError } from '../../src/errors.js';
import { calibrateThreshold, identifyEmbedding, speakerCentroid, type EnrolledSpeaker } from '../../src/speakers/identify.js';
import { SpeakerDatabase } from '../../src/speakers/database-node.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { batchEmbeddings, CHILD_MODEL } from './speakers-enroll-child.js';

const CHILD = join(REPO_ROOT, 'test/unit/speakers-enroll-child.ts');
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'voxkit-speakerdb-'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

const vec = (...x: number[]) => Float32Array.from(x);
function speaker(name: string, ...embeddings: Float32Array[]): EnrolledSpeaker {
  return { name, embeddings, centroid: speakerCentroid(embeddings), sources: embeddings.map((_, i) => `${name}${i}`) };
}

test('identifyEmbedding ranks by centroid cosine, says unknown below the threshold, and reports the margin', () => {
  const speakers = [speaker('ann', vec(1, 0, 0), vec(0.8, 0.2, 0)), speaker('bo', vec(0, 1, 0)), speaker('cy', vec(0, 0, 1))];
  const q = vec(1, 0.5, 0);
  const r = identifyEmbedding(speakers, q, { threshold: 0.5 });
  assert.deepEqual(r.ranked.map((s) => s.name), ['ann', 'bo', 'cy']);
  const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0) / Math.hypot(...a) / Math.hypot(...b);
  assert.ok(Math.abs(r.ranked[0].score - cos(speakers[0].centroid, q)) < 1e-9);
  assert.equal(r.decision, 'ann');
  assert.ok(Math.abs(r.margin - Math.min(r.ranked[0].score - 0.5, r.ranked[0].score - r.ranked[1].score)) < 1e-12);
  const unknown = identifyEmbedding(speakers, q, { threshold: 0.99, top: 2 });
  assert.equal(unknown.decision, null);
  assert.equal(unknown.ranked.length, 2);
  assert.ok(Math.abs(unknown.margin - (0.99 - unknown.ranked[0].score)) < 1e-12);
  assert.deepEqual(identifyEmbedding([], q, { threshold: 0 }), { decision: null, ranked: [], margin: 0 });
  // top-k scoring uses the individual recordings: ann's best single match to (0.8, 0.2, 0).
  const topOne = identifyEmbedding(speakers, vec(0.8, 0.2, 0), { threshold: 0, scoring: 'top-k', k: 1 });
  assert.ok(Math.abs(topOne.ranked[0].score - 1) < 1e-6);
  assert.throws(() => identifyEmbedding(speakers, vec(1, 0), { threshold: 0 }), (e: unknown) => e instanceof VoxkitError && e.code === 'E_SHAPE');
  assert.throws(() => identifyEmbedding(speakers, q, { threshold: NaN }), (e: unknown) => e instanceof VoxkitError && e.code === 'E_USAGE');
});

test('calibrateThreshold puts the threshold between own-speaker and other-speaker scores of separable speakers', () => {
  const jitter = (v: number[], d: number) => vec(...v.map((x, i) => x + (i === 0 ? d : -d)));
  const speakers = [
    speaker('a', jitter([1, 0, 0, 0], 0.05), jitter([1, 0, 0, 0], -0.05), jitter([1, 0, 0, 0], 0.1)),
    speaker('b', jitter([0, 1, 0, 0], 0.05), jitter([0, 1, 0, 0], -0.05)),
    speaker('c', jitter([0, 0, 1, 0], 0.05), jitter([0, 0, 1, 0], -0.05)),
  ];
  const c = calibrateThreshold(speakers);
  assert.equal(c.eer, 0);
  assert.equal(c.targets, 7);
  assert.equal(c.nonTargets, 7);
  // Every leave-one-out own-speaker score is ≥ the threshold, every other-speaker best is below.
  for (const s of speakers) {
    for (const e of s.embeddings) {
      assert.equal(identifyEmbedding(speakers.filter((o) => o !== s), e, { threshold: c.threshold }).decision, null);
    }
  }
  assert.throws(() => calibrateThreshold(speakers.slice(0, 1)), /at least 2 enrolled speakers/);
});

interface ChildRun {
  done: number[];
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs the enrolling child; with `killAfter`, SIGKILLs it once that many enrolls have returned. */
function runChild(db: string, tag: string, iterations: number, size: number, killAfter?: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, db, tag, String(iterations), String(size)], {
      cwd: REPO_ROOT,
      env: { ...process.env, VOXKIT_SPEAKERS_CHILD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const done: number[] = [];
    let pending = '';
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    child.stdout.on('data', (b: Buffer) => {
      pending += b.toString();
      const parts = pending.split('\n');
      pending = parts.pop()!;
      for (const p of parts) done.push(Number(p.split(' ')[1]));
      if (killAfter !== undefined && done.length >= killAfter) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (killAfter === undefined && code !== 0) reject(new Error(`child ${tag} exited with ${code}: ${stderr}`));
      else resolve({ done, code, signal });
    });
  });
}

/**
 * Checks every speaker of the database is whole: sources parallel to embeddings, centroid = mean of
 * the normalised embeddings, and each batch complete and bit-identical to what the child enrolled.
 * Returns the batch indices present per tag.
 */
function checkIntact(dbPath: string, size: number): Map<string, number[]> {
  const db = SpeakerDatabase.open(dbPath, { readOnly: true });
  const batches = new Map<string, number[]>();
  try {
    for (const s of db.speakers()) {
      assert.equal(s.sources.length, s.embeddings.length, s.name);
      assert.deepEqual(s.centroid, speakerCentroid(s.embeddings), `centroid of ${s.name}`);
      for (let start = 0; start < s.sources.length; start += size) {
        const [tag, index] = s.sources[start].split('#');
        const expected = batchEmbeddings(tag, Number(index), size);
        assert.deepEqual(s.sources.slice(start, start + size), expected.sources, `batch ${tag}#${index} of ${s.name} is whole`);
        expected.embeddings.forEach((e, j) => assert.deepEqual(s.embeddings[start + j], e));
        if (!batches.has(tag)) batches.set(tag, []);
        batches.get(tag)!.push(Number(index));
      }
    }
  } finally {
    void db.close();
  }
  for (const list of batches.values()) list.sort((a, b) => a - b);
  return batches;
}

test('a process killed with SIGKILL during enroll leaves every returned enrollment whole and the database usable', async () => {
  const db = join(dir, 'crash.voxdb');
  const size = 40;
  for (const [tag, killAfter] of [['k1', 6], ['k2', 11]] as const) {
    const r = await runChild(db, tag, 100_000, size, killAfter);
    assert.equal(r.signal, 'SIGKILL');
    const last = Math.max(...r.done);
    assert.deepEqual(r.done, Array.from({ length: last + 1 }, (_, i) => i));
    const present = checkIntact(db, size).get(tag)!;
    // Everything acknowledged is there; at most the enroll in flight at the kill landed too.
    const acknowledged = Array.from({ length: last + 1 }, (_, i) => i);
    assert.ok(
      JSON.stringify(present) === JSON.stringify(acknowledged) || JSON.stringify(present) === JSON.stringify([...acknowledged, last + 1]),
      `batches of ${tag} after the kill: ${present.join(',')} (acknowledged up to ${last})`,
    );
  }
  // The writer lock of the killed process does not block the next writer.
  const after = SpeakerDatabase.open(db);
  const { embeddings, sources } = batchEmbeddings('k3', 0, size);
  assert.equal(after.enroll('k3', embeddings, sources, CHILD_MODEL).embeddings.length, size);
  await after.close();
});

test('two processes enrolling into the same database at once both land', async () => {
  const db = join(dir, 'concurrent.voxdb');
  const size = 16;
  const iterations = 12;
  await Promise.all([runChild(db, 'pa', iterations, size), runChild(db, 'pb', iterations, size)]);
  const batches = checkIntact(db, size);
  const all = Array.from({ length: iterations }, (_, i) => i);
  assert.deepEqual(batches.get('pa'), all);
  assert.deepEqual(batches.get('pb'), all);
  const handle = SpeakerDatabase.open(db, { readOnly: true });
  // Odd batches of both went to the shared speaker.
  assert.equal(handle.get('shared')!.embeddings.length, iterations * size);
  await handle.close();
});


test('enroll validates its inputs and appends to a speaker in one record; names are NFC-normalised', async () => {
  const db = SpeakerDatabase.open(join(dir, 'lib.voxdb'), { create: true });
  try {
    const e = (seed: number) => batchEmbeddings('lib', seed, 1).embeddings[0];
    const usage = (err: unknown) => err instanceof VoxkitError && err.code === 'E_USAGE';
    assert.throws(() => db.enroll('x', [], [], CHILD_MODEL), usage);
    assert.throws(() => db.enroll('x', [e(0)], [], CHILD_MODEL), usage);
    assert.throws(() => db.enroll('x', [new Float32Array(3)], ['s'], CHILD_MODEL), (err: unknown) => err instanceof VoxkitError && err.code === 'E_SHAPE');
    assert.throws(() => db.enroll('x', [e(0).map(() => NaN)], ['s'], CHILD_MODEL), (err: unknown) => err instanceof VoxkitError && err.code === 'E_DATA');
    assert.deepEqual(db.names(), []);
    assert.equal(db.model(), undefined);

    const composed = 'Ren\u00e9';
    const decomposed = 'Rene\u0301';
    db.enroll(composed, [e(1)], ['one'], CHILD_MODEL);
    const first = db.get(composed)!;
    const both = db.enroll(decomposed, [e(2), e(3)], ['two', 'three'], CHILD_MODEL);
    assert.deepEqual(db.names(), [composed]);
    assert.deepEqual(both.sources, ['one', 'two', 'three']);
    assert.deepEqual(both.embeddings, [e(1), e(2), e(3)]);
    assert.deepEqual(both.centroid, speakerCentroid([e(1), e(2), e(3)]));
    assert.equal(both.enrolledAt, first.enrolledAt);
    assert.deepEqual(db.model(), CHILD_MODEL);

    assert.throws(() => db.setThreshold(Infinity), usage);
    assert.equal(db.setThreshold(0.3).source, 'set');
    assert.deepEqual(db.threshold()?.value, 0.3);
  } finally {
    await db.close();
  }
});
