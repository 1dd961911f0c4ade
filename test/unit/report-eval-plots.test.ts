/**
 * Evaluation plots: the probit transform, DET curves, score histograms, the embedding projection,
 * PNG rendering, writeEvalPlots and `voxkit project`. Charts are checked by structure (marks, point
 * counts, titles), never by pixels.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../../src/core/random.js';
import { VoxkitError } from '../../src/errors.js';
import { computeEer, rocCurve, verificationMetrics } from '../../src/eval/metrics.js';
import { MIN_UMAP_POINTS, projectEmbeddings, sampleIndicesPerGroup } from '../../src/eval/projection.js';
import { detAxisRange, detCurve, detPlotPoints, formatRatePercent, inverseNormalCdf } from '../../src/report/det.js';
import {
  MAX_SPEAKER_COLOURS,
  detChartSvg,
  projectionChartSpec,
  projectionChartSvg,
  scoreHistogramBins,
  scoreHistogramSvg,
  speakerColourGroups,
} from '../../src/report/eval-plots.js';
import { canRenderText, svgToPng } from '../../src/report/png-node.js';
import { writeEvalPlots } from '../../src/report/eval-plots-node.js';
import { main } from '../../src/cli/main.js';
import { synthesizeCorpus } from '../../src/synth/corpus-node.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

const MODEL = join(REPO_ROOT, 'assets/models/demo-resnetse34l.model');
const QUANTILES = JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/plots/normal-quantiles.json'), 'utf8')) as {
  quantiles: Array<[p: number, z: number]>;
};

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'voxkit-plots-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Gaussian scores: targets centred at `separation`, non-targets at 0. */
function trials(targets: number, nonTargets: number, separation: number, seed: number): { scores: Float64Array; labels: Uint8Array } {
  const random = new Random(seed);
  const n = targets + nonTargets;
  const scores = new Float64Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i < targets ? 1 : 0;
    scores[i] = labels[i] * separation + random.normal();
  }
  return { scores, labels };
}

/** Well-separated Gaussian blobs in `dim` dimensions. */
function blobs(clusters: number, perCluster: number, dim: number, spread: number, seed: number) {
  const random = new Random(seed);
  const vectors: Float32Array[] = [];
  const speakers: string[] = [];
  for (let c = 0; c < clusters; c++) {
    const centre = Float32Array.from({ length: dim }, () => random.normal());
    for (let k = 0; k < perCluster; k++) {
      vectors.push(centre.map((x) => x + spread * random.normal()));
      speakers.push(`spk${String(c).padStart(2, '0')}`);
    }
  }
  return { vectors, speakers };
}

/** Tags open and close in order (a cheap well-formedness check: no XML parser is installed). */
function assertWellFormedSvg(svg: string): void {
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name);
  }
  assert.deepEqual(stack, []);
}

/** The inner SVG of the first `<g class="mark-… …">` group whose class contains `className`. */
function markGroup(svg: string, className: string): string {
  const start = svg.indexOf(`${className}"`);
  assert.ok(start >= 0, `no ${className} group`);
  const open = svg.lastIndexOf('<g ', start);
  let depth = 0;
  const tags = /<(\/?)g\b[^>]*>/g;
  tags.lastIndex = open;
  for (let m = tags.exec(svg); m; m = tags.exec(svg)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) return svg.slice(open, m.index);
  }
  throw new Error('unbalanced group');
}

const countOf = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;
const textsOf = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

