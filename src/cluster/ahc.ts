/**
 * Agglomerative hierarchical clustering (AHC) of embeddings on cosine similarity. Browser-safe.
 *
 * The dendrogram is built with the nearest-neighbour-chain algorithm (O(n²) time, one n×n matrix),
 * valid for linkages without inversions (average, complete, single). The merges are then sorted by
 * similarity and replayed with a union–find, so cutting at a threshold or at K clusters is a prefix
 * of the same ordered merge list.
 */
import { VoxkitError } from '../errors.js';

export type AhcLinkage = 'average' | 'complete' | 'single';

export interface AhcMerge {
  /** An item of each of the two merged clusters (representatives, not cluster ids). */
  readonly a: number;
  readonly b: number;
  /** Linkage similarity of the two clusters when they were merged. */
  readonly similarity: number;
}

export interface AhcOptions {
  linkage?: AhcLinkage;
  /** Stop at exactly this many clusters (wins over `threshold`; clamped to [1, n]). */
  numClusters?: number;
  /** Merge while the linkage similarity is at least this (cosine similarity). */
  threshold?: number;
  /** Bounds on the cluster count when stopping at the threshold. */
  minClusters?: number;
  maxClusters?: number;
}

/** Row-major n×n cosine similarities of the rows (embeddings need not be normalised). */
export function cosineSimilarityMatrix(embeddings: readonly Float32Array[]): Float64Array {
  const n = embeddings.length;
  const units = unitRows(embeddings);
  const sim = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ui = units[i];
    sim[i * n + i] = 1;
    for (let j = i + 1; j < n; j++) {
      const uj = units[j];
      let dot = 0;
      for (let k = 0; k < ui.length; k++) dot += ui[k] * uj[k];
      sim[i * n + j] = dot;
      sim[j * n + i] = dot;
    }
  }
  return sim;
}

/** L2-normalised float64 copies of the rows; checks sizes and finiteness. */
export function unitRows(embeddings: readonly Float32Array[]): Float64Array[] {
  const dim = embeddings[0]?.length ?? 0;
  return embeddings.map((e, index) => {
    if (e.length !== dim) throw new VoxkitError('E_SHAPE', `embedding ${index} has ${e.length} values, the first has ${dim}`);
    let s = 0;
    for (let k = 0; k < e.length; k++) s += e[k] * e[k];
    if (!Number.isFinite(s)) throw new VoxkitError('E_DATA', `embedding ${index} contains a value that is not a finite number`);
    const norm = Math.sqrt(s);
    const u = new Float64Array(e.length);
    // A zero vector stays zero: similarity 0 to everything, so it ends up alone.
    if (norm > 0) for (let k = 0; k < e.length; k++) u[k] = e[k] / norm;
    return u;
  });
}

/**
 * The full merge sequence (n − 1 merges), most similar first. `similarity` is consumed (it becomes
 * the working matrix); pass a copy to keep it.
 */
export function ahcMerges(similarity: Float64Array, n: number, linkage: AhcLinkage = 'average'): AhcMerge[] {
  if (similarity.length !== n * n) throw new VoxkitError('E_SHAPE', `similarity matrix has ${similarity.length} values, expected ${n}×${n}`);
  const size = new Float64Array(n).fill(1);
  const active = new Uint8Array(n).fill(1);
  // Doubly linked list of active clusters, so scans skip merged slots.
  const next = new Int32Array(n + 1);
  const prev = new Int32Array(n + 1);
  const head = n; // sentinel
  for (let i = 0; i <= n; i++) {
    next[i] = i === n ? (n > 0 ? 0 : n) : i + 1;
    prev[i] = i === 0 ? n : i - 1;
  }
  prev[n] = n > 0 ? n - 1 : n;
  const unlink = (i: number) => {
    next[prev[i]] = next[i];
    prev[next[i]] = prev[i];
    active[i] = 0;
  };

  const merges: Array<AhcMerge & { order: number }> = [];
  const chain: number[] = [];
  let remaining = n;
  while (remaining > 1) {
    if (chain.length === 0) chain.push(next[head]);
    const a = chain[chain.length - 1];
    const previous = chain.length >= 2 ? chain[chain.length - 2] : -1;
    // Nearest neighbour of a; ties go to the previous chain element so the chain always ends.
    let best = previous;
    let bestSim = previous >= 0 ? similarity[a * n + previous] : -Infinity;
    for (let c = next[head]; c !== head; c = next[c]) {
      if (c === a) continue;
      const s = similarity[a * n + c];
      if (s > bestSim) {
        bestSim = s;
        best = c;
      }
    }
    if (best !== previous) {
      chain.push(best);
      continue;
    }
    chain.length -= 2;
    const keep = Math.min(a, best);
    const gone = Math.max(a, best);
    merges.push({ a: keep, b: gone, similarity: bestSim, order: merges.length });
    const sk = size[keep];
    const sg = size[gone];
    unlink(gone);
    for (let c = next[head]; c !== head; c = next[c]) {
      if (c === keep) continue;
      const x = similarity[keep * n + c];
      const y = similarity[gone * n + c];
      const merged = linkage === 'average' ? (sk * x + sg * y) / (sk + sg) : linkage === 'complete' ? Math.min(x, y) : Math.max(x, y);
      similarity[keep * n + c] = merged;
      similarity[c * n + keep] = merged;
    }
    size[keep] = sk + sg;
    remaining--;
  }
  // Most similar first; equal similarities keep the order they were found in.
  merges.sort((x, y) => y.similarity - x.similarity || x.order - y.order);
  return merges.map(({ a, b, similarity: s }) => ({ a, b, similarity: s }));
}

/** Cluster label (0-based, in order of first member) of every item after applying `count` merges. */
export function labelsAfterMerges(n: number, merges: readonly AhcMerge[], count: number): Int32Array {
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  for (let m = 0; m < count; m++) {
    const ra = find(merges[m].a);
    const rb = find(merges[m].b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  const labels = new Int32Array(n);
  const labelOfRoot = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const root = find(i);
    let label = labelOfRoot.get(root);
    if (label === undefined) {
      label = labelOfRoot.size;
      labelOfRoot.set(root, label);
    }
    labels[i] = label;
  }
  return labels;
}

/**
 * How many of the sorted merges to apply: n − K for a fixed K, else every merge at or above the
 * threshold, then moved into [minClusters, maxClusters].
 */
export function mergesToApply(n: number, merges: readonly AhcMerge[], options: AhcOptions): number {
  if (n === 0) return 0;
  if (options.numClusters !== undefined) return n - Math.min(n, Math.max(1, Math.round(options.numClusters)));
  const threshold = options.threshold;
  if (threshold === undefined) throw new VoxkitError('E_USAGE', 'AHC needs a threshold or a number of clusters');
  let count = 0;
  while (count < merges.length && merges[count].similarity >= threshold) count++;
  const minClusters = Math.min(n, Math.max(1, options.minClusters ?? 1));
  const maxClusters = Math.max(minClusters, Math.min(n, options.maxClusters ?? n));
  // Clusters after `count` merges: n − count.
  count = Math.max(count, n - maxClusters);
  count = Math.min(count, n - minClusters);
  return count;
}

/** Labels (0-based, in order of first member) of AHC on the cosine similarity of `embeddings`. */
export function agglomerativeClustering(embeddings: readonly Float32Array[], options: AhcOptions): Int32Array {
  const n = embeddings.length;
  if (n === 0) return new Int32Array(0);
  const merges = ahcMerges(cosineSimilarityMatrix(embeddings), n, options.linkage ?? 'average');
  return labelsAfterMerges(n, merges, mergesToApply(n, merges, options));
}
