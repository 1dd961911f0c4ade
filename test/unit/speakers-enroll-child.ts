/**
 * A process that enrolls synthetic embedding batches into a speaker database in a loop, printing
 * `done I` after enroll I has returned. speakers.test.ts kills it with SIGKILL mid-way and runs two
 * of them at once. Batch I of tag T goes to speaker T (even I) or the shared speaker `shared` (odd I).
 */
import { writeSync } from 'node:fs';
import { Random } from '../../src/core/random.js';
import { SpeakerDatabase, type ModelIdentity } from '../../src/speakers/database-node.js';

export const CHILD_MODEL: ModelIdentity = { architecture: 'ResNetSE34L', checkpointSha256: 'c'.repeat(64), embeddingDim: 32 };

export function batchSpeaker(tag: string, index: number): string {
  return index % 2 === 0 ? tag : 'shared';
}

/** The embeddings of batch `index` of `tag`, the same in every process. */
export function batchEmbeddings(tag: string, index: number, size: number): { embeddings: Float32Array[]; sources: string[] } {
  const seed = [...tag].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) ^ (index * 2654435761);
  const random = new Random(seed >>> 0);
  const embeddings = Array.from({ length: size }, () => Float32Array.from({ length: CHILD_MODEL.embeddingDim }, () => random.normal()));
  return { embeddings, sources: embeddings.map((_, j) => `${tag}#${index}#${j}`) };
}

if (process.env.VOXKIT_SPEAKERS_CHILD === '1') {
  const [dbPath, tag, iterations, size] = process.argv.slice(2);
  const db = SpeakerDatabase.open(dbPath, { create: true });
  for (let i = 0; i < Number(iterations); i++) {
    const { embeddings, sources } = batchEmbeddings(tag, i, Number(size));
    db.enroll(batchSpeaker(tag, i), embeddings, sources, CHILD_MODEL);
    writeSync(1, `done ${i}\n`);
  }
  await db.close();
}
