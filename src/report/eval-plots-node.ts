/** Writing the evaluation charts of a set of trials to a folder (`voxkit eval --plots DIR`). */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { VoxkitError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write-node.js';
import { projectEmbeddings, sampleIndicesPerGroup } from '../eval/projection.js';
import type { VerificationMetricOptions } from '../eval/metrics.js';
import { detCurve } from './det.js';
import { detChartSvg, projectionChartSvg, scoreHistogramSvg } from './eval-plots.js';
import { svgToPng } from './png-node.js';

export interface EvalPlotInput {
  scores: Float64Array;
  labels: Uint8Array;
  /** Embeddings to project (one per utterance) and their speakers. */
  embeddings?: { vectors: Float32Array[]; speakers: string[] };
  /** Prefixed to each chart's title (e.g. the model or trial list). */
  title?: string;
  /** Default ['svg']. */
  formats?: ('svg' | 'png')[];
  /** Seeds the projection and its sample (default 0). */
  seed?: number;
  /** Detection cost parameters of the minDCF point (default pTarget 0.05, cMiss 1, cFa 1, as `verificationMetrics`). */
  dcf?: VerificationMetricOptions;
  /**
   * At most this many embeddings are projected (default 2000): beyond it, an equal seeded share per
   * speaker. UMAP takes about 10 s for 2000 points on a busy machine and grows faster than linearly.
   */
  maxProjectionPoints?: number;
}

export const DEFAULT_MAX_PROJECTION_POINTS = 2000;

/**
 * Writes det.svg, scores.svg and, with embeddings, projection.svg (and a .png of each when asked)
 * into `dir`, creating it. Returns the paths written.
 * @throws VoxkitError E_DATA for trials without both classes or non-finite scores, E_IO when a file cannot be written
 */
export async function writeEvalPlots(dir: string, input: EvalPlotInput): Promise<string[]> {
  const formats = input.formats ?? ['svg'];
  if (formats.length === 0) throw new VoxkitError('E_USAGE', 'writeEvalPlots: no output format');
  if (input.embeddings && input.embeddings.vectors.length !== input.embeddings.speakers.length) {
    throw new VoxkitError('E_USAGE', `writeEvalPlots: ${input.embeddings.vectors.length} embeddings but ${input.embeddings.speakers.length} speaker names`);
  }
  const titled = (what: string) => (input.title ? `${input.title}: ${what}` : what);
  const curve = detCurve(input.scores, input.labels, input.dcf);
  const charts: Array<[name: string, svg: string]> = [
    ['det', await detChartSvg(curve, { title: titled('DET curve') })],
    [
      'scores',
      await scoreHistogramSvg(input.scores, input.labels, {
        title: titled('Score distributions'),
        threshold: curve.eer.threshold,
        thresholdLabel: `EER threshold ${Number(curve.eer.threshold.toPrecision(3))}`,
      }),
    ],
  ];
  if (input.embeddings && input.embeddings.vectors.length > 0) {
    const { vectors, speakers } = input.embeddings;
    const maxPoints = input.maxProjectionPoints ?? DEFAULT_MAX_PROJECTION_POINTS;
    const speakerCount = new Set(speakers).size;
    const kept = vectors.length <= maxPoints ? undefined : sampleIndicesPerGroup(speakers, Math.max(1, Math.floor(maxPoints / speakerCount)), input.seed);
    const projection = projectEmbeddings(kept ? kept.map((i) => vectors[i]) : vectors, { seed: input.seed });
    const keptSpeakers = kept ? kept.map((i) => speakers[i]) : speakers;
    const options = projectionChartOptions(projection, titled);
    if (kept) {
      const sampled = `${kept.length} of ${vectors.length} utterances (a sample per speaker) of ${speakerCount} speakers`;
      options.subtitle = projection.note ? `${sampled}; ${projection.note}` : sampled;
    }
    charts.push(['projection', await projectionChartSvg(projection.points, keptSpeakers, options)]);
  }

  await mkdir(dir, { recursive: true }).catch((cause: unknown) => {
    throw new VoxkitError('E_IO', `${dir}: cannot create the plot folder (${(cause as NodeJS.ErrnoException)?.code ?? String(cause)})`, { file: dir, cause });
  });
  const written: string[] = [];
  for (const [name, svg] of charts) {
    if (formats.includes('svg')) {
      const path = join(dir, `${name}.svg`);
      await writeFileAtomic(path, svg, 'chart');
      written.push(path);
    }
    if (formats.includes('png')) {
      const path = join(dir, `${name}.png`);
      await writeFileAtomic(path, svgToPng(svg), 'chart');
      written.push(path);
    }
  }
  return written;
}

/** Title, axes and subtitle of a projection chart (shared with `voxkit project`). */
export function projectionChartOptions(
  projection: { method: 'umap' | 'pca'; note?: string },
  titled: (what: string) => string = (what) => what,
): { title: string; axisPrefix: string; subtitle?: string } {
  const axisPrefix = projection.method === 'umap' ? 'UMAP' : 'PC';
  return { title: titled(`Embeddings (${projection.method.toUpperCase()})`), axisPrefix, ...(projection.note ? { subtitle: projection.note } : {}) };
}