test('inverseNormalCdf matches independently computed quantiles and inverts the normal CDF', () => {
  for (const [p, z] of QUANTILES.quantiles) {
    assert.ok(Math.abs(inverseNormalCdf(p) - z) <= 4e-15 * Math.max(1, Math.abs(z)), `Φ⁻¹(${p}) = ${inverseNormalCdf(p)}, expected ${z}`);
  }
  // Φ(z) − ½ as the integral of the density from 0 (composite Simpson, 2000 intervals), for points
  // in each region of the approximation.
  const density = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  for (const p of [0.03, 0.2, 0.5, 0.7, 0.93, 0.999, 0.99999]) {
    const z = inverseNormalCdf(p);
    const intervals = 2000;
    const h = z / intervals;
    let sum = density(0) + density(z);
    for (let i = 1; i < intervals; i++) sum += (i % 2 ? 4 : 2) * density(i * h);
    assert.ok(Math.abs((sum * h) / 3 - (p - 0.5)) < 1e-12, `Φ(Φ⁻¹(${p})) ≠ ${p}`);
  }
  for (const p of [1e-8, 0.01, 0.3]) assert.ok(Math.abs(inverseNormalCdf(p) + inverseNormalCdf(1 - p)) < 1e-9);
  assert.equal(inverseNormalCdf(0), -Infinity);
  assert.equal(inverseNormalCdf(1), Infinity);
  assert.ok(Number.isNaN(inverseNormalCdf(-0.1)) && Number.isNaN(inverseNormalCdf(1.5)) && Number.isNaN(inverseNormalCdf(NaN)));
  assert.deepEqual([0.001, 0.002, 0.005, 0.4].map(formatRatePercent), ['0.1', '0.2', '0.5', '40']);
});

test('detCurve: monotone, the full ROC as miss rates, EER and minDCF points consistent with the metrics', () => {
  const { scores, labels } = trials(300, 2000, 2, 7);
  // Ties, so some thresholds accept several trials at once.
  for (let i = 0; i < scores.length; i += 9) scores[i] = Math.round(scores[i] * 4) / 4;
  const curve = detCurve(scores, labels);
  const roc = rocCurve(scores, labels, { dropIntermediate: false });
  assert.equal(curve.points.length, roc.fpr.length);
  assert.equal(curve.targets, 300);
  assert.equal(curve.nonTargets, 2000);
  curve.points.forEach((p, i) => {
    assert.equal(p.falseAlarmRate, roc.fpr[i]);
    assert.equal(p.missRate, 1 - roc.tpr[i]);
    if (i > 0) {
      assert.ok(p.falseAlarmRate >= curve.points[i - 1].falseAlarmRate);
      assert.ok(p.missRate <= curve.points[i - 1].missRate);
    }
  });
  assert.deepEqual([curve.points[0].falseAlarmRate, curve.points[0].missRate], [0, 1]);
  assert.deepEqual([curve.points.at(-1)!.falseAlarmRate, curve.points.at(-1)!.missRate], [1, 0]);

  const metrics = verificationMetrics(scores, labels);
  assert.equal(curve.eer.value, computeEer(scores, labels));
  assert.equal(curve.eer.threshold, metrics.eerThreshold);
  assert.equal(Math.max(curve.eer.falseAlarmRate, curve.eer.missRate) * 100, curve.eer.value);
  // The detection cost at the marked point is the minimum the metrics report (p = 0.05, costs 1).
  const cost = (0.05 * curve.minDcf.missRate + 0.95 * curve.minDcf.falseAlarmRate) / 0.05;
  assert.ok(Math.abs(cost - metrics.minDcf) < 1e-12);
  assert.equal(curve.minDcf.value, metrics.minDcf);

  assert.throws(() => detCurve([0.1, 0.2], [1, 1]), (e: unknown) => e instanceof VoxkitError && e.code === 'E_DATA');
});

