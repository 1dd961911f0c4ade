/**
 * Auto-labelling a collection of recordings: find the audio files, embed each one, cluster the
 * embeddings and write the groups (Node: reads folders and audio, writes the result files).
 *
 * Outputs in `outDir`:
 * - groups.json: every cluster with its members (path, confidence, similarity to the centroid),
 *   the files that could not be used and why, and the settings;
 * - groups.txt: a voxceleb_trainer train list (`cluster_0000 relative/path.wav`) of the confident
 *   members only, paths relative to `root`, ready for `voxkit train --train-list … --train-path root`;
 * - uncertain.txt: the other embedded files (`relative/path.wav cluster_0000 confidence`).
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { VoxkitError, formatError } from '../errors.js';
import { cosineSimilarity } from '../api/embed.js';
import { embedFile, type LoadedEncoder } from '../api/load-encoder-node.js';
import { AUDIO_EXTENSIONS, extensionOf } from '../data/train-list.js';
import { writeFileAtomic } from '../io/atomic-write-node.js';
import { clusterEmbeddings, type ClusterMethod, type ClusterOptions, type ClusterResult } from './cluster.js';

/** Default minimum confidence for a member to be labelled (tanh of a 0.55·scale margin). */
export const DEFAULT_MIN_CONFIDENCE = 0.5;

export const COLLECTION_FILES = Object.freeze({ groups: 'groups.json', trainList: 'groups.txt', uncertain: 'uncertain.txt' });

export interface CollectionFile {
  /** The path as found (input path joined with the walk). */
  path: string;
  /** Relative to the collection root, with `/`. */
  relativePath: string;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export interface FoundFiles {
  /** Common folder of all inputs; relative paths start here. */
  root: string;
  files: CollectionFile[];
  /** Files inside input folders without an audio extension (reported, not embedded). */
  notAudio: SkippedFile[];
}

/**
 * Collects the audio files under each input (folders recursively, by extension; files as given),
 * sorted by relative path. Hidden entries (`.name`) and `exclude` (the output folder) are passed
 * over; every other file without an audio extension is listed in `notAudio`.
 * @throws VoxkitError E_DATA when an input does not exist or holds no audio file
 */
export async function findCollectionFiles(inputs: readonly string[], options: { exclude?: string } = {}): Promise<FoundFiles> {
  if (inputs.length === 0) throw new VoxkitError('E_USAGE', 'no input folder or file given');
  const audio = new Set(AUDIO_EXTENSIONS);
  const excluded = options.exclude === undefined ? undefined : resolve(options.exclude);
  const found: string[] = [];
  const notAudio: SkippedFile[] = [];
  const folders: string[] = [];

  async function walk(folder: string): Promise<void> {
    if (excluded !== undefined && resolve(folder) === excluded) return;
    const entries = await readdir(folder, { withFileTypes: true }).catch((cause: unknown) => {
      throw new VoxkitError('E_DATA', `cannot read the folder (${(cause as NodeJS.ErrnoException)?.code ?? String(cause)})`, { file: folder, cause });
    });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      const info = entry.isSymbolicLink() ? await stat(path).catch(() => undefined) : entry;
      if (info?.isDirectory()) await walk(path);
      else if (audio.has(extensionOf(entry.name))) found.push(path);
      else notAudio.push({ path, reason: 'not an audio file extension' });
    }
  }

  for (const input of inputs) {
    const info = await stat(input).catch((cause: unknown) => {
      const code = (cause as NodeJS.ErrnoException)?.code;
      throw new VoxkitError('E_DATA', code === 'ENOENT' ? 'no such file or folder' : `cannot read (${code ?? String(cause)})`, { file: input, cause });
    });
    if (info.isDirectory()) {
      folders.push(resolve(input));
      await walk(input);
    } else {
      // Named explicitly: tried whatever the extension (ffmpeg may still decode it).
      folders.push(dirname(resolve(input)));
      found.push(input);
    }
  }
  const root = commonFolder(folders);
  const seen = new Set<string>();
  const files: CollectionFile[] = [];
  for (const path of found) {
    const absolute = resolve(path);
    if (seen.has(absolute)) continue;
    seen.add(absolute);
    files.push({ path, relativePath: relative(root, absolute).split(sep).join('/') });
  }
  files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
  if (files.length === 0) {
    const hint = notAudio.length ? ` (${notAudio.length} other file(s); audio extensions: ${AUDIO_EXTENSIONS.join(', ')})` : '';
    throw new VoxkitError('E_DATA', `no audio files found in ${inputs.join(', ')}${hint}`);
  }
  return { root, files, notAudio };
}

