import { InvalidArgumentError, Option, type Command } from 'commander';
import { VoxkitError, formatError } from '../../errors.js';
import { disposeLoadedEncoder, loadEncoder } from '../../api/load-encoder-node.js';
import { DEFAULT_AHC_THRESHOLD, type ClusterMethod } from '../../cluster/cluster.js';
import { DEFAULT_SPECTRAL_MAX_CLUSTERS } from '../../cluster/spectral.js';
import { DEFAULT_MIN_CONFIDENCE, clusterCollection, findCollectionFiles, type CollectionReport } from '../../cluster/collection-node.js';
import { PartialFailure, type CliIO } from '../main.js';
import { finiteNumber, positiveInt, prepareBackend } from '../options.js';
import { addEngineOptions, type EngineCliOptions } from './engine-options.js';

interface ClusterCliOptions extends EngineCliOptions {
  weights: string;
  model?: string;
  out: string;
  method: ClusterMethod;
  numSpeakers?: number;
  minSpeakers?: number;
  maxSpeakers?: number;
  threshold?: number;
  minConfidence: number;
  seed: number;
  json?: boolean;
}

function confidenceValue(value: string): number {
  const n = finiteNumber(value);
  if (n < 0 || n > 1) throw new InvalidArgumentError('expected a number between 0 and 1');
  return n;
}

export function registerCluster(program: Command, io: CliIO): void {
  const command = program
    .command('cluster')
    .description('group a collection of recordings by speaker; confident members become a train list, the rest an uncertain list')
    .argument('<inputs...>', 'folders (searched recursively for audio files) and/or audio files')
    .requiredOption('-w, --weights <file>', 'checkpoint')
    .option('-m, --model <name>', 'architecture, when it cannot be detected from the weights')
    .requiredOption('-o, --out <dir>', 'folder for groups.json, groups.txt and uncertain.txt')
    .addOption(new Option('--method <method>', 'clustering method').choices(['ahc', 'spectral']).default('ahc'))
    .option('-k, --num-speakers <k>', 'number of speakers, when known (otherwise estimated)', positiveInt)
    .option('--min-speakers <k>', 'lower bound on the estimated number of speakers', positiveInt)
    .option('--max-speakers <k>', `upper bound on the estimated number (spectral default ${DEFAULT_SPECTRAL_MAX_CLUSTERS})`, positiveInt)
    .option('-t, --threshold <t>', `ahc: merge groups while their average cosine similarity is at least t (default ${DEFAULT_AHC_THRESHOLD}, uncalibrated)`, finiteNumber)
    .option('-c, --min-confidence <c>', 'members below this confidence (0–1) go to uncertain.txt', confidenceValue, DEFAULT_MIN_CONFIDENCE)
    .option('--seed <n>', 'spectral: k-means seed', (v) => Math.trunc(finiteNumber(v)), 0)
    .option('--json', 'print the groups as JSON instead of a summary');
  addEngineOptions(command)
    .action(async (inputs: string[], opts: ClusterCliOptions, cmd: Command) => {
      if (opts.minSpeakers !== undefined && opts.maxSpeakers !== undefined && opts.minSpeakers > opts.maxSpeakers) {
        throw new VoxkitError('E_USAGE', `--min-speakers (${opts.minSpeakers}) is larger than --max-speakers (${opts.maxSpeakers})`);
      }
      if (opts.threshold !== undefined && opts.method !== 'ahc') throw new VoxkitError('E_USAGE', '--threshold applies to --method ahc only');
      // Inputs are checked before the (slow) model load.
      const found = await findCollectionFiles(inputs, { exclude: opts.out });
      await prepareBackend(cmd);
      const loaded = await loadEncoder(opts.weights, { model: opts.model, engine: opts.engine, threads: opts.threads });
      let report: CollectionReport;
      try {
        report = await clusterCollection(loaded, {
          inputs,
          found,
          outDir: opts.out,
          method: opts.method,
          numClusters: opts.numSpeakers,
          minClusters: opts.minSpeakers,
          maxClusters: opts.maxSpeakers,
          threshold: opts.threshold,
          minConfidence: opts.minConfidence,
          seed: opts.seed,
          onFile: (_done, _total, _file, error) => {
            if (error) io.stderr(`voxkit: ${formatError(error)}\n`);
          },
        });
      } finally {
        disposeLoadedEncoder(loaded);
      }
      if (opts.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
      else io.stdout(summary(report, opts));
      for (const skipped of report.notAudio) io.stderr(`voxkit: ${skipped.path}: skipped (${skipped.reason})\n`);
      if (report.unlistable.length > 0) {
        io.stderr(`voxkit: ${report.unlistable.length} confident file(s) have white space in their path and are not in ${report.outputs.trainList} (a train list cannot hold them)\n`);
      }
      if (report.failed.length > 0) {
        io.stderr(`voxkit: ${report.failed.length} file(s) could not be embedded (listed in ${report.outputs.groups}); the others were clustered\n`);
        throw new PartialFailure(report.failed.length);
      }
    });
}

function summary(report: CollectionReport, opts: ClusterCliOptions): string {
  const lines: string[] = [];
  const how =
    opts.numSpeakers !== undefined
      ? `${opts.numSpeakers} speakers requested`
      : report.method === 'ahc'
        ? `threshold ${opts.threshold ?? DEFAULT_AHC_THRESHOLD}${opts.threshold === undefined ? ' (default, not calibrated for this model)' : ''}`
        : 'count from the eigengap';
  lines.push(`${report.embedded} file(s) → ${report.numClusters} cluster(s) by ${report.method} (${how})`);
  lines.push(`${report.confident} confident (≥ ${report.minConfidence}), ${report.uncertain} uncertain`);
  for (const c of report.clusters) {
    lines.push(`  ${c.label}  ${String(c.size).padStart(4)} file(s)  ${String(c.confident).padStart(4)} confident  mean confidence ${c.meanConfidence.toFixed(2)}`);
  }
  if (report.notAudio.length > 0) lines.push(`${report.notAudio.length} file(s) skipped (no audio extension)`);
  lines.push(`wrote ${report.outputs.groups}, ${report.outputs.trainList}, ${report.outputs.uncertain}`);
  lines.push(`train on the confident groups: voxkit train --train-list ${report.outputs.trainList} --train-path ${report.root} …`);
  return `${lines.join('\n')}\n`;
}
