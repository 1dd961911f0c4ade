/** Agreement between a clustering and reference labels (speaker ids). Browser-safe. */

function contingency(predicted: ArrayLike<number | string>, reference: ArrayLike<number | string>): { cells: Map<string, number>; rows: Map<number | string, number>; columns: Map<number | string, number> } {
  if (predicted.length !== reference.length) throw new RangeError(`label lists differ in length (${predicted.length} vs ${reference.length})`);
  const cells = new Map<string, number>();
  const rows = new Map<number | string, number>();
  const columns = new Map<number | string, number>();
  for (let i = 0; i < predicted.length; i++) {
    const key = JSON.stringify([predicted[i], reference[i]]);
    cells.set(key, (cells.get(key) ?? 0) + 1);
    rows.set(predicted[i], (rows.get(predicted[i]) ?? 0) + 1);
    columns.set(reference[i], (columns.get(reference[i]) ?? 0) + 1);
  }
  return { cells, rows, columns };
}

const pairs = (x: number) => (x * (x - 1)) / 2;

/**
 * Adjusted Rand index (Hubert & Arabie 1985): 1 for identical partitions (up to renaming), about 0
 * for a random one, negative when worse than chance. Two trivial partitions that agree give 1.
 */
export function adjustedRandIndex(predicted: ArrayLike<number | string>, reference: ArrayLike<number | string>): number {
  const { cells, rows, columns } = contingency(predicted, reference);
  let index = 0;
  for (const v of cells.values()) index += pairs(v);
  let rowPairs = 0;
  for (const v of rows.values()) rowPairs += pairs(v);
  let columnPairs = 0;
  for (const v of columns.values()) columnPairs += pairs(v);
  const total = pairs(predicted.length);
  const expected = total > 0 ? (rowPairs * columnPairs) / total : 0;
  const maximum = (rowPairs + columnPairs) / 2;
  if (maximum === expected) return 1;
  return (index - expected) / (maximum - expected);
}

/** Purity: the share of items that belong to their cluster's majority reference label. */
export function clusterPurity(predicted: ArrayLike<number | string>, reference: ArrayLike<number | string>): number {
  if (predicted.length === 0) return 1;
  const { cells } = contingency(predicted, reference);
  const majority = new Map<string, number>();
  for (const [key, count] of cells) {
    const cluster = JSON.stringify((JSON.parse(key) as unknown[])[0]);
    majority.set(cluster, Math.max(majority.get(cluster) ?? 0, count));
  }
  let sum = 0;
  for (const v of majority.values()) sum += v;
  return sum / predicted.length;
}
