/**
 * voxceleb_trainer `loss/ge2e.py` (generalised end-to-end loss, its own variant): for utterance i
 * of speaker j, cosine similarity (`F.cosine_similarity`, eps 1e-8) to every speaker's centroid,
 * where its own speaker's centroid excludes the utterance itself; similarities are clamped at
 * 1e-6 from below *before* the learned w·cos + b (init 10, −5); cross-entropy over speakers for
 * all N·M utterances. (RTVC's GE2E differs: no clamp, +1e-5 norms — see rtvc-ge2e.ts.)
 */
import * as tf from '@tensorflow/tfjs';
import { top1Accuracy } from './accuracy.js';
import { crossEntropy } from './cross-entropy.js';
import type { LossInput, LossOutput } from './loss.js';
import { ScaledCosineLoss } from './scaled-cosine-loss.js';
import { metricBatch, oneHotTargets } from './loss-input.js';
import { cosineSimilarityRows } from './ge2e-similarity.js';

export class Ge2eLoss extends ScaledCosineLoss {
  readonly name = 'ge2e';

  /** embeddings [speakers, utterances ≥ 2, dim]; labels are ignored. */
  forward(input: LossInput): LossOutput {
    const { embeddings, speakers, utterancesPerSpeaker: perSpeaker } = metricBatch(this.name, input, 2, this.embeddingDim);
    return tf.tidy(() => {
      const rows = speakers * perSpeaker;
      // Rows in the reference's view(-1, N) order: speaker-major, utterance-minor.
      const rowLabels = tf.tile(tf.range(0, speakers, 1, 'int32').reshape([speakers, 1]), [1, perSpeaker]).reshape([rows]) as tf.Tensor1D;
      const targets = oneHotTargets(rowLabels, speakers);
      const logits = cosineSimilarityRows(embeddings, this.w, this.b, targets);
      return { loss: crossEntropy(logits, targets), accuracy: top1Accuracy(logits, rowLabels) };
    });
  }
}
