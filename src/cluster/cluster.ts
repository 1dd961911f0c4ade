/**
 * Clustering speaker embeddings: one entry point over agglomerative (AHC) and spectral clustering,
 * with clusters numbered by size and a per-item confidence. Browser-safe.
 *
 * Confidence rule: for item i in cluster c, let `own` be the median cosine similarity between i and
 * the OTHER members of c, and `rival` the highest median similarity between i and the members of
 * any other cluster (0 when there is no other cluster: unrelated voices score about 0). With the
 * margin m = own − rival,
 *
 *     confidence = max(0, tanh(m / scale)),  scale = max(CONFIDENCE_MARGIN_SCALE, CONFIDENCE_RELATIVE_SCALE · median m)
 *
 * (the median over all items of non-singleton clusters). So an item midway between two clusters
 * (m ≈ 0) or nearer another cluster (m < 0) gets 0; a margin of one scale gives 0.76, two 0.96.
 * The scale is absolute (0.1 in cosine) for weakly separated collections and grows with the
 * typical margin when clusters are far apart, where a 0.1 margin is small by comparison. Medians
 * rather than centroids, so a few ambiguous items that ended up together cannot vouch for each
 * other. Members of singleton clusters have no one to agree with and get 0.
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
 * Default AHC stop, a cosine similarity. NOT calibrated: where same- and different-speaker scores
 * lie depends on the model (the demo ResNetSE34L puts many different-speaker pairs above 0.8 and
 * clusters new voices best near 0.8). Calibrate on labelled data (the EER threshold of `voxkit
 * eval`) or give the number of clusters.
 */
export const DEFAULT_AHC_THRESHOLD = 0.5;

/** Smallest cosine margin that maps to confidence tanh(1) ≈ 0.76. */
export const CONFIDENCE_MARGIN_SCALE = 0.1;
/** Share of the collection's median margin that maps to tanh(1), when larger than CONFIDENCE_MARGIN_SCALE. */
export const CONFIDENCE_RELATIVE_SCALE = 0.5;

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
  const dim = units[0]?.length ?? 0;
  const sums = Array.from({ length: k }, () => new Float64Array(dim));
  units.forEach((u, i) => {
    const s = sums[labels[i]];
    for (let d = 0; d < dim; d++) s[d] += u[d];
  });
  const margins = clusterMargins(units, labels, k);
  const defined = Float64Array.from([...margins].filter((m) => !Number.isNaN(m)));
  const scale = Math.max(CONFIDENCE_MARGIN_SCALE, defined.length ? CONFIDENCE_RELATIVE_SCALE * medianOf(defined) : 0);
  const confidence = margins.map((margin) => (Number.isNaN(margin) ? 0 : Math.max(0, Math.tanh(margin / scale))));
  return { centroids: sums.map((s) => Float32Array.from(normalized(s))), confidence };
}

/**
 * Per item: median similarity to the other members of its cluster minus the highest median
 * similarity to another cluster's members (the `own − rival` of the confidence rule); NaN for
 * members of singleton clusters. `units` are L2-normalised embeddings.
 */
export function clusterMargins(units: readonly ArrayLike<number>[], labels: Int32Array, numClusters: number): Float64Array {
  const n = units.length;
  const members: number[][] = Array.from({ length: numClusters }, () => []);
  for (let i = 0; i < n; i++) members[labels[i]].push(i);
  const margins = new Float64Array(n).fill(NaN);
  const scratch = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (members[c].length < 2) continue;
    const u = units[i];
    let own = 0;
    let rival = numClusters > 1 ? -Infinity : 0;
    for (let j = 0; j < numClusters; j++) {
      let m = 0;
      for (const other of members[j]) if (other !== i) scratch[m++] = dot(u, units[other]);
      const median = medianOf(scratch.subarray(0, m));
      if (j === c) own = median;
      else rival = Math.max(rival, median);
    }
    margins[i] = own - rival;
  }
  return margins;
}

function medianOf(values: Float64Array): number {
  values.sort();
  const m = values.length;
  return m % 2 === 1 ? values[(m - 1) / 2] : 0.5 * (values[m / 2 - 1] + values[m / 2]);
}

function normalized(v: Float64Array): Float64Array {
  let s = 0;
  for (let d = 0; d < v.length; d++) s += v[d] * v[d];
  const norm = Math.sqrt(s);
  return norm > 0 ? v.map((x) => x / norm) : v.slice();
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += a[d] * b[d];
  return s;
}
