import type { Command } from 'commander';
import { VoxkitError } from '../../errors.js';
import { cosineSimilarity } from '../../api/embed.js';
import { disposeLoadedEncoder, embedFile, loadEncoder } from '../../api/load-encoder-node.js';
import type { CliIO } from '../main.js';
import { finiteNumber, prepareBackend } from '../options.js';
import { addEngineOptions, type EngineCliOptions } from './engine-options.js';

/**
 * Uncalibrated default decision threshold on the cosine score. Thresholds depend on the model and
 * the data; calibrate one on a trial list with `voxkit eval` (EER threshold) and pass --threshold.
 */
export const DEFAULT_VERIFY_THRESHOLD = 0.5;

export function registerVerify(program: Command, io: CliIO): void {
  const command = program
    .command('verify')
    .description('cosine score between two recordings and a same/different decision')
    .argument('<a>', 'first recording')
    .argument('<b>', 'second recording')
    .requiredOption('-w, --weights <file>', 'checkpoint')
    .option('-m, --model <name>', 'architecture, when it cannot be detected from the weights')
    .option('-t, --threshold <t>', `decision threshold on the cosine score (default ${DEFAULT_VERIFY_THRESHOLD}, uncalibrated)`, finiteNumber)
    .option('--json', 'print a JSON object');
  addEngineOptions(command)
    .action(async (a: string, b: string, opts: { weights: string; model?: string; threshold?: number; json?: boolean } & EngineCliOptions, cmd: Command) => {
      await prepareBackend(cmd);
      const loaded = await loadEncoder(opts.weights, { model: opts.model, engine: opts.engine, threads: opts.threads });
      try {
        const [ea, eb] = [await embedFile(loaded, a), await embedFile(loaded, b)];
        const score = cosineSimilarity(ea.embedding, eb.embedding);
        if (!Number.isFinite(score)) throw new VoxkitError('E_DATA', `score is not a number for ${a} and ${b}`);
        const threshold = opts.threshold ?? DEFAULT_VERIFY_THRESHOLD;
        const same = score >= threshold;
        if (opts.json) {
          io.stdout(`${JSON.stringify({ a, b, score, threshold, thresholdCalibrated: opts.threshold !== undefined, same })}\n`);
        } else {
          const note = opts.threshold === undefined ? ' (default threshold, not calibrated for this model)' : '';
          io.stdout(`score ${score.toFixed(4)}  threshold ${threshold}${note}  → ${same ? 'same speaker' : 'different speakers'}\n`);
        }
      } finally {
        disposeLoadedEncoder(loaded);
      }
    });
}
