/**
 * Spectral clustering of speaker embeddings as used for diarization. Browser-safe.
 *
 * Affinity: cosine similarity, pruned row by row to each item's p nearest neighbours and binarised,
 * then symmetrised ((A + Aᵀ)/2), as in Park et al. 2019 ("Auto-tuning spectral clustering for
 * speaker diarization using normalized maximum eigengap"). p is chosen the same way: the p that
 * minimises p / g(p), where g(p) is the largest eigengap of the Laplacian divided by its largest
 * eigenvalue (a clean gap at small p beats a blurred one). The Laplacian is the symmetric
 * normalised one, I − D^-½ A D^-½; the number of clusters is the position of the largest gap among
 * its smallest eigenvalues, bounded by [minClusters, maxClusters], unless given. Items are then
 * grouped by k-means (k-means++ seeding, several restarts, our seeded Random) on the row-normalised
 * eigenvectors of the k smallest eigenvalues (Ng, Jordan & Weiss).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { Random } from '../core/random.js';
import { agglomerativeClustering, cosineSimilarityMatrix } from './ahc.js';
import { smallestEigenspace, symmetricEigenvalues } from './symmetric-eigenvalues.js';

export interface SpectralOptions {
  /** Fixed number of clusters; estimated from the eigengap when omitted. */
  numClusters?: number;
  /** Bounds on the estimated count (default 1 and min(20, n − 1)). */
  minClusters?: number;
  maxClusters?: number;
  /** Seed of the k-means initialisation (default 0). */
  seed?: number;
  /** Neighbours kept per row; searched (p / g(p)) when omitted. */
  neighbours?: number;
  /** k-means restarts (default 10); the lowest within-cluster sum of squares wins. */
  restarts?: number;
  /** Below three items there is no spectrum to read: AHC at this cosine threshold decides (default 0.5). */
  fallbackThreshold?: number;
}

export const DEFAULT_SPECTRAL_MAX_CLUSTERS = 20;
/** The neighbour search tries at most this many values of p (each costs one O(n³) eigenvalue computation)… */
const MAX_NEIGHBOUR_CANDIDATES = 12;
/** …up to this many items; above, fewer (12·300/n, at least 3) so the search cost grows like n² rather than n³. */
const FULL_SEARCH_MAX_ITEMS = 300;
/** Largest matrix whose eigenvectors come from ml-matrix's full decomposition. */
const DIRECT_EIGENVECTORS_MAX = 300;

export interface SpectralAnalysis {
  /** Neighbours kept per row. */
  neighbours: number;
  /** Ascending eigenvalues of the normalised Laplacian. */
  eigenvalues: Float64Array;
  /** Number of clusters (given or from the largest eigengap). */
  numClusters: number;
  /** Largest eigengap over the largest eigenvalue (the NME criterion's g). */
  normalizedGap: number;
}

/** Labels (0-based) of spectral clustering of `embeddings`. */
export function spectralClustering(embeddings: readonly Float32Array[], options: SpectralOptions = {}): Int32Array {
  const n = embeddings.length;
  if (n === 0) return new Int32Array(0);
  if (options.numClusters !== undefined) {
    const k = Math.min(n, Math.max(1, Math.round(options.numClusters)));
    if (k === 1) return new Int32Array(n);
    if (k === n) return Int32Array.from({ length: n }, (_, i) => i);
  }
  if (n < 3) {
    return agglomerativeClustering(embeddings, {
      numClusters: options.numClusters,
      threshold: options.fallbackThreshold ?? 0.5,
      minClusters: options.minClusters,
      maxClusters: options.maxClusters,
    });
  }
  const similarity = cosineSimilarityMatrix(embeddings);
  const { vectors, analysis } = analyse(similarity, n, options);
  const k = analysis.numClusters;
  if (k === 1) return new Int32Array(n);
  const points = spectralEmbedding(vectors, n, k);
  return kMeans(points, k, { seed: options.seed ?? 0, restarts: options.restarts ?? 10 });
}

/** The affinity, spectrum and cluster count spectral clustering would use (for inspection and tests). */
export function analyseSpectrum(embeddings: readonly Float32Array[], options: SpectralOptions = {}): SpectralAnalysis {
  return analyse(cosineSimilarityMatrix(embeddings), embeddings.length, options).analysis;
}

