/**
 * Clustering maths on synthetic speaker-like embeddings: Gaussian clusters on the unit sphere
 * (random centres in 32 dimensions are nearly orthogonal, like different speakers' embeddings).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { Random } from '../../src/core/random.js';
import { VoxkitError } from '../../src/errors.js';
import { clusterEmbeddings, isConfident, relabelBySize } from '../../src/cluster/cluster.js';
import { ahcMerges, cosineSimilarityMatrix, labelsAfterMerges, mergesToApply } from '../../src/cluster/ahc.js';
import { analyseSpectrum, kMeans, smallestEigenvectors } from '../../src/cluster/spectral.js';
import { smallestEigenspace, symmetricEigenvalues } from '../../src/cluster/symmetric-eigenvalues.js';
import { adjustedRandIndex, clusterPurity } from '../../src/cluster/metrics.js';

const DIM = 32;

function unit(v: Float32Array): Float32Array {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function randomDirection(random: Random): Float32Array {
  return unit(Float32Array.from({ length: DIM }, () => random.normal()));
}

/** `sizes[c]` points around centre c: normalise(centre + spread·N(0, I)). */
function sphereClusters(sizes: readonly number[], spread: number, seed: number): { points: Float32Array[]; truth: number[]; centres: Float32Array[] } {
  const random = new Random(seed);
  const centres = sizes.map(() => randomDirection(random));
  const points: Float32Array[] = [];
  const truth: number[] = [];
  sizes.forEach((size, c) => {
    for (let i = 0; i < size; i++) {
      points.push(unit(centres[c].map((x) => x + spread * random.normal())));
      truth.push(c);
    }
  });
  // Interleave so no method can profit from the input order.
  const order = random.shuffle(points.map((_, i) => i));
  return { points: order.map((i) => points[i]), truth: order.map((i) => truth[i]), centres };
}

test('adjusted Rand index and purity: identical up to renaming, chance, and a known mixed case', () => {
  assert.equal(adjustedRandIndex([0, 0, 1, 1, 2], [5, 5, 3, 3, 9]), 1);
  assert.equal(clusterPurity([0, 0, 1, 1, 2], [5, 5, 3, 3, 9]), 1);
  // Hand count: pairs (a,b) within both: 1 of 6 total; rows 2+1=... computed from the formula.
  const predicted = [0, 0, 0, 1, 1, 1];
  const reference = [0, 0, 1, 1, 2, 2];
  // Contingency [[2,1,0],[0,1,2]]: index 2, row pairs 6, column pairs 3, total 15 → (2 − 1.2) / (4.5 − 1.2).
  assert.ok(Math.abs(adjustedRandIndex(predicted, reference) - 0.8 / 3.3) < 1e-12);
  assert.equal(clusterPurity(predicted, reference), 4 / 6);
  const random = new Random(3);
  const a = Array.from({ length: 2000 }, () => random.int(4));
  const b = Array.from({ length: 2000 }, () => random.int(4));
  assert.ok(Math.abs(adjustedRandIndex(a, b)) < 0.02);
});

test('AHC recovers well-separated clusters exactly at the default threshold, for K = 1..5', () => {
  for (let k = 1; k <= 5; k++) {
    const { points, truth } = sphereClusters(Array(k).fill(12), 0.1, 100 + k);
    const result = clusterEmbeddings(points);
    assert.equal(result.method, 'ahc');
    assert.equal(result.numClusters, k, `K=${k}`);
    assert.equal(adjustedRandIndex(result.labels, truth), 1, `K=${k}`);
    assert.ok(result.confidence.every((c) => c >= 0.5), `K=${k}: confident everywhere (min ${Math.min(...result.confidence)})`);
  }
});

test('spectral clustering: the eigengap gives the right count for K = 2..5 and recovers the clusters', () => {
  for (let k = 2; k <= 5; k++) {
    // Unequal sizes: the count must not rely on balanced clusters.
    const sizes = Array.from({ length: k }, (_, c) => 10 + 4 * c);
    const { points, truth } = sphereClusters(sizes, 0.12, 200 + k);
    const analysis = analyseSpectrum(points);
    assert.equal(analysis.numClusters, k, `K=${k}`);
    // k near-zero Laplacian eigenvalues, then a jump.
    assert.ok(analysis.eigenvalues[k - 1] < 0.05 && analysis.eigenvalues[k] > 0.2, `K=${k}: ${analysis.eigenvalues.slice(0, k + 1)}`);
    const result = clusterEmbeddings(points, { method: 'spectral', seed: 1 });
    assert.equal(result.numClusters, k);
    assert.equal(adjustedRandIndex(result.labels, truth), 1, `K=${k}`);
  }
});

