import { Option, type Command } from 'commander';
import { VoxkitError, formatError } from '../../errors.js';
import { disposeLoadedEncoder, embedFile, loadEncoder } from '../../api/load-encoder-node.js';
import type { EmbeddingResult } from '../../api/embed.js';
import { encodeNpy } from '../../io/npy.js';
import { writeFileAtomic } from '../../io/atomic-write-node.js';
import { PartialFailure, type CliIO } from '../main.js';
import { positiveInt, prepareBackend } from '../options.js';
import { addEngineOptions, type EngineCliOptions } from './engine-options.js';

interface EmbedCliOptions extends EngineCliOptions {
  weights: string;
  model?: string;
  format: 'json' | 'npy';
  out?: string;
  crops?: number;
  cropFrames?: number;
  partials?: boolean;
}

/** Shortest decimal that reads back as the same float32. */
const f32 = (x: number) => Number(Math.fround(x).toPrecision(9));

export function registerEmbed(program: Command, io: CliIO): void {
  const command = program
    .command('embed')
    .description('embed audio files with a checkpoint (architecture detected from the weights)')
    .argument('<audio...>', 'audio files (WAV natively; other formats through ffmpeg)')
    .requiredOption('-w, --weights <file>', 'checkpoint (voxceleb_trainer .model, RTVC/RawNet3 .pt, voxkit)')
    .option('-m, --model <name>', 'architecture, when it cannot be detected from the weights')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['json', 'npy']).default('json'))
    .option('-o, --out <path>', 'write here instead of standard output (required for npy)')
    .option('--crops <n>', 'voxceleb models: embed N evenly spaced crops, as voxceleb_trainer evaluates', positiveInt)
    .option('--crop-frames <frames>', 'frames per crop (frames·160 + 240 samples)', positiveInt, 400)
    .option('--no-partials', 'RTVC: embed the whole utterance in one pass instead of 1.6 s partials');
  addEngineOptions(command)
    .action(async (audio: string[], opts: EmbedCliOptions, cmd: Command) => {
      await prepareBackend(cmd);
      if (opts.format === 'npy' && !opts.out) throw new VoxkitError('E_USAGE', '--format npy needs --out FILE');
      const loaded = await loadEncoder(opts.weights, { model: opts.model, engine: opts.engine, threads: opts.threads });
      const results: Array<{ file: string; result: EmbeddingResult }> = [];
      let failures = 0;
      try {
        for (const file of audio) {
          try {
            const result = await embedFile(loaded, file, {
              crops: opts.crops,
              cropFrames: opts.cropFrames,
              usingPartials: opts.partials,
            });
            results.push({ file, result });
          } catch (err) {
            if (!(err instanceof VoxkitError)) throw err;
            failures++;
            io.stderr(`voxkit: ${formatError(err)}\n`);
          }
        }
      } finally {
        disposeLoadedEncoder(loaded);
      }
      if (results.length > 0) await writeResults(results, opts, io);
      if (failures > 0) {
        const summary = failures === audio.length ? 'no file could be embedded' : `${failures} of ${audio.length} file(s) failed; the others were embedded`;
        io.stderr(`voxkit: ${summary}\n`);
        throw new PartialFailure(failures);
      }
    });
}

async function writeResults(results: Array<{ file: string; result: EmbeddingResult }>, opts: EmbedCliOptions, io: CliIO): Promise<void> {
  if (opts.format === 'npy') {
    const withCrops = results[0].result.crops !== undefined;
    const dim = results[0].result.embedding.length;
    const perFile = withCrops ? results[0].result.crops!.length : 1;
    const data = new Float32Array(results.length * perFile * dim);
    results.forEach(({ result }, i) => {
      if (withCrops) result.crops!.forEach((c, j) => data.set(c, (i * perFile + j) * dim));
      else data.set(result.embedding, i * dim);
    });
    const shape = withCrops ? [results.length, perFile, dim] : [results.length, dim];
    await writeFileAtomic(opts.out!, encodeNpy(data, shape), 'npy file');
    return;
  }
  const lines = results.map(({ file, result }) => {
    const record: Record<string, unknown> = { file, embedding: Array.from(result.embedding, f32) };
    if (result.crops) record.crops = result.crops.map((c) => Array.from(c, f32));
    return JSON.stringify(record);
  });
  const text = `${lines.join('\n')}\n`;
  if (opts.out) await writeFileAtomic(opts.out, text, 'JSON file');
  else io.stdout(text);
}
