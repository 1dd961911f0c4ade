/** The on-disk embedding cache of `voxkit eval`: round trips, concurrent writers, damage, merging. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../../src/core/random.js';
import { defaultEmbeddingCacheDir, EmbeddingCache, recordingKey, type EmbeddingCacheKey } from '../../src/eval/embedding-cache-node.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'voxkit-eval-cache-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const KEY: EmbeddingCacheKey = { checkpointSha256: 'ab'.repeat(32), settings: { model: 'ResNetSE34L', numEval: 3, evalFrames: 200 } };

function rows(rng: Random, n: number, dim = 8): Float32Array[] {
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => rng.normal()));
}

const segments = (folder: string) => readdirSync(folder).filter((name) => name.endsWith('.vxe'));

test('entries survive a flush and a reopen bit for bit; other settings get another folder', async () => {
  const root = join(dir, 'roundtrip');
  const rng = new Random(1);
  const a = await EmbeddingCache.open(root, KEY);
  const stored = new Map([['x', rows(rng, 3)], ['y', rows(rng, 1)], ['名前 with spaces', rows(rng, 2)]]);
  for (const [k, v] of stored) a.put(k, v);
  await a.close();
  const b = await EmbeddingCache.open(root, KEY);
  assert.equal(b.size, stored.size);
  assert.equal(b.status.loaded, stored.size);
  for (const [k, v] of stored) assert.deepEqual(b.get(k), v);
  // Key order of the settings does not matter; their values do.
  const reordered = await EmbeddingCache.open(root, { checkpointSha256: KEY.checkpointSha256, settings: { evalFrames: 200, numEval: 3, model: 'ResNetSE34L' } });
  assert.equal(reordered.folder, b.folder);
  const other = await EmbeddingCache.open(root, { ...KEY, settings: { ...KEY.settings, evalFrames: 400 } });
  assert.notEqual(other.folder, b.folder);
  assert.equal(other.size, 0);
  const otherCheckpoint = await EmbeddingCache.open(root, { ...KEY, checkpointSha256: 'cd'.repeat(32) });
  assert.equal(otherCheckpoint.size, 0);
});

test('two runs writing at once both keep their entries', async () => {
  const root = join(dir, 'concurrent');
  const rng = new Random(2);
  const [first, second] = await Promise.all([EmbeddingCache.open(root, KEY), EmbeddingCache.open(root, KEY)]);
  const expected = new Map<string, Float32Array[]>();
  for (let i = 0; i < 20; i++) {
    const r = rows(rng, 2);
    (i % 2 ? first : second).put(`f${i}`, r);
    expected.set(`f${i}`, r);
  }
  await Promise.all([first.close(), second.close()]);
  const reader = await EmbeddingCache.open(root, KEY);
  assert.equal(reader.size, expected.size);
  for (const [k, v] of expected) assert.deepEqual(reader.get(k), v);
});

test('a damaged or foreign segment is reported, deleted and its entries recomputed; temporary files are ignored', async () => {
  const root = join(dir, 'damaged');
  const rng = new Random(3);
  const writer = await EmbeddingCache.open(root, KEY);
  writer.put('kept', rows(rng, 2));
  await writer.flush();
  writer.put('lost', rows(rng, 2));
  await writer.flush();
  const [keptFile, lostFile] = segments(writer.folder).sort().map((name) => join(writer.folder, name));
  // Which file holds which entry depends on names; damage the one holding 'lost'.
  const holdsLost = readFileSync(lostFile).includes(Buffer.from('lost')) ? lostFile : keptFile;
  const bytes = readFileSync(holdsLost);
  writeFileSync(holdsLost, bytes.subarray(0, Math.floor(bytes.length / 2)));
  // A run killed mid-write leaves only a temporary file behind.
  writeFileSync(join(writer.folder, '.seg-x.vxe.999.tmp'), bytes.subarray(0, 10));
  // A segment of another checkpoint copied in by mistake.
  const foreign = await EmbeddingCache.open(join(dir, 'foreign'), { ...KEY, checkpointSha256: 'ef'.repeat(32) });
  foreign.put('kept', rows(rng, 2));
  await foreign.close();
  copyFileSync(join(foreign.folder, segments(foreign.folder)[0]), join(writer.folder, 'seg-foreign.vxe'));

  const reader = await EmbeddingCache.open(root, KEY);
  assert.equal(reader.get('lost'), undefined);
  assert.ok(reader.get('kept'));
  assert.equal(reader.status.discarded.length, 2);
  assert.ok(reader.status.discarded.some((d) => d.file === holdsLost && /checksum|truncated/.test(d.reason)), JSON.stringify(reader.status.discarded));
  assert.ok(reader.status.discarded.some((d) => d.file.endsWith('seg-foreign.vxe') && /another checkpoint/.test(d.reason)));
  assert.ok(!segments(reader.folder).includes('seg-foreign.vxe'), 'damaged segments are deleted');
  // Recomputed and stored again, the next reader finds it.
  reader.put('lost', rows(rng, 2));
  await reader.close();
  const again = await EmbeddingCache.open(root, KEY);
  assert.ok(again.get('lost'));
  assert.equal(again.status.discarded.length, 0);
});

test('many segments are merged into one at close', async () => {
  const root = join(dir, 'merge');
  const rng = new Random(4);
  const cache = await EmbeddingCache.open(root, KEY);
  for (let i = 0; i < 12; i++) {
    cache.put(`f${i}`, rows(rng, 1));
    await cache.flush();
  }
  assert.equal(segments(cache.folder).length, 12);
  await cache.close();
  assert.equal(segments(cache.folder).length, 1);
  assert.equal((await EmbeddingCache.open(root, KEY)).size, 12);
});

test('a recording key changes when the file changes', async () => {
  const file = join(dir, 'a.wav');
  writeFileSync(file, 'abc');
  const before = await recordingKey(file);
  assert.equal(await recordingKey(file), before);
  utimesSync(file, new Date(2020, 0, 1), new Date(2020, 0, 1));
  const touched = await recordingKey(file);
  assert.notEqual(touched, before);
  writeFileSync(file, 'abcd');
  assert.notEqual(await recordingKey(file), touched);
});

test('default cache folder follows XDG_CACHE_HOME', () => {
  assert.equal(defaultEmbeddingCacheDir({ XDG_CACHE_HOME: '/x/cache' }), join('/x/cache', 'voxkit', 'embeddings'));
  assert.match(defaultEmbeddingCacheDir({}), /\.cache[\\/]voxkit[\\/]embeddings$/);
});
