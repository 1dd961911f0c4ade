/**
 * Clustering speaker embeddings: one entry point over agglomerative (AHC) and spectral clustering,
 * with clusters numbered by size and a per-item confidence. Browser-safe.
 *
 * Confidence rule: for item i in cluster c, let `own` be its cosine similarity to the centroid of
 * the OTHER members of c (leave-one-out, so an item does not vouch for itself) and `rival` its
 * similarity to the nearest centroid of any other cluster (0 when there is no other cluster: an
 * unrelated voice scores about 0). Then
 *
 *     confidence = max(0, tanh((own − rival) / CONFIDENCE_MARGIN_SCALE))
 *
 * so an item midway between two clusters (margin ≈ 0) or nearer another cluster (margin < 0)
 * gets 0, and a margin of 1·scale gives 0.76, 2·scale 0.96. Members of singleton clusters have no
 * one to agree with and get 0.
 */
import { VoxkitError } from '../errors.js';
import { agglomerativeClustering, unitRows } from './ahc.js';
import { spectralClustering } from './spectral.js';

export type ClusterMethod = 'ahc' | 'spectral';

export interface ClusterOptions {
  method?: ClusterMethod;
  numClusters?: number;
  /** AHC stop: cosine similarity (average linkage). */
  threshold?: number;
  minClusters?: number;
  maxClusters?: number;
  seed?: number;
}

export interface ClusterResult {
  labels: Int32Array;
  numClusters: number;
  /** L2-normalised mean of each cluster's L2-normalised members. */
  centroids: Float32Array[];
  /** Per item, in [0, 1] (see the confidence rule above). */
  confidence: Float64Array;
  method: ClusterMethod;
}

/**
 * Default AHC stop for speaker embeddings compared by cosine similarity. It depends on the model:
 * for the demo ResNetSE34L, same-speaker averages sit well above it and different-speaker ones near
 * 0. Calibrate on labelled data for another model.
 */
export const DEFAULT_AHC_THRESHOLD = 0.5;

/** Cosine margin that maps to confidence tanh(1) ≈ 0.76. */
export const CONFIDENCE_MARGIN_SCALE = 0.1;

/**
 * Groups embeddings by speaker. AHC (default) merges clusters while their average cosine similarity
 * is at least `threshold` (default DEFAULT_AHC_THRESHOLD), or until `numClusters` remain; spectral
 * clustering picks the count from the eigengap within [minClusters, maxClusters] unless
 * `numClusters` is given. Labels are numbered by cluster size, largest first (ties: earliest item).
 */
export function clusterEmbeddings(embeddings: readonly Float32Array[], options: ClusterOptions = {}): ClusterResult {
  const method = options.method ?? 'ahc';
  checkOptions(options);
  const n = embeddings.length;
  let raw: Int32Array;
  if (n === 0) raw = new Int32Array(0);
  else if (method === 'ahc') {
    raw = agglomerativeClustering(embeddings, {
      numClusters: options.numClusters,
      threshold: options.threshold ?? DEFAULT_AHC_THRESHOLD,
      minClusters: options.minClusters,
      maxClusters: options.maxClusters,
    });
  } else if (method === 'spectral') {
    raw = spectralClustering(embeddings, {
      numClusters: options.numClusters,
      minClusters: options.minClusters,
      maxClusters: options.maxClusters,
      seed: options.seed,
    });
  } else {
    throw new VoxkitError('E_USAGE', `unknown clustering method "${String(method)}"; valid: ahc, spectral`);
  }
  const labels = relabelBySize(raw);
  const units = unitRows(embeddings);
  let numClusters = 0;
  for (const label of labels) numClusters = Math.max(numClusters, label + 1);
  const { centroids, confidence } = centroidsAndConfidence(units, labels, numClusters);
  return { labels, numClusters, centroids, confidence, method };
}

/** Whether item `index` is confidently in its cluster. */
export function isConfident(result: ClusterResult, index: number, minConfidence: number): boolean {
  return result.confidence[index] >= minConfidence;
}

function checkOptions(options: ClusterOptions): void {
  const { numClusters, minClusters, maxClusters, threshold } = options;
  for (const [name, value] of [['numClusters', numClusters], ['minClusters', minClusters], ['maxClusters', maxClusters]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new VoxkitError('E_USAGE', `${name} must be a positive integer, got ${value}`);
  }
  if (minClusters !== undefined && maxClusters !== undefined && minClusters > maxClusters) {
    throw new VoxkitError('E_USAGE', `minClusters (${minClusters}) is larger than maxClusters (${maxClusters})`);
  }
  if (threshold !== undefined && !Number.isFinite(threshold)) throw new VoxkitError('E_USAGE', `threshold must be a finite number, got ${threshold}`);
}

/** Renumbers clusters by size, largest first; equal sizes by their earliest item. */
export function relabelBySize(labels: Int32Array): Int32Array {
  const sizes = new Map<number, { size: number; first: number }>();
  labels.forEach((label, i) => {
    const entry = sizes.get(label);
    if (entry) entry.size++;
    else sizes.set(label, { size: 1, first: i });
  });
  const order = [...sizes.entries()].sort((x, y) => y[1].size - x[1].size || x[1].first - y[1].first);
  const newLabel = new Map(order.map(([label], rank) => [label, rank]));
  return labels.map((label) => newLabel.get(label)!);
}

function centroidsAndConfidence(units: readonly Float64Array[], labels: Int32Array, k: number): { centroids: Float32Array[]; confidence: Float64Array } {
  const n = units.length;
  const dim = units[0]?.length ?? 0;
  const sums = Array.from({ length: k }, () => new Float64Array(dim));
  const sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const s = sums[labels[i]];
    for (let d = 0; d < dim; d++) s[d] += units[i][d];
    sizes[labels[i]]++;
  }
  const centroids64 = sums.map(normalized);
  const confidence = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (sizes[c] < 2) continue;
    const u = units[i];
    const others = new Float64Array(dim);
    for (let d = 0; d < dim; d++) others[d] = sums[c][d] - u[d];
    const own = dot(u, normalized(others));
    let rival = 0;
    if (k > 1) {
      rival = -Infinity;
      for (let j = 0; j < k; j++) if (j !== c) rival = Math.max(rival, dot(u, centroids64[j]));
    }
    confidence[i] = Math.max(0, Math.tanh((own - rival) / CONFIDENCE_MARGIN_SCALE));
  }
  return { centroids: centroids64.map((c) => Float32Array.from(c)), confidence };
}

function normalized(v: Float64Array): Float64Array {
  let s = 0;
  for (let d = 0; d < v.length; d++) s += v[d] * v[d];
  const norm = Math.sqrt(s);
  return norm > 0 ? v.map((x) => x / norm) : v.slice();
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += a[d] * b[d];
  return s;
}