test('a forced K is honoured by both methods, and bounds move the estimated count', () => {
  const { points, truth } = sphereClusters([10, 10, 10, 10, 10], 0.1, 7);
  for (const method of ['ahc', 'spectral'] as const) {
    assert.equal(clusterEmbeddings(points, { method, numClusters: 3 }).numClusters, 3, method);
    const exact = clusterEmbeddings(points, { method, numClusters: 5 });
    assert.equal(adjustedRandIndex(exact.labels, truth), 1, method);
    assert.equal(clusterEmbeddings(points, { method, maxClusters: 4 }).numClusters, 4, method);
    // Forcing more clusters than there are splits some; every item is still labelled.
    const more = clusterEmbeddings(points, { method, numClusters: 7 });
    assert.equal(more.numClusters, 7, method);
    assert.equal(new Set(more.labels).size, 7, method);
  }
  // AHC's threshold: above every within-cluster similarity, bounded by maxClusters.
  assert.equal(clusterEmbeddings(points, { threshold: 0.999, maxClusters: 9 }).numClusters, 9);
  assert.equal(clusterEmbeddings(points, { threshold: -1, minClusters: 2 }).numClusters, 2);
  assert.equal(clusterEmbeddings(points, { threshold: -1 }).numClusters, 1);
});

test('spectral clustering is deterministic for a seed', () => {
  // Overlapping clusters, where k-means initialisation matters.
  const { points } = sphereClusters([15, 15, 15, 15], 0.35, 9);
  const a = clusterEmbeddings(points, { method: 'spectral', numClusters: 4, seed: 5 });
  const b = clusterEmbeddings(points, { method: 'spectral', numClusters: 4, seed: 5 });
  assert.deepEqual([...a.labels], [...b.labels]);
  assert.deepEqual([...a.confidence], [...b.confidence]);
  const random = new Random(1);
  const blobs = Array.from({ length: 60 }, () => Float64Array.from({ length: 3 }, () => random.normal()));
  assert.deepEqual([...kMeans(blobs, 5, { seed: 2, restarts: 3 })], [...kMeans(blobs, 5, { seed: 2, restarts: 3 })]);
});

test('items between two clusters get low confidence; singletons get none', () => {
  const { points, centres } = sphereClusters([12, 12, 12], 0.1, 21);
  const random = new Random(4);
  // Midway between clusters 0 and 1, a little apart from each other (and close enough to each other to
  // end up together: they must not vouch for one another).
  const between = [0, 1, 2].map(() => unit(centres[0].map((x, d) => 0.5 * x + 0.5 * centres[1][d] + 0.01 * random.normal())));
  const all = [...points, ...between];
  for (const method of ['ahc', 'spectral'] as const) {
    const result = clusterEmbeddings(all, { method, numClusters: 3 });
    const member = [...result.confidence.slice(0, points.length)].sort((x, y) => x - y);
    const median = member[Math.floor(member.length / 2)];
    for (let i = points.length; i < all.length; i++) {
      assert.ok(result.confidence[i] < 0.5, `${method}: in-between item ${i} confidence ${result.confidence[i]}`);
      assert.ok(result.confidence[i] < median / 2, method);
      assert.equal(isConfident(result, i, 0.5), false);
    }
    assert.ok(median > 0.9, `${method}: members ${median}`);
  }
  const outlier = randomDirection(random);
  const withOutlier = clusterEmbeddings([...points, outlier]);
  assert.equal(withOutlier.numClusters, 4);
  assert.equal(withOutlier.labels[points.length], 3, 'the singleton is numbered last');
  assert.equal(withOutlier.confidence[points.length], 0);
});

test('clusters are numbered by size, largest first, centroids are unit vectors', () => {
  const { points, truth } = sphereClusters([4, 9, 6], 0.1, 33);
  const result = clusterEmbeddings(points);
  const sizes = [0, 0, 0];
  for (const l of result.labels) sizes[l]++;
  assert.deepEqual(sizes, [9, 6, 4]);
  for (let i = 0; i < points.length; i++) assert.equal(result.labels[i], truth[i] === 1 ? 0 : truth[i] === 2 ? 1 : 2);
  for (const c of result.centroids) assert.ok(Math.abs(Math.hypot(...c) - 1) < 1e-6);
  assert.deepEqual([...relabelBySize(Int32Array.from([7, 3, 3, 7, 9, 3]))], [1, 0, 0, 1, 2, 0]);
});

test('NN-chain average linkage gives the same merge heights as the naive O(n³) algorithm', () => {
  const random = new Random(12);
  const n = 40;
  const points = Array.from({ length: n }, () => randomDirection(random));
  const fast = ahcMerges(cosineSimilarityMatrix(points), n).map((m) => m.similarity);
  // Naive: repeatedly merge the pair of clusters with the highest mean pairwise similarity.
  const sim = cosineSimilarityMatrix(points);
  let clusters = points.map((_, i) => [i]);
  const naive: number[] = [];
  while (clusters.length > 1) {
    let best = { s: -Infinity, a: 0, b: 0 };
    for (let a = 0; a < clusters.length; a++) {
      for (let b = a + 1; b < clusters.length; b++) {
        let s = 0;
        for (const i of clusters[a]) for (const j of clusters[b]) s += sim[i * n + j];
        s /= clusters[a].length * clusters[b].length;
        if (s > best.s) best = { s, a, b };
      }
    }
    naive.push(best.s);
    const merged = [...clusters[best.a], ...clusters[best.b]];
    clusters = clusters.filter((_, i) => i !== best.a && i !== best.b);
    clusters.push(merged);
  }
  assert.equal(fast.length, n - 1);
  for (let i = 0; i < n - 1; i++) assert.ok(Math.abs(fast[i] - naive[i]) < 1e-12, `merge ${i}: ${fast[i]} vs ${naive[i]}`);
  // Heights never increase (no inversions), and cutting at K gives K clusters.
  for (let i = 1; i < fast.length; i++) assert.ok(fast[i] <= fast[i - 1] + 1e-15);
  const merges = ahcMerges(cosineSimilarityMatrix(points), n);
  for (const k of [1, 2, 7, n]) assert.equal(new Set(labelsAfterMerges(n, merges, mergesToApply(n, merges, { numClusters: k }))).size, k);
});

