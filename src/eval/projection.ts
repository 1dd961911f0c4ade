/**
 * 2-D projections of speaker embeddings for plots: UMAP (umap-js) on cosine distances between
 * L2-normalised vectors, as RTVC draws its training projections, with PCA for sets too small for a
 * neighbour graph. Browser-safe; a seed fixes the picture.
 */
import { UMAP } from 'umap-js';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { VoxkitError } from '../errors.js';
import { Random } from '../core/random.js';

export type ProjectionMethod = 'umap' | 'pca';

export interface ProjectionOptions {
  /** 'auto' (default): UMAP, or PCA when there are fewer than `MIN_UMAP_POINTS` vectors. */
  method?: ProjectionMethod | 'auto';
  /** Seeds UMAP's neighbour search, initial layout and negative sampling (default 0). */
  seed?: number;
  /** UMAP neighbourhood size (default 15), clamped below the number of vectors. */
  nNeighbors?: number;
  /** UMAP minimum distance between projected points (default 0.1, umap-learn's default). */
  minDist?: number;
  /** UMAP optimisation epochs (default: umap-js's, 500 below 10 000 points). */
  nEpochs?: number;
}

export interface Projection {
  /** One [x, y] per input vector, in input order. */
  points: Array<[number, number]>;
  method: ProjectionMethod;
  /** Why the method differs from the one asked for (e.g. too few points for UMAP). */
  note?: string;
  /** The UMAP neighbourhood size used (after clamping), for UMAP projections. */
  nNeighbors?: number;
}

/** Below this many vectors the k-NN graph UMAP builds says little; PCA shows them faithfully. */
export const MIN_UMAP_POINTS = 10;

/** Projects embeddings to 2-D. @throws VoxkitError E_DATA for no vectors, mixed sizes or non-finite values */
export function projectEmbeddings(vectors: readonly Float32Array[], options: ProjectionOptions = {}): Projection {
  const normalised = normaliseRows(vectors);
  const asked = options.method ?? 'auto';
  if (asked === 'pca') return { points: pcaProjection(normalised), method: 'pca' };
  if (normalised.length < MIN_UMAP_POINTS) {
    return {
      points: pcaProjection(normalised),
      method: 'pca',
      note: `PCA instead of UMAP: ${normalised.length} point(s) are too few for a neighbour graph (UMAP needs ${MIN_UMAP_POINTS})`,
    };
  }
  const nNeighbors = Math.max(2, Math.min(options.nNeighbors ?? 15, normalised.length - 1));
  const random = new Random(options.seed ?? 0);
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors,
    minDist: options.minDist ?? 0.1,
    ...(options.nEpochs !== undefined ? { nEpochs: options.nEpochs } : {}),
    distanceFn: cosineDistanceOfUnitVectors,
    random: () => random.uniform(),
  });
  const embedding = umap.fit(normalised);
  const points = embedding.map((p): [number, number] => [p[0], p[1]]);
  const note = nNeighbors !== (options.nNeighbors ?? 15) ? `nNeighbors clamped to ${nNeighbors} for ${normalised.length} points` : undefined;
  return { points, method: 'umap', nNeighbors, ...(note ? { note } : {}) };
}

/** 1 − cos for rows already scaled to unit length (a zero row is at distance 1 from everything). */
function cosineDistanceOfUnitVectors(a: number[], b: number[]): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return Math.max(0, 1 - dot);
}

function normaliseRows(vectors: readonly Float32Array[]): number[][] {
  if (vectors.length === 0) throw new VoxkitError('E_DATA', 'projectEmbeddings: no embeddings to project');
  const dim = vectors[0].length;
  return vectors.map((v, i) => {
    if (v.length !== dim) throw new VoxkitError('E_DATA', `projectEmbeddings: embedding ${i} has ${v.length} values, embedding 0 has ${dim}`);
    let sum = 0;
    for (let j = 0; j < v.length; j++) {
      if (!Number.isFinite(v[j])) throw new VoxkitError('E_DATA', `projectEmbeddings: embedding ${i} has a non-finite value`);
      sum += v[j] * v[j];
    }
    const norm = Math.sqrt(sum);
    return Array.from(v, (x) => (norm > 0 ? x / norm : 0));
  });
}

/** The first two principal components, each signed so its largest loading is positive (stable). */
function pcaProjection(rows: number[][]): Array<[number, number]> {
  const n = rows.length;
  const dim = rows[0].length;
  const centred = new Matrix(rows);
  for (let j = 0; j < dim; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += rows[i][j];
    mean /= n;
    for (let i = 0; i < n; i++) centred.set(i, j, rows[i][j] - mean);
  }
  if (n < 2) return rows.map(() => [0, 0]);
  const svd = new SingularValueDecomposition(centred, { computeLeftSingularVectors: false, autoTranspose: true });
  const axes = svd.rightSingularVectors;
  const components = Math.min(2, axes.columns);
  const points: Array<[number, number]> = rows.map(() => [0, 0]);
  for (let c = 0; c < components; c++) {
    let largest = 0;
    for (let j = 0; j < dim; j++) if (Math.abs(axes.get(j, c)) > Math.abs(largest)) largest = axes.get(j, c);
    const sign = largest < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) {
      let projection = 0;
      for (let j = 0; j < dim; j++) projection += centred.get(i, j) * axes.get(j, c);
      points[i][c] = sign * projection;
    }
  }
  return points;
}

/**
 * Indices of at most `maxPerGroup` items of each group (a seeded sample, in input order): keeps a
 * projection of many utterances readable and its UMAP run short, without dropping any speaker.
 */
export function sampleIndicesPerGroup(groups: readonly string[], maxPerGroup: number, seed = 0): number[] {
  const byGroup = new Map<string, number[]>();
  groups.forEach((group, i) => {
    const indices = byGroup.get(group);
    if (indices) indices.push(i);
    else byGroup.set(group, [i]);
  });
  const random = new Random(seed);
  const kept: number[] = [];
  for (const indices of byGroup.values()) kept.push(...(indices.length <= maxPerGroup ? indices : random.shuffle([...indices]).slice(0, maxPerGroup)));
  return kept.sort((a, b) => a - b);
}