test('DET axes: standard ticks, widened for poor systems; thinning keeps the ends and bounds the step', () => {
  const good = detCurve(...(Object.values(trials(200, 800, 3, 1)) as [Float64Array, Uint8Array]));
  const range = detAxisRange(good);
  assert.deepEqual(range.ticks.map(formatRatePercent), ['0.1', '0.2', '0.5', '1', '2', '5', '10', '20', '40']);
  const poor = detCurve(...(Object.values(trials(200, 800, 0.2, 2)) as [Float64Array, Uint8Array]));
  assert.ok(detAxisRange(poor).high > 0.4 && detAxisRange(poor).high >= (poor.eer.value / 100));
  const big = detCurve(...(Object.values(trials(5000, 20000, 2, 3)) as [Float64Array, Uint8Array]));
  assert.ok(detAxisRange(big).low < 0.001);

  const points = detPlotPoints(big, detAxisRange(big), 0.05);
  assert.ok(points.length < big.points.length / 10, `${points.length} of ${big.points.length} points kept`);
  for (let i = 1; i < points.length - 1; i++) {
    assert.ok(Math.hypot(points[i].x - points[i - 1].x, points[i].y - points[i - 1].y) >= 0.05);
  }
  const inner = big.points.filter((p) => p.falseAlarmRate > 0.01 && p.falseAlarmRate < 0.3 && p.missRate > 0.01 && p.missRate < 0.3);
  // Every skipped point lies within the step of a kept one.
  for (const p of inner) {
    const x = inverseNormalCdf(p.falseAlarmRate);
    const y = inverseNormalCdf(p.missRate);
    assert.ok(points.some((q) => Math.hypot(q.x - x, q.y - y) < 0.05 + 1e-12));
  }
});

test('DET chart SVG: well-formed, one curve with every thinned point, axis titles, tick labels, marked points', async () => {
  const { scores, labels } = trials(150, 900, 2, 4);
  const curve = detCurve(scores, labels);
  const svg = await detChartSvg(curve, { title: 'unit DET' });
  assertWellFormedSvg(svg);
  const line = markGroup(svg, 'layer_1_marks');
  assert.equal(countOf(line, /<path/g), 1);
  const d = /\sd="([^"]+)"/.exec(line)![1];
  const drawn = detPlotPoints(curve, detAxisRange(curve));
  assert.equal(countOf(d, /[ML]/g), drawn.length);
  assert.equal(countOf(markGroup(svg, 'layer_2_marks'), /<path/g), 2, 'EER and minDCF points');
  const texts = textsOf(svg);
  for (const label of ['unit DET', 'False alarm rate (%)', 'Miss rate (%)', '0.1', '1', '10', '40']) assert.ok(texts.includes(label), `no "${label}"`);
  assert.ok(texts.some((t) => t.startsWith('EER ')) && texts.some((t) => t.startsWith('minDCF ')));
});

test('score histograms: shared bins, fractions per class, two overlaid series and the threshold line', async () => {
  const { scores, labels } = trials(120, 600, 2, 5);
  const bins = scoreHistogramBins(scores, labels, 25);
  assert.equal(bins.length, 50);
  for (const group of ['target', 'non-target'] as const) {
    const own = bins.filter((b) => b.group === group);
    assert.equal(own.reduce((s, b) => s + b.count, 0), group === 'target' ? 120 : 600);
    assert.ok(Math.abs(own.reduce((s, b) => s + b.fraction, 0) - 1) < 1e-12);
  }
  assert.deepEqual(
    bins.filter((b) => b.group === 'target').map((b) => b.start),
    bins.filter((b) => b.group === 'non-target').map((b) => b.start),
  );
  const svg = await scoreHistogramSvg(scores, labels, { bins: 25, threshold: 1, thresholdLabel: 'EER threshold 1' });
  assertWellFormedSvg(svg);
  assert.equal(countOf(markGroup(svg, 'layer_0_marks'), /<path/g), 50);
  assert.equal(countOf(markGroup(svg, 'layer_1_marks'), /<line|<path/g), 1);
  const texts = textsOf(svg);
  for (const label of ['target', 'non-target', 'Score', 'Fraction of trials', 'EER threshold 1']) assert.ok(texts.includes(label), `no "${label}"`);
  assert.throws(() => scoreHistogramBins([1, NaN], [1, 0]), (e: unknown) => e instanceof VoxkitError && e.code === 'E_DATA');
});