test('symmetric eigenvalues agree with ml-matrix', () => {
  const random = new Random(8);
  for (const n of [1, 2, 5, 30]) {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = random.normal();
    const reference = new EigenvalueDecomposition(Matrix.from1DArray(n, n, a), { assumeSymmetric: true }).realEigenvalues.sort((x, y) => x - y);
    const ours = symmetricEigenvalues(a.slice(), n);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(ours[i] - reference[i]) < 1e-9, `n=${n} λ${i}: ${ours[i]} vs ${reference[i]}`);
  }
  // A repeated eigenvalue (block-diagonal projector): exact multiplicities survive.
  const block = new Float64Array(16);
  block[0] = block[1] = block[4] = block[5] = 0.5;
  block[10] = block[11] = block[14] = block[15] = 0.5;
  assert.deepEqual([...symmetricEigenvalues(block, 4)].map((x) => Math.round(x * 1e12) / 1e12), [0, 0, 1, 1]);
});

test('block inverse iteration spans the same eigenspace as ml-matrix, and large inputs take that path', () => {
  // A Laplacian of a noisy 3-cluster graph: I − D^-½ A D^-½ with A the positive part of cosine similarities.
  const { points } = sphereClusters([20, 25, 15], 0.3, 41);
  const n = points.length;
  const sim = cosineSimilarityMatrix(points);
  const degree = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) degree[i] += Math.max(0, sim[i * n + j]);
  const laplacian = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) laplacian[i * n + j] = (i === j ? 1 : 0) - (i === j ? 0 : Math.max(0, sim[i * n + j]) / Math.sqrt(degree[i] * degree[j]));
  }
  const projector = (columns: Float64Array[]) => (i: number, j: number) => columns.reduce((s, c) => s + c[i] * c[j], 0);
  const direct = projector(smallestEigenvectors(laplacian, n, 3));
  const iterated = smallestEigenspace(laplacian, n, 3);
  for (const a of iterated) for (const b of iterated) assert.ok(Math.abs(a.reduce((s, x, i) => s + x * b[i], 0) - (a === b ? 1 : 0)) < 1e-9);
  const viaIteration = projector(iterated);
  for (let i = 0; i < n; i += 7) for (let j = 0; j < n; j += 5) assert.ok(Math.abs(direct(i, j) - viaIteration(i, j)) < 1e-6, `P[${i}][${j}]`);
  // 360 items: above the direct-decomposition size, so spectral clustering iterates.
  const big = sphereClusters([150, 120, 90], 0.15, 43);
  const result = clusterEmbeddings(big.points, { method: 'spectral' });
  assert.equal(result.numClusters, 3);
  assert.equal(adjustedRandIndex(result.labels, big.truth), 1);
});

test('tiny and invalid inputs', () => {
  for (const method of ['ahc', 'spectral'] as const) {
    const empty = clusterEmbeddings([], { method });
    assert.equal(empty.numClusters, 0);
    assert.equal(empty.labels.length, 0);
    const one = clusterEmbeddings([Float32Array.of(1, 0)], { method });
    assert.deepEqual([...one.labels], [0]);
    assert.equal(one.confidence[0], 0);
    const two = clusterEmbeddings([Float32Array.of(1, 0), Float32Array.of(0.99, 0.1)], { method });
    assert.equal(two.numClusters, 1);
    assert.equal(clusterEmbeddings([Float32Array.of(1, 0), Float32Array.of(-1, 0)], { method }).numClusters, 2);
  }
  const expectError = (fn: () => unknown, code: string) =>
    assert.throws(fn, (err: unknown) => err instanceof VoxkitError && err.code === code);
  expectError(() => clusterEmbeddings([Float32Array.of(1, 0), Float32Array.of(1, 0, 0)]), 'E_SHAPE');
  expectError(() => clusterEmbeddings([Float32Array.of(1, NaN), Float32Array.of(1, 0)]), 'E_DATA');
  expectError(() => clusterEmbeddings([Float32Array.of(1, 0)], { numClusters: 0 }), 'E_USAGE');
  expectError(() => clusterEmbeddings([Float32Array.of(1, 0)], { minClusters: 3, maxClusters: 2 }), 'E_USAGE');
  expectError(() => clusterEmbeddings([Float32Array.of(1, 0)], { method: 'kmeans' as never }), 'E_USAGE');
});
