/**
 * Eigenvalues (without eigenvectors) of a real symmetric matrix: Householder reduction to
 * tridiagonal form, then the implicit QL method with Wilkinson shifts. Skipping the eigenvectors
 * makes the QL phase O(n²), so the whole is about 4n³/3 flops, several times cheaper than a full
 * decomposition; spectral clustering uses it to compare many candidate affinities. Browser-safe.
 */
import { VoxkitError } from '../errors.js';

/**
 * Ascending eigenvalues of the symmetric n×n row-major matrix `matrix` (only its lower triangle is
 * read; it is overwritten).
 */
export function symmetricEigenvalues(matrix: Float64Array, n: number): Float64Array {
  if (matrix.length !== n * n) throw new VoxkitError('E_SHAPE', `matrix has ${matrix.length} values, expected ${n}×${n}`);
  const diagonal = new Float64Array(n);
  const offDiagonal = new Float64Array(n);
  tridiagonalize(matrix, n, diagonal, offDiagonal);
  tridiagonalEigenvalues(diagonal, offDiagonal);
  return diagonal.sort();
}

/** Householder reduction; `off[i]` couples rows i−1 and i (off[0] = 0). */
function tridiagonalize(a: Float64Array, n: number, diagonal: Float64Array, off: Float64Array): void {
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    const rowI = i * n;
    let h = 0;
    if (l > 0) {
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(a[rowI + k]);
      if (scale === 0) {
        off[i] = a[rowI + l];
      } else {
        // Scaling avoids under/overflow in the sum of squares.
        for (let k = 0; k <= l; k++) {
          a[rowI + k] /= scale;
          h += a[rowI + k] * a[rowI + k];
        }
        let f = a[rowI + l];
        let g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        off[i] = scale * g;
        h -= f * g;
        a[rowI + l] = f - g;
        f = 0;
        for (let j = 0; j <= l; j++) {
          g = 0;
          const rowJ = j * n;
          for (let k = 0; k <= j; k++) g += a[rowJ + k] * a[rowI + k];
          for (let k = j + 1; k <= l; k++) g += a[k * n + j] * a[rowI + k];
          off[j] = g / h;
          f += off[j] * a[rowI + j];
        }
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          f = a[rowI + j];
          g = off[j] - hh * f;
          off[j] = g;
          const rowJ = j * n;
          for (let k = 0; k <= j; k++) a[rowJ + k] -= f * off[k] + g * a[rowI + k];
        }
      }
    } else {
      off[i] = a[rowI + l];
    }
    diagonal[i] = h;
  }
  off[0] = 0;
  for (let i = 0; i < n; i++) diagonal[i] = a[i * n + i];
}

/** Implicit QL on the tridiagonal matrix (diagonal d, sub-diagonal e[1..]); d becomes the eigenvalues. */
function tridiagonalEigenvalues(d: Float64Array, e: Float64Array): void {
  const n = d.length;
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  if (n > 0) e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    let m: number;
    do {
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
      }
      if (m !== l) {
        if (iterations++ === 60) throw new VoxkitError('E_DATA', 'eigenvalues did not converge (matrix not finite?)');
        let g = (d[l + 1] - d[l]) / (2 * e[l]);
        let r = Math.hypot(g, 1);
        g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
        let s = 1;
        let c = 1;
        let p = 0;
        let i: number;
        for (i = m - 1; i >= l; i--) {
          const f = s * e[i];
          const b = c * e[i];
          r = Math.hypot(f, g);
          e[i + 1] = r;
          if (r === 0) {
            // Underflow: the matrix splits here; restart on the smaller block.
            d[i + 1] -= p;
            e[m] = 0;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1] - p;
          r = (d[i] - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
        }
        if (r === 0 && i >= l) continue;
        d[l] -= p;
        e[l] = g;
        e[m] = 0;
      }
    } while (m !== l);
  }
}

/**
 * An orthonormal basis (k columns of length n) of the eigenspace of the k smallest eigenvalues of
 * a symmetric positive semi-definite matrix (a graph Laplacian), by block inverse iteration:
 * one Cholesky factorisation of A + shift·I (n³/3 flops), then repeated solves and
 * re-orthonormalisation until the subspace stops moving. Each step shrinks the unwanted
 * directions by about (λk + shift) / (λk+1 + shift), so a clear eigengap converges in a few steps.
 * Any rotation of the basis may come back; spectral clustering only needs the subspace.
 * `matrix` is not modified.
 */
export function smallestEigenspace(matrix: Float64Array, n: number, k: number, options: { shift?: number; maxIterations?: number; seed?: number } = {}): Float64Array[] {
  if (matrix.length !== n * n) throw new VoxkitError('E_SHAPE', `matrix has ${matrix.length} values, expected ${n}×${n}`);
  const shift = options.shift ?? 1e-3;
  const factor = choleskyLower(matrix, n, shift);
  let state = (options.seed ?? 1) >>> 0 || 1;
  // A small local generator keeps this file free of imports beyond errors.
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) / 4294967296) * 2 - 1;
  };
  let basis = orthonormalize(Array.from({ length: k }, () => Float64Array.from({ length: n }, next)));
  const maxIterations = options.maxIterations ?? 300;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const solved = orthonormalize(basis.map((x) => choleskySolve(factor, n, x)));
    // Distance between the subspaces: the part of the new basis outside the old one.
    let outside = 0;
    for (const y of solved) {
      const residual = y.slice();
      for (const x of basis) {
        const c = dotProduct(x, y);
        for (let i = 0; i < n; i++) residual[i] -= c * x[i];
      }
      outside += dotProduct(residual, residual);
    }
    basis = solved;
    if (Math.sqrt(outside) < 1e-10 * Math.sqrt(k)) break;
  }
  return basis;
}

function choleskyLower(a: Float64Array, n: number, shift: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let diagonal = a[rowJ + j] + shift;
    for (let k = 0; k < j; k++) diagonal -= g[rowJ + k] * g[rowJ + k];
    if (!(diagonal > 0)) throw new VoxkitError('E_DATA', 'matrix is not positive semi-definite (Cholesky pivot ≤ 0)');
    const pivot = Math.sqrt(diagonal);
    g[rowJ + j] = pivot;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let s = a[rowI + j];
      for (let k = 0; k < j; k++) s -= g[rowI + k] * g[rowJ + k];
      g[rowI + j] = s / pivot;
    }
  }
  return g;
}

/** Solves G Gᵀ y = x. */
function choleskySolve(g: Float64Array, n: number, x: Float64Array): Float64Array {
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = x[i];
    const row = i * n;
    for (let k = 0; k < i; k++) s -= g[row + k] * z[k];
    z[i] = s / g[row + i];
  }
  const y = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < n; k++) s -= g[k * n + i] * y[k];
    y[i] = s / g[i * n + i];
  }
  return y;
}

/** Modified Gram–Schmidt, applied twice (once is not enough for nearly dependent columns). */
function orthonormalize(columns: Float64Array[]): Float64Array[] {
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < columns.length; j++) {
      const v = columns[j];
      for (let p = 0; p < j; p++) {
        const c = dotProduct(columns[p], v);
        for (let i = 0; i < v.length; i++) v[i] -= c * columns[p][i];
      }
      const norm = Math.sqrt(dotProduct(v, v));
      if (norm > 0) for (let i = 0; i < v.length; i++) v[i] /= norm;
    }
  }
  return columns;
}

function dotProduct(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
