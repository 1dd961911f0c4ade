/**
 * Evaluation charts as Vega-Lite specs and standalone SVG: the DET curve, target and non-target
 * score histograms, and a 2-D embedding projection coloured by speaker. Browser-safe.
 */
import type { TopLevelSpec } from 'vega-lite';
import { VoxkitError } from '../errors.js';
import { renderSvg } from './plot.js';
import { detAxisRange, detPlotPoints, formatRatePercent, inverseNormalCdf, type DetCurve } from './det.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** Colours a scatter can tell apart; with more speakers the smallest groups share one grey. */
export const MAX_SPEAKER_COLOURS = 20;

// Tableau 20, reordered so the first ten colours are the distinct dark ones.
const SPEAKER_PALETTE = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#79706e',
  '#a0cbe8', '#ffbe7d', '#ff9d9a', '#86bcb6', '#8cd17d', '#f1ce63', '#d4a6c8', '#fabfd2', '#d7b5a6', '#d37295',
];
const OTHER_COLOUR = '#c7c7c7';
const TARGET_COLOUR = '#4e79a7';
const NON_TARGET_COLOUR = '#e15759';

/** Formats a number for a label: 3 significant digits, no trailing zeros. */
function short(value: number): string {
  return String(Number(value.toPrecision(3)));
}

export interface DetChartOptions {
  title?: string;
  widthPx?: number;
  /** Smallest distance (in normal deviates) between drawn curve points; default 0.01. */
  minStep?: number;
}

/** The DET curve on probit axes with the EER and minDCF operating points marked. */
export function detChartSpec(curve: DetCurve, options: DetChartOptions = {}): TopLevelSpec {
  const range = detAxisRange(curve);
  const low = inverseNormalCdf(range.low);
  const high = inverseNormalCdf(range.high);
  const tickValues = range.ticks.map(inverseNormalCdf);
  // Vega axis labels see only the tick's value: map each deviate back to its percentage.
  const labelExpr =
    range.ticks.map((rate, i) => `abs(datum.value - (${tickValues[i]})) < 1e-9 ? '${formatRatePercent(rate)}' : `).join('') + "''";
  const axis = { values: tickValues, labelExpr, grid: true, gridDash: [2, 2], labelOverlap: false };
  const scale = { domain: [low, high], nice: false, zero: false };
  const curvePoints = detPlotPoints(curve, range, options.minStep);
  const marked = [
    { x: inverseNormalCdf(curve.eer.falseAlarmRate), y: inverseNormalCdf(curve.eer.missRate), label: `EER ${short(curve.eer.value)}%` },
    { x: inverseNormalCdf(curve.minDcf.falseAlarmRate), y: inverseNormalCdf(curve.minDcf.missRate), label: `minDCF ${short(curve.minDcf.value)}` },
  ].map((p) => ({ ...p, x: Math.min(high, Math.max(low, p.x)), y: Math.min(high, Math.max(low, p.y)) }));
  const size = options.widthPx ?? 400;
  return {
    $schema: SCHEMA,
    title: { text: options.title ?? 'DET curve', subtitle: `${curve.targets} target and ${curve.nonTargets} non-target trials` },
    width: size,
    height: size,
    background: 'white',
    encoding: {
      x: { field: 'x', type: 'quantitative', title: 'False alarm rate (%)', scale, axis: { ...axis, labelAngle: -45, labelOverlap: false } },
      y: { field: 'y', type: 'quantitative', title: 'Miss rate (%)', scale, axis },
    },
    layer: [
      {
        data: { values: [{ x: low, y: low }, { x: high, y: high }] },
        mark: { type: 'line', color: '#bbbbbb', strokeDash: [4, 4], strokeWidth: 1, clip: true },
      },
      {
        data: { values: curvePoints },
        mark: { type: 'line', color: TARGET_COLOUR, strokeWidth: 2, clip: true, interpolate: 'linear' },
        encoding: { order: { field: 'x', type: 'quantitative' } },
      },
      {
        data: { values: marked },
        mark: { type: 'point', filled: true, size: 70, clip: true },
        encoding: {
          color: { field: 'label', type: 'nominal', title: null, scale: { range: ['#e15759', '#59a14f'] }, legend: { orient: 'top-right' } },
          shape: { field: 'label', type: 'nominal', scale: { range: ['circle', 'square'] } },
        },
      },
    ],
  };
}

export interface HistogramBin {
  group: 'target' | 'non-target';
  start: number;
  end: number;
  count: number;
  /** count / trials of its group, so a group of 100 trials and one of 100 000 compare. */
  fraction: number;
}