test('projection: deterministic for a seed, separates well-separated blobs, PCA for tiny sets', () => {
  const { vectors, speakers } = blobs(5, 16, 32, 0.25, 9);
  const first = projectEmbeddings(vectors, { seed: 3, nEpochs: 200 });
  const again = projectEmbeddings(vectors, { seed: 3, nEpochs: 200 });
  const other = projectEmbeddings(vectors, { seed: 4, nEpochs: 200 });
  assert.equal(first.method, 'umap');
  assert.deepEqual(first.points, again.points);
  assert.notDeepEqual(first.points, other.points);
  // Nearest neighbour in 2-D carries the same label.
  let agree = 0;
  first.points.forEach(([x, y], i) => {
    let best = -1;
    let bestDistance = Infinity;
    first.points.forEach(([u, v], j) => {
      const distance = Math.hypot(x - u, y - v);
      if (j !== i && distance < bestDistance) [best, bestDistance] = [j, distance];
    });
    agree += Number(speakers[best] === speakers[i]);
  });
  assert.ok(agree / vectors.length >= 0.9, `nearest-neighbour agreement ${agree}/${vectors.length}`);

  const tiny = projectEmbeddings(vectors.slice(0, MIN_UMAP_POINTS - 1), { seed: 1 });
  assert.equal(tiny.method, 'pca');
  assert.match(tiny.note ?? '', /PCA instead of UMAP/);
  assert.equal(tiny.points.length, MIN_UMAP_POINTS - 1);
  // PCA of two blobs: the first component splits them.
  const two = blobs(2, 4, 16, 0.1, 2);
  const pca = projectEmbeddings(two.vectors, { method: 'pca' });
  const sides = pca.points.map(([x]) => Math.sign(x));
  assert.deepEqual(new Set(sides.slice(0, 4)).size, 1);
  assert.notEqual(sides[0], sides[4]);
  const small = projectEmbeddings(vectors.slice(0, 12), { seed: 1, nEpochs: 50 });
  assert.equal(small.nNeighbors, 11);
  const sample = sampleIndicesPerGroup(speakers, 3, 5);
  assert.deepEqual(sample, [...sample].sort((a, b) => a - b));
  for (const speaker of new Set(speakers)) assert.equal(sample.filter((i) => speakers[i] === speaker).length, 3);
  assert.deepEqual(sample, sampleIndicesPerGroup(speakers, 3, 5));
  assert.throws(() => projectEmbeddings([]), (e: unknown) => e instanceof VoxkitError && e.code === 'E_DATA');
  assert.throws(() => projectEmbeddings([new Float32Array(3), new Float32Array(4)]), (e: unknown) => e instanceof VoxkitError);
});

test('projection chart: one colour per speaker up to the palette, the rest grouped; one symbol per point', async () => {
  const { vectors, speakers } = blobs(6, 5, 8, 0.2, 1);
  const points = projectEmbeddings(vectors, { method: 'pca' }).points;
  const svg = await projectionChartSvg(points, speakers, { title: 'unit projection' });
  assertWellFormedSvg(svg);
  assert.equal(countOf(markGroup(svg, 'role-mark marks'), /<path/g), 30);
  assert.equal(countOf(svg, /class="mark-text role-legend-label"/g), 6);
  assert.ok(textsOf(svg).includes('spk05') && textsOf(svg).includes('unit projection'));

  const many = Array.from({ length: 25 }, (_, s) => Array.from({ length: s < 5 ? 3 : 1 }, () => `s${String(s).padStart(2, '0')}`)).flat();
  const groups = speakerColourGroups(many);
  assert.equal(groups.groups.length, MAX_SPEAKER_COLOURS);
  assert.equal(groups.otherGroup, 'other (6 speakers)');
  for (let s = 0; s < 5; s++) assert.equal(groups.groupOf.get(`s0${s}`), `s0${s}`, 'speakers with the most points keep a colour');
  const spec = projectionChartSpec(many.map((_, i) => [i, i] as [number, number]), many) as { encoding: { color: { scale: { domain: string[]; range: string[] } } } };
  assert.equal(new Set(spec.encoding.color.scale.range).size, MAX_SPEAKER_COLOURS);
});