function analyse(similarity: Float64Array, n: number, options: SpectralOptions): { vectors: Float64Array[]; analysis: SpectralAnalysis } {
  const maxK = Math.max(1, Math.min(n - 1, options.maxClusters ?? DEFAULT_SPECTRAL_MAX_CLUSTERS));
  const minK = Math.min(maxK, Math.max(1, options.minClusters ?? 1));
  const fixedK = options.numClusters === undefined ? undefined : Math.min(n - 1, Math.max(1, Math.round(options.numClusters)));
  const candidates = options.neighbours !== undefined ? [Math.min(n - 1, Math.max(1, Math.round(options.neighbours)))] : neighbourCandidates(n);
  const neighbourOrder = rankNeighbours(similarity, n);
  let best: { score: number; analysis: SpectralAnalysis } | undefined;
  for (const p of candidates) {
    // Only eigenvalues here; the eigenvectors are computed once, for the winner.
    const eigenvalues = symmetricEigenvalues(normalizedLaplacian(prunedAffinity(neighbourOrder, n, p), n), n);
    const { k, gap } = countFromEigengap(eigenvalues, fixedK, minK, maxK);
    const normalizedGap = gap / Math.max(eigenvalues[n - 1], 1e-10);
    const score = normalizedGap > 0 ? p / normalizedGap : Infinity;
    if (best === undefined || score < best.score) best = { score, analysis: { neighbours: p, eigenvalues, numClusters: k, normalizedGap } };
  }
  const { analysis } = best!;
  const laplacian = normalizedLaplacian(prunedAffinity(neighbourOrder, n, analysis.neighbours), n);
  return { vectors: smallestEigenvectors(laplacian, n, analysis.numClusters), analysis };
}

/**
 * Eigenvectors of the k smallest eigenvalues (as k columns): ml-matrix's full decomposition for
 * small matrices; above DIRECT_EIGENVECTORS_MAX items, block inverse iteration, whose O(n²k) steps
 * beat a full O(n³) decomposition with vectors many times over (k-means only needs the subspace).
 */
export function smallestEigenvectors(laplacian: Float64Array, n: number, k: number): Float64Array[] {
  if (n > DIRECT_EIGENVECTORS_MAX) return smallestEigenspace(laplacian, n, k);
  const evd = new EigenvalueDecomposition(Matrix.from1DArray(n, n, laplacian), { assumeSymmetric: true });
  const order = evd.realEigenvalues.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value || a.index - b.index);
  return order.slice(0, k).map((o) => Float64Array.from(evd.eigenvectorMatrix.getColumn(o.index)));
}

/** The count with the largest gap λ[k] − λ[k−1] (0-based, ascending) in [minK, maxK], or the fixed one. */
function countFromEigengap(eigenvalues: Float64Array, fixedK: number | undefined, minK: number, maxK: number): { k: number; gap: number } {
  if (fixedK !== undefined) return { k: fixedK, gap: eigenvalues[fixedK] - eigenvalues[fixedK - 1] };
  let k = minK;
  let gap = -Infinity;
  for (let c = minK; c <= maxK; c++) {
    const g = eigenvalues[c] - eigenvalues[c - 1];
    if (g > gap) {
      gap = g;
      k = c;
    }
  }
  return { k, gap };
}

/** p values to try: evenly spaced from 2 up to a quarter of the items (at least 2). */
function neighbourCandidates(n: number): number[] {
  const high = Math.max(2, Math.min(n - 1, Math.floor(n / 4)));
  const low = Math.min(2, high);
  const budget = n <= FULL_SEARCH_MAX_ITEMS ? MAX_NEIGHBOUR_CANDIDATES : Math.max(3, Math.round((MAX_NEIGHBOUR_CANDIDATES * FULL_SEARCH_MAX_ITEMS) / n));
  const count = Math.min(budget, high - low + 1);
  const values = new Set<number>();
  for (let i = 0; i < count; i++) values.add(Math.round(low + ((high - low) * i) / Math.max(1, count - 1)));
  return [...values];
}

/** For each row, the other items from most to least similar (ties by index, so the graph is stable). */
function rankNeighbours(similarity: Float64Array, n: number): Int32Array[] {
  return Array.from({ length: n }, (_, i) => {
    const others: number[] = [];
    for (let j = 0; j < n; j++) if (j !== i) others.push(j);
    others.sort((a, b) => similarity[i * n + b] - similarity[i * n + a] || a - b);
    return Int32Array.from(others);
  });
}

