import { Argument, InvalidArgumentError, type Command } from 'commander';
import { resolve } from 'node:path';
import { VoxkitError } from '../../errors.js';
import { downloadDataset, type DownloadEvent } from '../../data/download/download-node.js';
import { DATASET_NAMES } from '../../data/download/parts.js';
import type { CliIO } from '../main.js';
import { positiveInt } from '../options.js';
import { countProgress, type CountProgress } from './convert.js';

interface DownloadCliOptions {
  out: string;
  user?: string;
  password?: string;
  key?: string;
  keyHeader?: string;
  baseUrl?: string;
  partsFile?: string;
  retries?: number;
  checksumRetries?: number;
  keepParts?: boolean;
  deleteArchives?: boolean;
  quiet?: boolean;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

const MB = 1024 * 1024;

export function registerDownload(program: Command, io: CliIO): void {
  program
    .command('download')
    .description('download a dataset (VoxCeleb1/2 with your credentials, MUSAN, RIRS_NOISES): resumable, MD5-checked, parts joined and extracted safely')
    .addArgument(new Argument('<dataset>', 'dataset').choices([...DATASET_NAMES]))
    .requiredOption('-o, --out <dir>', 'output folder (parts, archives and the extracted dataset)')
    .option('--user <name>', 'VoxCeleb login, HTTP basic auth (default: $VOXKIT_VOX_USER)')
    .option('--password <password>', 'VoxCeleb password (default: $VOXKIT_VOX_PASSWORD)')
    .option('--key <key>', 'VoxCeleb access key: fills {key} in the URL, else sent as key=… (default: $VOXKIT_VOX_KEY)')
    .option('--key-header <name>', 'send the key in this HTTP header instead of the URL')
    .option('--base-url <url>', 'where the files are now: a prefix the file name is appended to, or a template with {file} (and {key})')
    .option('--parts-file <file>', 'custom part list: "URL-or-name MD5" lines, optional "PATTERN ARCHIVE MD5" join lines')
    .option('--retries <n>', 'network retries per file (resuming each time)', nonNegativeInt, 5)
    .option('--checksum-retries <n>', 'fresh downloads after an MD5 mismatch', nonNegativeInt, 2)
    .option('--keep-parts', 'keep the parts of multi-part archives after joining them')
    .option('--delete-archives', 'delete each archive after it was extracted')
    .option('-q, --quiet', 'no progress lines')
    .action(async (dataset: string, opts: DownloadCliOptions) => {
      const user = opts.user ?? process.env.VOXKIT_VOX_USER;
      const password = opts.password ?? process.env.VOXKIT_VOX_PASSWORD;
      const key = opts.key ?? process.env.VOXKIT_VOX_KEY;
      if (user !== undefined && password === undefined) throw new VoxkitError('E_USAGE', '--user needs --password (or VOXKIT_VOX_PASSWORD)');
      if (opts.keyHeader && key === undefined) throw new VoxkitError('E_USAGE', '--key-header needs --key (or VOXKIT_VOX_KEY)');

      let bar: CountProgress | undefined;
      let barFile = '';
      let announced = '';
      const stopBar = () => {
        bar?.stop();
        bar = undefined;
      };
      const say = (text: string) => (bar ? bar.line(text) : io.stderr(`${text}\n`));
      const onProgress = (e: DownloadEvent) => {
        if (opts.quiet && e.type !== 'checksum-mismatch') return;
        switch (e.type) {
          case 'part-start':
            stopBar();
            say(`download: ${e.file} (${e.index}/${e.count}) from ${e.url}`);
            break;
          case 'bytes':
            if (e.totalBytes === undefined) break;
            if (!bar || barFile !== e.file) {
              stopBar();
              bar = countProgress(io, `download ${e.file}`, { unit: 'MB' });
              barFile = e.file;
            }
            {
              const totalMb = Math.max(1, Math.ceil(e.totalBytes / MB));
              bar.update(e.bytes >= e.totalBytes ? totalMb : Math.floor(e.bytes / MB), totalMb, '');
            }
            break;
          case 'part-done':
            stopBar();
            say(`download: ${e.file} ok (${(e.bytes / MB).toFixed(1)} MB, MD5 verified${e.resumedFrom > 0 ? `, resumed at ${(e.resumedFrom / MB).toFixed(1)} MB` : ''})`);
            break;
          case 'part-skipped':
            say(`download: ${e.file} already there with the right MD5, skipped`);
            break;
          case 'verify':
            say(`download: checking the MD5 of ${e.file}`);
            break;
          case 'retry':
            say(`download: ${e.file}: ${e.error}; retrying in ${(e.delayMs / 1000).toFixed(1)} s${e.resumeFrom > 0 ? ` from byte ${e.resumeFrom}` : ''}`);
            break;
          case 'checksum-mismatch':
            stopBar();
            say(`download: ${e.file}: MD5 mismatch (expected ${e.expected}, got ${e.actual})${e.willRetry ? '; deleted, downloading again' : ''}`);
            break;
          case 'concatenate':
            say(`download: joining ${e.parts.length} parts into ${e.archive}`);
            break;
          case 'extract':
            if (announced !== e.archive) {
              announced = e.archive;
              stopBar();
              say(`download: extracting ${e.archive} into ${e.target}`);
              if (e.totalEntries !== undefined) {
                bar = countProgress(io, `extract ${e.archive}`, { unit: 'entries' });
                barFile = `extract:${e.archive}`;
              }
            }
            if (e.totalEntries !== undefined) bar?.update(e.entries, e.totalEntries, '');
            break;
          case 'extracted':
            stopBar();
            say(`download: ${e.archive}: ${e.entries} entries extracted`);
            break;
          case 'archive-skipped':
            say(`download: ${e.archive} already extracted, skipped`);
            break;
        }
      };

      const controller = new AbortController();
      const onSignal = () => controller.abort(new VoxkitError('E_USAGE', 'interrupted; run the same command again to resume'));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const result = await downloadDataset(dataset, {
          out: opts.out,
          user,
          password,
          key,
          keyHeader: opts.keyHeader,
          baseUrl: opts.baseUrl,
          partsFile: opts.partsFile,
          retries: opts.retries,
          checksumRetries: opts.checksumRetries,
          keepParts: opts.keepParts,
          deleteArchives: opts.deleteArchives,
          onProgress,
          signal: controller.signal,
        });
        stopBar();
        const where = resolve(opts.out);
        if (result.alreadyDone) io.stdout(`${dataset} is already downloaded and extracted in ${where}\n`);
        else io.stdout(`${dataset}: ${result.downloaded.length} file(s) downloaded, ${result.archives.length} archive(s) extracted in ${where}\n`);
      } finally {
        stopBar();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
