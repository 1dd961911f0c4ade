/**
 * Embedding vector maths on plain Float32Arrays: no tensors, so the browser bundle and the tools
 * can use it without pulling in a compute engine.
 */
import { VoxkitError } from '../errors.js';

/** v / ‖v‖ (a zero vector is returned as a copy). */
export function l2Normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const norm = Math.sqrt(s);
  return norm > 0 ? v.map((x) => x / norm) : v.slice();
}

/** Cosine similarity (−1 … 1); 0 when either vector is zero. */
export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new VoxkitError('E_SHAPE', `embeddings differ in size (${a.length} vs ${b.length})`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}