/**
 * Target and non-target scores counted on shared bin edges across [min, max] of all scores. The
 * default bin count follows Rice's rule (2·∛n), kept within 10–60 so a plot stays readable.
 */
export function scoreHistogramBins(scores: ArrayLike<number>, labels: ArrayLike<number>, binCount?: number): HistogramBin[] {
  if (scores.length !== labels.length) throw new VoxkitError('E_USAGE', `scoreHistogramBins: ${scores.length} scores but ${labels.length} labels`);
  if (scores.length === 0) throw new VoxkitError('E_DATA', 'scoreHistogramBins: no scores');
  let min = Infinity;
  let max = -Infinity;
  let targets = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new VoxkitError('E_DATA', `scoreHistogramBins: score ${i} is ${scores[i]}; scores must be finite`);
    if (labels[i] !== 0 && labels[i] !== 1) throw new VoxkitError('E_DATA', `scoreHistogramBins: label ${i} is ${labels[i]}; labels must be 0 or 1`);
    min = Math.min(min, scores[i]);
    max = Math.max(max, scores[i]);
    targets += labels[i];
  }
  const bins = binCount ?? Math.min(60, Math.max(10, Math.ceil(2 * Math.cbrt(scores.length))));
  if (!Number.isInteger(bins) || bins < 1) throw new VoxkitError('E_USAGE', `scoreHistogramBins: bin count must be a positive integer, got ${bins}`);
  if (max === min) {
    min -= 0.5;
    max += 0.5;
  }
  const width = (max - min) / bins;
  const counts = [new Float64Array(bins), new Float64Array(bins)];
  for (let i = 0; i < scores.length; i++) counts[labels[i]][Math.min(bins - 1, Math.floor((scores[i] - min) / width))]++;
  const totals = [scores.length - targets, targets];
  const out: HistogramBin[] = [];
  for (const label of [1, 0]) {
    if (totals[label] === 0) continue;
    for (let b = 0; b < bins; b++) {
      out.push({
        group: label === 1 ? 'target' : 'non-target',
        start: min + b * width,
        end: b === bins - 1 ? max : min + (b + 1) * width,
        count: counts[label][b],
        fraction: counts[label][b] / totals[label],
      });
    }
  }
  return out;
}

export interface ScoreHistogramOptions {
  title?: string;
  /** Draws a vertical line here (the EER threshold). */
  threshold?: number;
  thresholdLabel?: string;
  bins?: number;
  widthPx?: number;
  heightPx?: number;
}