/** Each row keeps its p most similar other items as 1, the rest 0; then (A + Aᵀ)/2. */
function prunedAffinity(neighbourOrder: readonly Int32Array[], n: number, p: number): Float64Array {
  const affinity = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const order = neighbourOrder[i];
    for (let r = 0; r < p; r++) {
      const j = order[r];
      affinity[i * n + j] += 0.5;
      affinity[j * n + i] += 0.5;
    }
  }
  return affinity;
}

/** I − D^-½ A D^-½, row-major. */
function normalizedLaplacian(affinity: Float64Array, n: number): Float64Array {
  const scale = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let degree = 0;
    for (let j = 0; j < n; j++) degree += affinity[i * n + j];
    scale[i] = degree > 0 ? 1 / Math.sqrt(degree) : 0;
  }
  const laplacian = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) laplacian[i * n + j] = (i === j ? 1 : 0) - scale[i] * affinity[i * n + j] * scale[j];
  }
  return laplacian;
}

/** Rows of the k eigenvectors, each scaled to unit length. */
function spectralEmbedding(vectors: readonly Float64Array[], n: number, k: number): Float64Array[] {
  return Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(k);
    let s = 0;
    for (let c = 0; c < k; c++) {
      row[c] = vectors[c][i];
      s += row[c] * row[c];
    }
    const norm = Math.sqrt(s);
    if (norm > 0) for (let c = 0; c < k; c++) row[c] /= norm;
    return row;
  });
}

export interface KMeansOptions {
  seed: number;
  restarts: number;
  maxIterations?: number;
}

/** Lloyd's k-means with k-means++ seeding; the restart with the lowest inertia wins. */
export function kMeans(points: readonly Float64Array[], k: number, options: KMeansOptions): Int32Array {
  const random = new Random(options.seed);
  let bestLabels: Int32Array = new Int32Array(points.length);
  let bestInertia = Infinity;
  for (let r = 0; r < Math.max(1, options.restarts); r++) {
    const { labels, inertia } = lloyd(points, kMeansPlusPlus(points, k, random), options.maxIterations ?? 100);
    if (inertia < bestInertia - 1e-12) {
      bestInertia = inertia;
      bestLabels = labels;
    }
  }
  return bestLabels;
}

function squaredDistance(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) {
    const x = a[d] - b[d];
    s += x * x;
  }
  return s;
}

function kMeansPlusPlus(points: readonly Float64Array[], k: number, random: Random): Float64Array[] {
  const n = points.length;
  const centres = [points[random.int(n)].slice()];
  const nearest = Float64Array.from(points, (p) => squaredDistance(p, centres[0]));
  while (centres.length < k) {
    let total = 0;
    for (let i = 0; i < n; i++) total += nearest[i];
    let chosen = random.int(n);
    if (total > 0) {
      let target = random.uniform() * total;
      for (let i = 0; i < n; i++) {
        target -= nearest[i];
        if (target < 0) {
          chosen = i;
          break;
        }
      }
    }
    const centre = points[chosen].slice();
    centres.push(centre);
    for (let i = 0; i < n; i++) nearest[i] = Math.min(nearest[i], squaredDistance(points[i], centre));
  }
  return centres;
}

function lloyd(points: readonly Float64Array[], centres: Float64Array[], maxIterations: number): { labels: Int32Array; inertia: number } {
  const n = points.length;
  const k = centres.length;
  const dim = points[0].length;
  const labels = new Int32Array(n).fill(-1);
  let inertia = Infinity;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    let changed = false;
    inertia = 0;
    const distances = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestDistance = Infinity;
      for (let c = 0; c < k; c++) {
        const d = squaredDistance(points[i], centres[c]);
        if (d < bestDistance) {
          bestDistance = d;
          best = c;
        }
      }
      distances[i] = bestDistance;
      inertia += bestDistance;
      if (labels[i] !== best) {
        labels[i] = best;
        changed = true;
      }
    }
    if (!changed) break;
    const sums = Array.from({ length: k }, () => new Float64Array(dim));
    const counts = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      counts[labels[i]]++;
      const s = sums[labels[i]];
      for (let d = 0; d < dim; d++) s[d] += points[i][d];
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] > 0) {
        for (let d = 0; d < dim; d++) centres[c][d] = sums[c][d] / counts[c];
        continue;
      }
      // An emptied cluster restarts at the point farthest from its centre.
      let far = 0;
      for (let i = 1; i < n; i++) if (distances[i] > distances[far]) far = i;
      centres[c] = points[far].slice();
      distances[far] = 0;
    }
  }
  return { labels, inertia };
}
