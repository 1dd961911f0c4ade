import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { VoxkitError, formatError } from '../../errors.js';
import { disposeLoadedEncoder, embedFile, loadEncoder } from '../../api/load-encoder-node.js';
import { readTrainList, scanSpeakerFolders } from '../../data/dataset-node.js';
import { projectEmbeddings, sampleIndicesPerGroup, type ProjectionMethod } from '../../eval/projection.js';
import { projectionChartSvg } from '../../report/eval-plots.js';
import { projectionChartOptions } from '../../report/eval-plots-node.js';
import { svgToPng } from '../../report/png-node.js';
import { writeFileAtomic } from '../../io/atomic-write-node.js';
import { PartialFailure, type CliIO } from '../main.js';
import { positiveInt, prepareBackend } from '../options.js';
import { addEngineOptions, type EngineCliOptions } from './engine-options.js';

interface ProjectCliOptions extends EngineCliOptions {
  weights: string;
  model?: string;
  list?: string;
  path?: string;
  out: string;
  maxPerSpeaker: number;
  seed: number;
  method: ProjectionMethod | 'auto';
  crops?: number;
  title?: string;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

export function registerProject(program: Command, io: CliIO): void {
  const command = program
    .command('project')
    .description('embed recordings and draw them in 2-D (UMAP), coloured by speaker')
    .argument('[dir]', 'folder of speaker folders (DIR/<speaker>/…/<file>), instead of --list and --path')
    .requiredOption('-w, --weights <file>', 'checkpoint')
    .option('-m, --model <name>', 'architecture, when it cannot be detected from the weights')
    .option('--list <file>', 'voxceleb_trainer train list ("speaker path" lines)')
    .option('--path <dir>', 'folder the list\'s paths are relative to')
    .requiredOption('-o, --out <file>', 'chart to write: .svg or .png')
    .option('--max-per-speaker <n>', 'at most N recordings per speaker (a seeded sample)', positiveInt, 20)
    .option('--seed <n>', 'seed of the sample and of the projection', nonNegativeInt, 0)
    .addOption(new Option('--method <name>', 'projection; auto = UMAP, or PCA for fewer than 10 recordings').choices(['auto', 'umap', 'pca']).default('auto'))
    .option('--crops <n>', 'voxceleb models: embed N evenly spaced crops', positiveInt)
    .option('--title <text>', 'chart title');
  addEngineOptions(command)
    .action(async (dir: string | undefined, opts: ProjectCliOptions, cmd: Command) => {
      const format = outputFormat(opts.out);
      if (dir !== undefined && (opts.list || opts.path)) throw new VoxkitError('E_USAGE', 'give either a folder of speaker folders or --list with --path, not both');
      if (dir === undefined && !(opts.list && opts.path)) throw new VoxkitError('E_USAGE', 'give a folder of speaker folders, or --list FILE with --path DIR');
      const all = dir !== undefined ? await scanSpeakerFolders(dir) : await readTrainList(opts.list!, opts.path!);
      if (all.length === 0) throw new VoxkitError('E_DATA', `no audio files in ${dir ?? opts.list}`, { file: dir ?? opts.list });
      const chosen = sampleIndicesPerGroup(all.map((u) => u.speaker), opts.maxPerSpeaker, opts.seed).map((i) => all[i]);

      await prepareBackend(cmd);
      const loaded = await loadEncoder(opts.weights, { model: opts.model, engine: opts.engine, threads: opts.threads });
      const vectors: Float32Array[] = [];
      const speakers: string[] = [];
      let failures = 0;
      try {
        for (const utterance of chosen) {
          try {
            vectors.push((await embedFile(loaded, utterance.path, { crops: opts.crops })).embedding);
            speakers.push(utterance.speaker);
          } catch (err) {
            if (!(err instanceof VoxkitError)) throw err;
            failures++;
            io.stderr(`voxkit: ${formatError(err)}\n`);
          }
        }
      } finally {
        disposeLoadedEncoder(loaded);
      }
      if (vectors.length === 0) throw new VoxkitError('E_DATA', 'no recording could be embedded');

      const projection = projectEmbeddings(vectors, { method: opts.method, seed: opts.seed });
      const chart = projectionChartOptions(projection, opts.title ? () => opts.title! : undefined);
      const svg = await projectionChartSvg(projection.points, speakers, chart);
      await mkdir(dirname(opts.out), { recursive: true }).catch(() => undefined);
      await writeFileAtomic(opts.out, format === 'png' ? svgToPng(svg) : svg, 'chart');

      const speakerCount = new Set(speakers).size;
      const how = projection.method === 'umap' ? `UMAP, ${projection.nNeighbors} neighbours` : 'PCA';
      io.stdout(`${opts.out}: ${vectors.length} recordings of ${speakerCount} speakers (${how})\n`);
      if (projection.note) io.stderr(`voxkit: note: ${projection.note}\n`);
      if (failures > 0) {
        io.stderr(`voxkit: ${failures} of ${chosen.length} recording(s) could not be embedded and are missing from the chart\n`);
        throw new PartialFailure(failures);
      }
    });
}

function outputFormat(out: string): 'svg' | 'png' {
  const lower = out.toLowerCase();
  if (lower.endsWith('.svg')) return 'svg';
  if (lower.endsWith('.png')) return 'png';
  throw new VoxkitError('E_USAGE', `--out ${out}: the chart is written as .svg or .png; name the file accordingly`);
}
