/**
 * Optimal one-to-one assignment (Hungarian algorithm, Kuhn–Munkres with row/column potentials,
 * O(n³)). Used to map hypothesis speakers to reference speakers for DER and clusters to enrolled
 * speakers. No Node APIs.
 */

/**
 * Pairs rows with columns so that the summed weight is as large as possible. Rectangular
 * matrices are allowed: the smaller side is matched completely, the rest stays unmatched.
 *
 * @param weights [rows][columns], finite
 * @returns for each row its column, or −1 when the row is left unmatched
 */
export function maxWeightAssignment(weights: readonly (readonly number[])[]): Int32Array {
  const rows = weights.length;
  const cols = rows === 0 ? 0 : weights[0].length;
  const result = new Int32Array(rows).fill(-1);
  if (rows === 0 || cols === 0) return result;
  let max = -Infinity;
  for (const row of weights) {
    if (row.length !== cols) throw new RangeError('maxWeightAssignment: rows differ in length');
    for (const w of row) {
      if (!Number.isFinite(w)) throw new RangeError('maxWeightAssignment: weights must be finite');
      if (w > max) max = w;
    }
  }
  // Minimise max − w on a square matrix; padding cells cost the same everywhere, so they never
  // change which real pairs are chosen.
  const n = Math.max(rows, cols);
  const cost = (i: number, j: number) => (i < rows && j < cols ? max - weights[i][j] : 0);

  // 1-based arrays: index 0 is the virtual column the augmenting search starts from.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const rowOfCol = new Int32Array(n + 1);
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    rowOfCol[0] = i;
    let col0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[col0] = 1;
      const i0 = rowOfCol[col0];
      let delta = Infinity;
      let col1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const reduced = cost(i0 - 1, j - 1) - u[i0] - v[j];
        if (reduced < minv[j]) {
          minv[j] = reduced;
          way[j] = col0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          col1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[rowOfCol[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      col0 = col1;
    } while (rowOfCol[col0] !== 0);
    do {
      const col1 = way[col0];
      rowOfCol[col0] = rowOfCol[col1];
      col0 = col1;
    } while (col0 !== 0);
  }
  for (let j = 1; j <= n; j++) {
    const i = rowOfCol[j] - 1;
    if (i >= 0 && i < rows && j - 1 < cols) result[i] = j - 1;
  }
  return result;
}
