/**
 * Detection error trade-off (DET) curves: miss rate against false-alarm rate, both on a normal
 * deviate (probit) scale, where the curves of normally distributed scores are straight lines
 * (Martin et al., Eurospeech 1997). Browser-safe.
 */
import { VoxkitError } from '../errors.js';
import { rocCurve, verificationMetrics, type VerificationMetricOptions } from '../eval/metrics.js';

// Wichura's algorithm AS 241 (PPND16, Applied Statistics 37, 1988): rational approximations
// accurate to about 1 part in 1e16, in three regions of p.
const CENTRAL_NUMERATOR = [
  3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125, 45921.953931549871457,
  67265.770927008700853, 33430.575583588128105, 2509.0809287301226727,
];
const CENTRAL_DENOMINATOR = [
  1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867, 39307.89580009271061,
  28729.085735721942674, 5226.495278852854561,
];
const NEAR_NUMERATOR = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504, 1.27045825245236838258,
  0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4,
];
const NEAR_DENOMINATOR = [
  1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
  0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9,
];
const TAIL_NUMERATOR = [
  6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123, 0.026532189526576123093,
  0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
];
const TAIL_DENOMINATOR = [
  1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 7.868691311456132591e-4,
  1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15,
];

function polynomial(coefficients: readonly number[], x: number): number {
  let value = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) value = value * x + coefficients[i];
  return value;
}

/**
 * The inverse of the standard normal CDF (the probit, or normal deviate): Φ⁻¹(p). Returns −∞ at 0,
 * +∞ at 1 and NaN outside [0, 1].
 */
export function inverseNormalCdf(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * polynomial(CENTRAL_NUMERATOR, r)) / polynomial(CENTRAL_DENOMINATOR, r);
  }
  // The smaller tail probability, so 1 − p never loses digits.
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value = polynomial(NEAR_NUMERATOR, r) / polynomial(NEAR_DENOMINATOR, r);
  } else {
    r -= 5;
    value = polynomial(TAIL_NUMERATOR, r) / polynomial(TAIL_DENOMINATOR, r);
  }
  return q < 0 ? -value : value;
}

/** The axis values DET plots are labelled with (fractions), from which a plot picks its range. */
export const DET_TICK_RATES: readonly number[] = Object.freeze([
  0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.98, 0.99,
]);

/** `0.001` → `0.1`, `0.4` → `40` (DET axes are labelled in percent). */
export function formatRatePercent(rate: number): string {
  return String(Number((rate * 100).toPrecision(6)));
}

export interface DetPoint {
  /** False-alarm (false-acceptance) rate, a fraction. */
  falseAlarmRate: number;
  /** Miss (false-rejection) rate, a fraction. */
  missRate: number;
  /** Trials scoring ≥ this threshold are accepted. */
  threshold: number;
}

export interface DetOperatingPoint extends DetPoint {
  /** The metric at this point: EER in percent, or the normalised minimum detection cost. */
  value: number;
}

export interface DetCurve {
  /** Every distinct operating point, false-alarm rate non-decreasing and miss rate non-increasing. */
  points: DetPoint[];
  /** The ROC point voxceleb_trainer reads the EER from. */
  eer: DetOperatingPoint;
  /** Where the minimum detection cost is reached (trials scoring above its threshold are accepted). */
  minDcf: DetOperatingPoint;
  targets: number;
  nonTargets: number;
}

/**
 * The DET curve of a set of trials: the ROC of `rocCurve` (every distinct threshold kept, since
 * points on a straight ROC segment bend on the probit scale) read as miss rates, with the EER and
 * minDCF operating points of `verificationMetrics`.
 */
export function detCurve(scores: ArrayLike<number>, labels: ArrayLike<number>, options: VerificationMetricOptions = {}): DetCurve {
  const roc = rocCurve(scores, labels, { dropIntermediate: false });
  const metrics = verificationMetrics(scores, labels, options);
  const points: DetPoint[] = [];
  for (let i = 0; i < roc.fpr.length; i++) points.push({ falseAlarmRate: roc.fpr[i], missRate: 1 - roc.tpr[i], threshold: roc.thresholds[i] });

  let targets = 0;
  for (let i = 0; i < labels.length; i++) targets += labels[i];
  const nonTargets = labels.length - targets;
  const eerPoint = points.find((p) => p.threshold === metrics.eerThreshold);
  if (!eerPoint) throw new VoxkitError('E_DATA', 'detCurve: the EER threshold is not an ROC threshold');

  // computeMinDcf accepts trials scoring strictly above its threshold.
  let acceptedNonTargets = 0;
  let rejectedTargets = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1 && scores[i] <= metrics.minDcfThreshold) rejectedTargets++;
    if (labels[i] === 0 && scores[i] > metrics.minDcfThreshold) acceptedNonTargets++;
  }
  return {
    points,
    eer: { ...eerPoint, value: metrics.eer },
    minDcf: {
      falseAlarmRate: acceptedNonTargets / nonTargets,
      missRate: rejectedTargets / targets,
      threshold: metrics.minDcfThreshold,
      value: metrics.minDcf,
    },
    targets,
    nonTargets,
  };
}

export interface DetAxisRange {
  /** Smallest and largest rate shown on both axes. */
  low: number;
  high: number;
  /** Tick rates within [low, high]. */
  ticks: number[];
}

/**
 * The standard 0.1 %–40 % DET window, widened down to the finest rate the trials resolve (at most
 * to 0.01 %) and up until the EER and minDCF points fit (at most to 99 %).
 */
export function detAxisRange(curve: DetCurve): DetAxisRange {
  const finestRate = 1 / Math.max(curve.targets, curve.nonTargets);
  const low = finestRate >= 0.0005 ? 0.001 : ([...DET_TICK_RATES].reverse().find((rate) => rate <= finestRate) ?? DET_TICK_RATES[0]);
  const marked = [curve.eer, curve.minDcf].flatMap((p) => [p.falseAlarmRate, p.missRate]).filter((rate) => rate < 1);
  const needed = Math.max(0.4, Math.min(0.99, (curve.eer.value / 100) * 2), ...marked);
  const high = DET_TICK_RATES.find((rate) => rate >= needed) ?? 0.99;
  return { low, high, ticks: DET_TICK_RATES.filter((rate) => rate >= low && rate <= high) };
}

/**
 * The curve in probit coordinates, thinned so successive kept points are at least `minStep` apart
 * (in normal deviates) — a DET of 100 000 trials needs a few hundred points to draw, not 100 000.
 * Rates of 0 or 1 are clamped just outside `range` so the line runs off the plot's edge.
 */
export function detPlotPoints(curve: DetCurve, range: DetAxisRange, minStep = 0.01): Array<{ x: number; y: number }> {
  const lowEdge = inverseNormalCdf(range.low) - 0.5;
  const highEdge = inverseNormalCdf(range.high) + 0.5;
  const deviate = (rate: number) => Math.min(highEdge, Math.max(lowEdge, inverseNormalCdf(rate)));
  const out: Array<{ x: number; y: number }> = [];
  const points = curve.points;
  for (let i = 0; i < points.length; i++) {
    const x = deviate(points[i].falseAlarmRate);
    const y = deviate(points[i].missRate);
    const last = out[out.length - 1];
    const isEnd = i === 0 || i === points.length - 1;
    if (!isEnd && last && Math.hypot(x - last.x, y - last.y) < minStep) continue;
    if (last && last.x === x && last.y === y) continue;
    out.push({ x, y });
  }
  return out;
}