/** Overlaid target and non-target score histograms with the decision threshold. */
export function scoreHistogramSpec(scores: ArrayLike<number>, labels: ArrayLike<number>, options: ScoreHistogramOptions = {}): TopLevelSpec {
  const bins = scoreHistogramBins(scores, labels, options.bins);
  const layers: NonNullable<Extract<TopLevelSpec, { layer: unknown }>['layer']> = [
    {
      data: { values: bins.map((b) => ({ ...b })) },
      mark: { type: 'rect', opacity: 0.55 },
      encoding: {
        x: { field: 'start', type: 'quantitative', title: 'Score', scale: { zero: false, nice: false } },
        x2: { field: 'end' },
        y: { field: 'fraction', type: 'quantitative', title: 'Fraction of trials', axis: { format: '%' } },
        color: {
          field: 'group',
          type: 'nominal',
          title: null,
          scale: { domain: ['target', 'non-target'], range: [TARGET_COLOUR, NON_TARGET_COLOUR] },
          legend: { orient: 'top-left' },
        },
      },
    },
  ];
  if (options.threshold !== undefined && Number.isFinite(options.threshold)) {
    const label = options.thresholdLabel ?? `threshold ${short(options.threshold)}`;
    const first = bins[0].start;
    const onRightHalf = options.threshold > first + (bins[bins.length - 1].end - first) / 2;
    layers.push(
      {
        data: { values: [{ threshold: options.threshold }] },
        mark: { type: 'rule', color: '#333333', strokeDash: [5, 3], strokeWidth: 1.5 },
        encoding: { x: { field: 'threshold', type: 'quantitative' } },
      },
      {
        data: { values: [{ threshold: options.threshold, label }] },
        // On the side of the line with more room, so the label stays inside the plot.
        mark: { type: 'text', align: onRightHalf ? 'right' : 'left', baseline: 'top', dx: onRightHalf ? -4 : 4, dy: 4, fontSize: 11, color: '#333333' },
        encoding: { x: { field: 'threshold', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
      },
    );
  }
  let targets = 0;
  for (let i = 0; i < labels.length; i++) targets += labels[i];
  return {
    $schema: SCHEMA,
    title: { text: options.title ?? 'Score distributions', subtitle: `${targets} target and ${labels.length - targets} non-target trials` },
    width: options.widthPx ?? 480,
    height: options.heightPx ?? 240,
    background: 'white',
    layer: layers,
  };
}

export interface ProjectionChartOptions {
  title?: string;
  /** Shown under the title (e.g. the projection method and why). */
  subtitle?: string;
  /** Axis titles: 'UMAP' gives 'UMAP 1' and 'UMAP 2'. */
  axisPrefix?: string;
  widthPx?: number;
  heightPx?: number;
}

/** The colour group of each speaker: itself, or `other (N speakers)` beyond the palette. */
export function speakerColourGroups(speakers: readonly string[]): { groupOf: Map<string, string>; groups: string[]; otherGroup?: string } {
  const counts = new Map<string, number>();
  for (const s of speakers) counts.set(s, (counts.get(s) ?? 0) + 1);
  const byName = [...counts.keys()].sort();
  if (byName.length <= MAX_SPEAKER_COLOURS) return { groupOf: new Map(byName.map((s) => [s, s])), groups: byName };
  // The speakers with the most points keep a colour: they shape the picture most.
  const coloured = new Set(
    [...byName].sort((a, b) => counts.get(b)! - counts.get(a)! || (a < b ? -1 : 1)).slice(0, MAX_SPEAKER_COLOURS - 1),
  );
  const otherGroup = `other (${byName.length - coloured.size} speakers)`;
  const groups = byName.filter((s) => coloured.has(s));
  return { groupOf: new Map(byName.map((s) => [s, coloured.has(s) ? s : otherGroup])), groups: [...groups, otherGroup], otherGroup };
}

/** A scatter of projected embeddings, one colour per speaker (legend in speaker-name order). */
export function projectionChartSpec(
  points: ReadonlyArray<readonly [number, number]>,
  speakers: readonly string[],
  options: ProjectionChartOptions = {},
): TopLevelSpec {
  if (points.length !== speakers.length) {
    throw new VoxkitError('E_USAGE', `projectionChartSpec: ${points.length} points but ${speakers.length} speaker names`);
  }
  const { groupOf, groups, otherGroup } = speakerColourGroups(speakers);
  const colours = groups.map((g, i) => (g === otherGroup ? OTHER_COLOUR : SPEAKER_PALETTE[i % SPEAKER_PALETTE.length]));
  const values = points.map(([x, y], i) => ({ x, y, speaker: speakers[i], group: groupOf.get(speakers[i])! }));
  // Grey points first, so coloured speakers are drawn on top.
  values.sort((a, b) => Number(b.group === otherGroup) - Number(a.group === otherGroup));
  const prefix = options.axisPrefix ?? 'UMAP';
  const axis = { labels: false, ticks: false, grid: false };
  const speakerCount = new Set(speakers).size;
  return {
    $schema: SCHEMA,
    title: {
      text: options.title ?? 'Embedding projection',
      subtitle: options.subtitle ?? `${points.length} utterances of ${speakerCount} speakers`,
    },
    width: options.widthPx ?? 420,
    height: options.heightPx ?? 420,
    background: 'white',
    data: { values },
    mark: { type: 'point', filled: true, size: 40, opacity: 0.85 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: `${prefix} 1`, scale: { zero: false }, axis },
      y: { field: 'y', type: 'quantitative', title: `${prefix} 2`, scale: { zero: false }, axis },
      color: {
        field: 'group',
        type: 'nominal',
        title: 'Speaker',
        scale: { domain: groups, range: colours },
        legend: { columns: groups.length > 12 ? 2 : 1, symbolLimit: MAX_SPEAKER_COLOURS },
      },
      tooltip: [{ field: 'speaker', type: 'nominal' }],
    },
  };
}

export const detChartSvg = (curve: DetCurve, options?: DetChartOptions): Promise<string> => renderSvg(detChartSpec(curve, options));

export const scoreHistogramSvg = (scores: ArrayLike<number>, labels: ArrayLike<number>, options?: ScoreHistogramOptions): Promise<string> =>
  renderSvg(scoreHistogramSpec(scores, labels, options));

export const projectionChartSvg = (
  points: ReadonlyArray<readonly [number, number]>,
  speakers: readonly string[],
  options?: ProjectionChartOptions,
): Promise<string> => renderSvg(projectionChartSpec(points, speakers, options));
