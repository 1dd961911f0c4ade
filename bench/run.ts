/**
 * `npm run bench`: per-encoder inference time per 3 s utterance, front-end throughput and training
 * throughput (bench/lib/training-items.ts), voxkit (TensorFlow.js) against PyTorch on the same shapes
 * in the same run, one thread each. Prints markdown tables; `--write` puts them into BENCHMARKS.md.
 * See `--help` and BENCHMARKS.md.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../src/core/backend.js';
import { formatError } from '../src/errors.js';
import { makeBenchInputs } from './lib/inputs.js';
import { selectItems } from './lib/items.js';
import { currentLoadAverage, machineFacts, sgemmGflops } from './lib/machine.js';
import { isTiming, measureItem, type ItemResult } from './lib/measure.js';
import { parseBenchOptions, USAGE } from './lib/options.js';
import { isTrainingItem, selectTrainingItems } from './lib/training-items.js';
import { renderTrainingReport, TRAINING_SECTION_MARKERS } from './lib/training-report.js';
import { renderReport, writeBenchmarksFile, type RunReport } from './lib/report.js';
import { TorchProcess, type SanityLine } from './lib/torch-process.js';
import { renderEpochCacheReport, runEpochCacheBench, wantsEpochCache } from './lib/epoch-cache.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function fixturesDir(): string {
  return process.env.VOXKIT_FIXTURES ? resolve(process.env.VOXKIT_FIXTURES) : resolve(REPO_ROOT, '..', 'shared', 'fixtures');
}

/** One progress line on stderr, so stdout holds only the report. */
function progress(result: ItemResult): void {
  const show = (t: ItemResult['voxkit'] | ItemResult['torch']): string =>
    t === null ? '—' : isTiming(t) ? `${(t.medianSeconds * 1000).toFixed(1)} ms` : `error: ${t.error}`;
  const ratio = result.ratio === null ? '' : `  ratio ${result.ratio.toFixed(2)}`;
  const second = result.compare ? `  ${result.compare.backend} ${show(result.compare.outcome)}${result.compare.ratio === null ? '' : ` (ratio ${result.compare.ratio.toFixed(2)})`}` : '';
  process.stderr.write(`  ${result.item.name.padEnd(22)} voxkit ${show(result.voxkit)}  PyTorch ${show(result.torch)}${ratio}${second}\n`);
}

async function main(): Promise<number> {
  // One thread per engine, as the PyTorch side runs (the native backend sizes its pools from this).
  process.env.VOXKIT_NATIVE_THREADS ??= '1';
  const options = await parseBenchOptions(process.argv.slice(2));
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const startedMs = performance.now();
  await useBackend(options.backend);
  const items = [...selectItems(options.only), ...selectTrainingItems(options.only, options.quick)];
  // Epoch from audio vs from the feature cache: voxkit alone, after the other items.
  const epochCache = wantsEpochCache(options.only);
  const epochCacheReport = async (): Promise<string> =>
    renderEpochCacheReport(await runEpochCacheBench(options.quick, (line) => process.stderr.write(`${line}\n`)), options.quick);
  if (items.length === 0 && epochCache) {
    console.log(await epochCacheReport());
    return 0;
  }
  if (items.length === 0) {
    console.error(`bench: --only ${options.only.join(',')} matches no item`);
    return 2;
  }

  let torch: TorchProcess | null = null;
  let torchMissingReason: string | null = null;
  let versions = null;
  if (options.python === null) {
    torchMissingReason = '--no-torch';
  } else {
    const started = await TorchProcess.start(options.python);
    if ('reason' in started) torchMissingReason = started.reason;
    else ({ process: torch, versions } = started);
  }
  if (torchMissingReason) process.stderr.write(`bench: voxkit only — ${torchMissingReason}\n`);

  const inputs = makeBenchInputs();
  try {
    let sanity: SanityLine[] | string | null = null;
    if (torch && options.sanity) {
      const dir = fixturesDir();
      process.stderr.write(`bench: checking bench/pytorch models against ${dir}\n`);
      sanity = existsSync(join(dir, 'manifest.json')) ? await torch.sanity(dir) : [];
    }
    const facts = await machineFacts(versions);
    const compare = options.compareBackend;
    process.stderr.write(`bench: ${items.length} item(s), ${options.rounds} rounds, backend ${facts.backend}${compare ? ` (training also on ${compare})` : ''}\n`);

    const results: ItemResult[] = [];
    for (const item of items) {
      const result = await measureItem(item, inputs, torch, {
        ...options,
        backend: options.backend,
        compareBackend: isTrainingItem(item) ? options.compareBackend : null,
      });
      progress(result);
      results.push(result);
    }

    const report: RunReport = {
      facts,
      loadAverageEnd1m: currentLoadAverage(),
      results,
      torchMissingReason,
      sanity,
      rounds: options.rounds,
      warmupCalls: options.warmupCalls,
      roundSeconds: options.roundSeconds,
      quick: options.quick,
      totalSeconds: (performance.now() - startedMs) / 1000,
      sgemmGflops: results.some((r) => isTrainingItem(r.item)) ? sgemmGflops() : undefined,
    };
    const hasInferenceItems = results.some((r) => !isTrainingItem(r.item));
    const text = renderReport(report);
    const trainingText = renderTrainingReport(report);
    console.log([hasInferenceItems ? text : '', trainingText].filter(Boolean).join('\n\n---\n\n'));
    if (epochCache) console.log(`\n---\n\n${await epochCacheReport()}`);
    process.stderr.write(`bench: done in ${report.totalSeconds.toFixed(0)} s\n`);
    if (options.write) {
      const path = join(REPO_ROOT, 'BENCHMARKS.md');
      if (hasInferenceItems) writeBenchmarksFile(path, text);
      if (trainingText) writeBenchmarksFile(path, trainingText, TRAINING_SECTION_MARKERS);
      process.stderr.write(`bench: wrote ${path}\n`);
    }
    return 0;
  } finally {
    torch?.close();
    inputs.cleanup();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`bench: ${formatError(error)}`);
    process.exitCode = 2;
  },
);
