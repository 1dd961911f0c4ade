import { InvalidArgumentError, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { resolve } from 'node:path';
import { VoxkitError } from '../../errors.js';
import {
  COMPRESSED_AUDIO_EXTENSIONS,
  convertAudioFiles,
  displayPath,
  planConversion,
  writeConversionFailures,
  type ConversionProgress,
} from '../../data/convert-node.js';
import { PartialFailure, type CliIO } from '../main.js';
import { positiveInt } from '../options.js';

interface ConvertCliOptions {
  out: string;
  workers?: number;
  ext: string[];
  sampleRate: number;
  ffmpeg?: string;
  quiet?: boolean;
}

function extensionList(value: string): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim().replace(/^\./, '').toLowerCase())
    .filter(Boolean);
  if (list.length === 0) throw new InvalidArgumentError('expected a comma-separated list of extensions, e.g. m4a,mp3');
  return list;
}

/** Progress of a count of items: a cli-progress bar on a terminal, a line every 10 % otherwise. */
export interface CountProgress {
  update(done: number, total: number, detail: string): void;
  /** A message line that must not be drawn over by the bar. */
  line(text: string): void;
  stop(): void;
}

export function countProgress(io: CliIO, label: string, options: { quiet?: boolean; unit?: string } = {}): CountProgress {
  if (options.quiet) return { update() {}, line: (t) => io.stderr(`${t}\n`), stop() {} };
  const unit = options.unit ?? 'files';
  // The bar needs the real terminal; otherwise (CI, pipes, tests) plain lines go through io.
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% {value}/{total} ${unit} | ETA {eta_formatted} | {detail}`, stream: process.stderr, hideCursor: true, barsize: 24, fps: 5 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total, detail) {
        if (!started) {
          bar.start(Math.max(total, 1), done, { detail });
          started = true;
        } else bar.update(done, { detail });
      },
      line(text) {
        process.stderr.write(started ? `\r\x1b[2K${text}\n` : `${text}\n`);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let nextTenth = 1;
  return {
    update(done, total) {
      if (total === 0 || (done * 10 < nextTenth * total && done !== total)) return;
      while (nextTenth * total <= done * 10) nextTenth++;
      io.stderr(`${label}: ${done}/${total} ${unit} (${Math.floor((100 * done) / total)}%)\n`);
    },
    line: (t) => io.stderr(`${t}\n`),
    stop() {},
  };
}

export function registerConvert(program: Command, io: CliIO): void {
  program
    .command('convert')
    .description('convert compressed audio (m4a, mp3, flac, ogg, opus, …) under a folder to 16 kHz mono 16-bit WAV with ffmpeg, mirroring the tree; resumable')
    .argument('<input-dir>', 'folder of audio files (searched recursively)')
    .requiredOption('-o, --out <dir>', 'output folder (the same tree, .wav files); may be the input folder')
    .option('--workers <n>', 'parallel ffmpeg processes (default: one per core)', positiveInt)
    .option('--ext <list>', 'extensions to convert, comma-separated', extensionList, [...COMPRESSED_AUDIO_EXTENSIONS])
    .option('--sample-rate <hz>', 'output sample rate', positiveInt, 16000)
    .option('--ffmpeg <path>', 'ffmpeg executable (default: ffmpeg on the PATH)')
    .option('-q, --quiet', 'no progress lines')
    .action(async (inputDir: string, opts: ConvertCliOptions) => {
      const jobs = await planConversion(inputDir, opts.out, { extensions: opts.ext });
      if (jobs.length === 0) {
        throw new VoxkitError('E_DATA', `${inputDir}: no files with extension ${opts.ext.map((e) => `.${e}`).join(', ')} found`, { file: inputDir });
      }
      const progress = countProgress(io, 'convert', { quiet: opts.quiet });
      const controller = new AbortController();
      const onSignal = () => controller.abort(new VoxkitError('E_USAGE', 'interrupted; run the same command again to resume'));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let result;
      try {
        result = await convertAudioFiles(jobs, {
          workers: opts.workers,
          sampleRateHz: opts.sampleRate,
          ffmpegPath: opts.ffmpeg,
          signal: controller.signal,
          onProgress: (p: ConversionProgress) => {
            if (p.outcome === 'failed') progress.line(`convert: failed: ${displayPath(inputDir, p.input)}`);
            progress.update(p.done, p.total, displayPath(inputDir, p.input));
          },
        });
      } finally {
        progress.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      const failuresFile = await writeConversionFailures(opts.out, result.failed);
      io.stdout(`converted ${result.converted}, skipped ${result.skipped} (already converted), failed ${result.failed.length}; output in ${resolve(opts.out)}\n`);
      if (result.failed.length > 0) {
        const shown = result.failed.slice(0, 10);
        for (const f of shown) io.stderr(`voxkit: ${f.input}: ${f.error}\n`);
        if (result.failed.length > shown.length) io.stderr(`voxkit: … and ${result.failed.length - shown.length} more\n`);
        io.stderr(`voxkit: ${result.failed.length} of ${jobs.length} file(s) could not be converted; the list is in ${failuresFile}\n`);
        throw new PartialFailure(result.failed.length);
      }
    });
}
