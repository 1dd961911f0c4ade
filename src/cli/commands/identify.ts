import type { Command } from 'commander';
import { formatError } from '../../errors.js';
import { DEFAULT_IDENTIFY_THRESHOLD, identifyFiles } from '../../speakers/enroll-node.js';
import { PartialFailure, type CliIO } from '../main.js';
import { finiteNumber, positiveInt, prepareBackend } from '../options.js';
import { addEngineOptions, type EngineCliOptions } from './engine-options.js';

interface IdentifyCliOptions extends EngineCliOptions {
  db: string;
  weights: string;
  model?: string;
  threshold?: number;
  top: number;
  crops?: number;
  cropFrames?: number;
  json?: boolean;
}

export function registerIdentify(program: Command, io: CliIO): void {
  const command = program
    .command('identify')
    .description('rank the enrolled speakers for each recording; "unknown" when the best score is below the threshold')
    .argument('<audio...>', 'recordings to identify')
    .requiredOption('--db <path>', 'speaker database made by voxkit enroll')
    .requiredOption('-w, --weights <file>', 'checkpoint (the one the database was enrolled with)')
    .option('-m, --model <name>', 'architecture, when it cannot be detected from the weights')
    .option(
      '-t, --threshold <t>',
      `open-set threshold on the score (default: the one stored in the database, else ${DEFAULT_IDENTIFY_THRESHOLD}, uncalibrated)`,
      finiteNumber,
    )
    .option('--top <k>', 'speakers to list per recording', positiveInt, 3)
    .option('--crops <n>', 'voxceleb models: embed N evenly spaced crops (as at enrollment)', positiveInt)
    .option('--crop-frames <frames>', 'frames per crop', positiveInt)
    .option('--json', 'print one JSON object per recording');
  addEngineOptions(command)
    .action(async (audio: string[], opts: IdentifyCliOptions, cmd: Command) => {
      await prepareBackend(cmd);
      let failures = 0;
      const results = await identifyFiles(opts.db, audio, {
        weights: opts.weights,
        model: opts.model,
        threshold: opts.threshold,
        top: opts.top,
        crops: opts.crops,
        cropFrames: opts.cropFrames,
        engine: opts.engine,
        threads: opts.threads,
        onFileError: (_file, err) => {
          failures++;
          io.stderr(`voxkit: ${formatError(err)}\n`);
        },
      });
      if (results.length > 0 && !opts.json) {
        const { threshold, thresholdSource } = results[0];
        const origin = {
          option: 'given',
          calibrated: 'calibrated on the enrolled speakers, stored in the database',
          set: 'stored in the database',
          default: `default, not calibrated for this model: run voxkit speakers --db ${opts.db} --calibrate`,
        }[thresholdSource];
        io.stdout(`threshold ${round(threshold)} (${origin})\n`);
      }
      for (const r of results) {
        if (opts.json) {
          io.stdout(`${JSON.stringify({ file: r.file, speaker: r.decision, score: r.ranked[0]?.score ?? null, margin: r.margin, threshold: r.threshold, thresholdSource: r.thresholdSource, ranked: r.ranked })}\n`);
          continue;
        }
        const verdict = r.decision === null ? 'unknown' : r.decision;
        io.stdout(`${r.file}: ${verdict}  (best ${round(r.ranked[0].score)}, margin ${round(r.margin)})\n`);
        r.ranked.forEach((s, i) => io.stdout(`  ${i + 1}. ${s.name}  ${round(s.score)}\n`));
      }
      if (failures > 0) {
        io.stderr(`voxkit: ${failures === audio.length ? 'no recording could be identified' : `${failures} of ${audio.length} recording(s) failed; the others were identified`}\n`);
        throw new PartialFailure(failures);
      }
    });
}

const round = (x: number) => x.toFixed(4);