test('PNG: valid signature and the requested width', { skip: canRenderText() ? false : 'no font for resvg on this machine' }, async () => {
  const svg = await projectionChartSvg(
    [
      [0, 0],
      [1, 1],
    ],
    ['a', 'b'],
  );
  const png = svgToPng(svg, { widthPx: 321 });
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const header = new DataView(png.buffer, png.byteOffset);
  assert.equal(String.fromCharCode(...png.subarray(12, 16)), 'IHDR');
  assert.equal(header.getUint32(16), 321);
  const svgWidth = Number(/width="([\d.]+)"/.exec(svg)![1]);
  const svgHeight = Number(/height="([\d.]+)"/.exec(svg)![1]);
  assert.ok(Math.abs(header.getUint32(20) - (321 * svgHeight) / svgWidth) <= 1);
  assert.throws(() => svgToPng(svg, { widthPx: 0 }), (e: unknown) => e instanceof VoxkitError && e.code === 'E_USAGE');
});

test('writeEvalPlots writes the charts asked for, atomically named, and rejects bad trials', async () => {
  const { scores, labels } = trials(60, 240, 2, 6);
  const { vectors, speakers } = blobs(4, 6, 16, 0.2, 5);
  const out = join(dir, 'eval-plots');
  const formats: ('svg' | 'png')[] = canRenderText() ? ['svg', 'png'] : ['svg'];
  const written = await writeEvalPlots(out, { scores, labels, embeddings: { vectors, speakers }, title: 'unit', formats, seed: 2 });
  const names = ['det', 'scores', 'projection'].flatMap((n) => formats.map((f) => join(out, `${n}.${f}`)));
  assert.deepEqual([...written].sort(), names.sort());
  for (const path of written) assert.ok(existsSync(path));
  assert.ok(readFileSync(join(out, 'projection.svg'), 'utf8').includes('spk03'));
  // A capped projection keeps an equal share of every speaker; the DET uses the given costs.
  const capped = await writeEvalPlots(join(dir, 'capped'), {
    scores, labels, embeddings: { vectors, speakers }, maxProjectionPoints: 12, dcf: { pTarget: 0.01 },
  });
  const cappedSvg = readFileSync(capped.find((p) => p.endsWith('projection.svg'))!, 'utf8');
  assert.equal(countOf(markGroup(cappedSvg, 'role-mark marks'), /<path/g), 12);
  assert.ok(textsOf(cappedSvg).some((t) => t.startsWith('12 of 24 utterances (a sample per speaker) of 4 speakers')));
  const minDcf = verificationMetrics(scores, labels, { pTarget: 0.01 }).minDcf;
  assert.ok(textsOf(readFileSync(join(dir, 'capped', 'det.svg'), 'utf8')).includes(`minDCF ${Number(minDcf.toPrecision(3))}`));
  const plain = await writeEvalPlots(join(dir, 'no-embeddings'), { scores, labels });
  assert.deepEqual(plain.map((p) => p.slice(p.lastIndexOf('/') + 1)), ['det.svg', 'scores.svg']);
  await assert.rejects(
    writeEvalPlots(join(dir, 'bad'), { scores: new Float64Array([0.1, 0.2]), labels: new Uint8Array([0, 0]) }),
    (e: unknown) => e instanceof VoxkitError && e.code === 'E_DATA',
  );
  assert.ok(!existsSync(join(dir, 'bad')), 'nothing is written for bad trials');
});

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

