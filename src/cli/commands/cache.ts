/**
 * `voxkit cache build`: the feature cache of a training set (what its training crops are cut
 * from), so `voxkit train --feature-cache DIR` decodes no audio; `voxkit cache info DIR`.
 */
import { Option, type Command } from 'commander';
import { VoxkitError } from '../../errors.js';
import { disposeLoadedEncoder, loadEncoder } from '../../api/load-encoder-node.js';
import { readSpeakerDataset } from '../../data/dataset-node.js';
import { buildFeatureCache, featureCacheInfo } from '../../data/feature-cache-node.js';
import { type CacheContent, cacheContentFor, describeContent } from '../../data/feature-cache-format.js';
import type { FeatureSpec } from '../../features/feature-spec.js';
import { MODEL_REGISTRY, resolveModelName } from '../../models/registry.js';
import type { CliIO } from '../main.js';
import { positiveInt, prepareBackend } from '../options.js';

interface CacheBuildOptions {
  trainList?: string;
  trainPath: string;
  model?: string;
  weights?: string;
  out: string;
  content?: 'auto' | 'waveform';
  shardMb: number;
  workers?: number;
  json?: boolean;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new VoxkitError('E_USAGE', `expected an integer ≥ 0, got "${value}"`);
  return n;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(1)} kB`;
}

/** The front end the cache feeds: from the weights, or a default-built model of the named architecture. */
async function featureSpecFor(opts: CacheBuildOptions): Promise<FeatureSpec> {
  if (opts.weights) {
    const loaded = await loadEncoder(opts.weights, { model: opts.model });
    try {
      return loaded.encoder.featureSpec();
    } finally {
      disposeLoadedEncoder(loaded);
    }
  }
  if (!opts.model) throw new VoxkitError('E_USAGE', 'cache build: pass --model NAME or --weights FILE (the cache holds what that front end crops)');
  const encoder = MODEL_REGISTRY[resolveModelName(opts.model)].create();
  try {
    return encoder.featureSpec();
  } finally {
    encoder.dispose();
  }
}

export function registerCache(program: Command, io: CliIO): void {
  const cache = program.command('cache').description('the on-disk feature cache that lets training skip audio decoding');

  cache
    .command('build')
    .description('decode a training set once into a sharded feature cache (a rerun adds what is missing or changed)')
    .option('--train-list <file>', 'train list (speaker relative/path per line)')
    .requiredOption('--train-path <dir>', 'folder the list paths start from (or a folder per speaker)')
    .option('-m, --model <name>', 'architecture the cache feeds (ResNetSE34L, ResNetSE34V2, VGGVox, RawNet3, RTVC)')
    .option('-w, --weights <file>', 'or a checkpoint whose front end the cache feeds')
    .requiredOption('-o, --out <dir>', 'cache folder')
    .addOption(
      new Option('--content <kind>', 'auto: what the model crops from (waveforms; RTVC: mel frames); waveform: waveforms for any model (RTVC with augmentation)')
        .choices(['auto', 'waveform'])
        .default('auto'),
    )
    .option('--shard-mb <n>', 'largest shard file in MB', positiveInt, 256)
    .option('--workers <n>', 'decoding threads (0 = main thread; default 2)', nonNegativeInt)
    .option('--json', 'print the result as JSON')
    .action(async (opts: CacheBuildOptions, cmd: Command) => {
      await prepareBackend(cmd);
      const spec = await featureSpecFor(opts);
      const content: CacheContent = opts.content === 'waveform' && spec.kind !== 'frames' ? { kind: 'waveform', sampleRateHz: spec.sampleRateHz } : cacheContentFor(spec);
      const dataset = await readSpeakerDataset({ trainList: opts.trainList, trainPath: opts.trainPath });
      const started = performance.now();
      let lastReport = started;
      const result = await buildFeatureCache({
        files: dataset.utterances.map((u) => u.path),
        dir: opts.out,
        spec: content,
        shardBytes: opts.shardMb * 1024 * 1024,
        ...(opts.workers === undefined ? {} : { workers: opts.workers }),
        onProgress: ({ done, total }) => {
          const now = performance.now();
          if (opts.json || now - lastReport < 5000) return;
          lastReport = now;
          io.stderr(`cache ${done}/${total}\n`);
        },
      });
      const seconds = (performance.now() - started) / 1000;
      if (opts.json) {
        io.stdout(`${JSON.stringify({ ...result, seconds })}\n`);
        return;
      }
      io.stdout(
        [
          `cache       ${result.dir}: ${describeContent(result.content)}`,
          `entries     ${result.entries} (${result.built} built, ${result.reused} already current${result.stale ? `, ${result.stale} rebuilt after their source changed` : ''})`,
          `size        ${formatBytes(result.bytes)} in ${result.shards} shard(s); ${result.int16Entries} entries stored as int16 (lossless), ${result.float32Entries} as float32`,
          `time        ${seconds.toFixed(1)} s`,
          `next        voxkit train … --feature-cache ${result.dir}`,
          '',
        ].join('\n'),
      );
    });

  cache
    .command('info')
    .description('what a feature cache folder holds')
    .argument('<dir>', 'cache folder')
    .option('--json', 'print as JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const info = await featureCacheInfo(dir);
      if (opts.json) io.stdout(`${JSON.stringify(info)}\n`);
      else {
        io.stdout(
          `cache       ${info.dir}: ${describeContent(info.content)}\nentries     ${info.entries} (${info.int16Entries} int16)\nsize        ${formatBytes(info.bytes)} in ${info.shards} shard(s)\nwritten by  voxkit ${info.writtenBy}\n`,
        );
      }
    });
}