function commonFolder(folders: readonly string[]): string {
  let parts = folders[0].split(sep);
  for (const folder of folders.slice(1)) {
    const other = folder.split(sep);
    let i = 0;
    while (i < parts.length && i < other.length && parts[i] === other[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join(sep) || sep;
}

export interface ClusterCollectionOptions extends ClusterOptions {
  /** Folders and/or files. */
  inputs: readonly string[];
  /** Where groups.json, groups.txt and uncertain.txt go (created if needed). */
  outDir: string;
  /** Members below this confidence go to uncertain.txt (default DEFAULT_MIN_CONFIDENCE). */
  minConfidence?: number;
  /** The files, when already collected with findCollectionFiles (saves a second walk). */
  found?: FoundFiles;
  /** Called after each file, for progress display. */
  onFile?: (done: number, total: number, file: string, error?: VoxkitError) => void;
}

export interface CollectionMember {
  file: string;
  relativePath: string;
  confidence: number;
  /** Cosine similarity to the cluster centroid. */
  centroidSimilarity: number;
  confident: boolean;
}

export interface CollectionCluster {
  label: string;
  size: number;
  confident: number;
  meanConfidence: number;
  members: CollectionMember[];
}

export interface CollectionReport {
  root: string;
  method: ClusterMethod;
  numClusters: number;
  minConfidence: number;
  settings: { numClusters?: number; threshold?: number; minClusters?: number; maxClusters?: number; seed?: number; weights: string; model: string };
  embedded: number;
  confident: number;
  uncertain: number;
  clusters: CollectionCluster[];
  /** Files found that could not be embedded, with the reason. */
  failed: SkippedFile[];
  /** Files in the input folders without an audio extension. */
  notAudio: SkippedFile[];
  /** Confident members left out of groups.txt because their path contains white space. */
  unlistable: string[];
  outputs: { groups: string; trainList: string; uncertain: string };
}

/** `cluster_0003`: zero-padded so a sorted train list keeps cluster order. */
export function clusterLabel(index: number): string {
  return `cluster_${String(index).padStart(4, '0')}`;
}

/**
 * Embeds every audio file of the collection with `loaded`, clusters and writes the three outputs.
 * Files that fail to load or embed are reported in `failed` (and through `onFile`), not thrown.
 * @throws VoxkitError E_DATA when fewer than two files could be embedded
 */
export async function clusterCollection(loaded: LoadedEncoder, options: ClusterCollectionOptions): Promise<CollectionReport> {
  const minConfidence = options.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  if (!(minConfidence >= 0 && minConfidence <= 1)) throw new VoxkitError('E_USAGE', `minimum confidence must be in [0, 1], got ${minConfidence}`);
  const { root, files, notAudio } = options.found ?? (await findCollectionFiles(options.inputs, { exclude: options.outDir }));
  const embedded: CollectionFile[] = [];
  const embeddings: Float32Array[] = [];
  const failed: SkippedFile[] = [];
  for (const [index, file] of files.entries()) {
    try {
      const { embedding } = await embedFile(loaded, file.path);
      embedded.push(file);
      embeddings.push(embedding);
      options.onFile?.(index + 1, files.length, file.path);
    } catch (err) {
      if (!(err instanceof VoxkitError)) throw err;
      failed.push({ path: file.path, reason: formatError(err) });
      options.onFile?.(index + 1, files.length, file.path, err);
    }
  }
  if (embedded.length < 2) {
    throw new VoxkitError('E_DATA', `${embedded.length} of ${files.length} audio file(s) could be embedded; clustering needs at least two`, {
      details: { failed },
    });
  }
  const result = clusterEmbeddings(embeddings, options);
  const report = buildReport(result, embedded, embeddings, { ...options, minConfidence, root, failed, notAudio, loaded });
  await mkdir(options.outDir, { recursive: true }).catch((cause: unknown) => {
    throw new VoxkitError('E_IO', `cannot create the output folder (${(cause as NodeJS.ErrnoException)?.code ?? String(cause)})`, { file: options.outDir, cause });
  });
  await writeFileAtomic(report.outputs.groups, `${JSON.stringify(report, null, 2)}\n`, 'groups file');
  await writeFileAtomic(report.outputs.trainList, formatGroupsTrainList(report), 'train list');
  await writeFileAtomic(report.outputs.uncertain, formatUncertain(report), 'uncertain list');
  return report;
}

function buildReport(
  result: ClusterResult,
  files: readonly CollectionFile[],
  embeddings: readonly Float32Array[],
  context: ClusterCollectionOptions & { minConfidence: number; root: string; failed: SkippedFile[]; notAudio: SkippedFile[]; loaded: LoadedEncoder },
): CollectionReport {
  const clusters: CollectionCluster[] = Array.from({ length: result.numClusters }, (_, index) => ({
    label: clusterLabel(index),
    size: 0,
    confident: 0,
    meanConfidence: 0,
    members: [],
  }));
  files.forEach((file, i) => {
    const cluster = clusters[result.labels[i]];
    const confident = result.confidence[i] >= context.minConfidence;
    cluster.members.push({
      file: file.path,
      relativePath: file.relativePath,
      confidence: round(result.confidence[i]),
      centroidSimilarity: round(cosineSimilarity(embeddings[i], result.centroids[result.labels[i]])),
      confident,
    });
    cluster.size++;
    if (confident) cluster.confident++;
    cluster.meanConfidence += result.confidence[i];
  });
  for (const cluster of clusters) cluster.meanConfidence = round(cluster.meanConfidence / cluster.size);
  const confident = clusters.reduce((s, c) => s + c.confident, 0);
  const { outDir } = context;
  return {
    root: context.root,
    method: result.method,
    numClusters: result.numClusters,
    minConfidence: context.minConfidence,
    settings: {
      numClusters: context.numClusters,
      threshold: context.threshold,
      minClusters: context.minClusters,
      maxClusters: context.maxClusters,
      seed: context.seed,
      weights: context.loaded.file,
      model: context.loaded.name,
    },
    embedded: files.length,
    confident,
    uncertain: files.length - confident,
    clusters,
    failed: context.failed,
    notAudio: context.notAudio,
    unlistable: clusters.flatMap((c) => c.members.filter((m) => m.confident && /\s/.test(m.relativePath)).map((m) => m.relativePath)),
    outputs: { groups: join(outDir, COLLECTION_FILES.groups), trainList: join(outDir, COLLECTION_FILES.trainList), uncertain: join(outDir, COLLECTION_FILES.uncertain) },
  };
}

/**
 * The confident members as a voxceleb_trainer train list, by cluster then path. A list line cannot
 * hold a path with white space (the trainer splits on it): such members are left out and counted
 * in `report.unlistable`.
 */
export function formatGroupsTrainList(report: CollectionReport): string {
  const lines: string[] = [];
  for (const cluster of report.clusters) {
    for (const m of cluster.members) if (m.confident && !/\s/.test(m.relativePath)) lines.push(`${cluster.label} ${m.relativePath}\n`);
  }
  return lines.join('');
}

/** `relative/path cluster confidence` for every member below the minimum confidence. */
export function formatUncertain(report: CollectionReport): string {
  const lines: string[] = [];
  for (const cluster of report.clusters) {
    for (const m of cluster.members) if (!m.confident) lines.push(`${m.relativePath} ${cluster.label} ${m.confidence.toFixed(4)}\n`);
  }
  return lines.join('');
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