test('voxkit project: a chart from speaker folders and from a train list; bad input is one line, exit 2', async () => {
  const corpus = join(dir, 'corpus');
  await synthesizeCorpus({ outDir: corpus, speakers: 4, utterancesPerSpeaker: 3, seed: 12, engines: ['flite'], workers: 0 });

  const svgOut = join(dir, 'charts', 'folders.svg');
  const fromFolders = await run(['project', '-w', MODEL, join(corpus, 'wav'), '-o', svgOut, '--seed', '1']);
  assert.equal(fromFolders.code, 0, fromFolders.stderr);
  assert.match(fromFolders.stdout, /12 recordings of 4 speakers \(UMAP, 11 neighbours\)/);
  const svg = readFileSync(svgOut, 'utf8');
  assertWellFormedSvg(svg);
  assert.equal(countOf(markGroup(svg, 'role-mark marks'), /<path/g), 12);
  for (const speaker of ['id00001', 'id00004']) assert.ok(textsOf(svg).includes(speaker));

  const format = canRenderText() ? 'png' : 'svg';
  const listOut = join(dir, `list.${format}`);
  const fromList = await run(['project', '-w', MODEL, '--list', join(corpus, 'train_list.txt'), '--path', join(corpus, 'wav'), '-o', listOut, '--max-per-speaker', '2']);
  assert.equal(fromList.code, 0, fromList.stderr);
  assert.match(fromList.stdout, /4 recordings of 2 speakers \(PCA\)/);
  assert.match(fromList.stderr, /PCA instead of UMAP/);
  assert.ok(readFileSync(listOut).length > 100);

  writeFileSync(join(dir, 'empty.txt'), '');
  const bad: Array<[string[], RegExp]> = [
    [['project', '-w', MODEL, join(corpus, 'wav'), '-o', join(dir, 'x.jpg')], /\.svg or \.png/],
    [['project', '-w', MODEL, '-o', join(dir, 'x.svg')], /folder of speaker folders/],
    [['project', '-w', MODEL, join(corpus, 'wav'), '--list', join(corpus, 'train_list.txt'), '-o', join(dir, 'x.svg')], /not both/],
    [['project', '-w', MODEL, join(dir, 'missing'), '-o', join(dir, 'x.svg')], /missing: cannot read/],
    [['project', '-w', join(dir, 'empty.txt'), join(corpus, 'wav'), '-o', join(dir, 'x.svg')], /empty\.txt/],
  ];
  for (const [args, message] of bad) {
    const result = await run(args);
    assert.equal(result.code, 2, args.join(' '));
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
  assert.ok(!existsSync(join(dir, 'x.svg')) && !existsSync(join(dir, 'x.jpg')));
});

test('voxkit project: --engine ort and --engine tfjs draw the same chart (PCA points within 0.05 px)', async () => {
  const corpus = join(dir, 'corpus');
  if (!existsSync(join(corpus, 'train_list.txt'))) {
    await synthesizeCorpus({ outDir: corpus, speakers: 4, utterancesPerSpeaker: 3, seed: 12, engines: ['flite'], workers: 0 });
  }
  const drawn = async (engine: string) => {
    const out = join(dir, 'charts', `engine-${engine}.svg`);
    const result = await run(['project', '-w', MODEL, join(corpus, 'wav'), '-o', out, '--method', 'pca', '--engine', engine, '--threads', '1']);
    assert.equal(result.code, 0, result.stderr);
    const svg = readFileSync(out, 'utf8');
    return { stdout: result.stdout, svg, numbers: (svg.match(/-?\d+(\.\d+)?/g) ?? []).map(Number) };
  };
  const ort = await drawn('ort');
  const tfjs = await drawn('tfjs');
  assert.equal(ort.stdout.replace(/^\S+: /, ''), tfjs.stdout.replace(/^\S+: /, ''));
  assert.equal(countOf(markGroup(ort.svg, 'role-mark marks'), /<path/g), 12);
  // Same marks, ticks and labels; only the last digits of the point positions may differ.
  assert.equal(ort.numbers.length, tfjs.numbers.length);
  const worst = Math.max(...ort.numbers.map((x, i) => Math.abs(x - tfjs.numbers[i])));
  assert.ok(worst < 0.05, `largest coordinate difference ${worst}`);
});
