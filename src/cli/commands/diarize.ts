import { mkdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { Option, type Command } from 'commander';
import { VoxkitError, formatError } from '../../errors.js';
import { disposeLoadedEncoder, loadEncoder } from '../../api/load-encoder-node.js';
import { writeFileAtomic } from '../../io/atomic-write-node.js';
import type { ClusterMethod } from '../../cluster/cluster.js';
import {
  DEFAULT_DIARIZE_METHOD,
  DEFAULT_DIARIZE_THRESHOLD,
  DEFAULT_MAX_SPEAKERS,
  DEFAULT_MIN_CONFIDENCE,
} from '../../diarize/diarize.js';
import { diarizeFile, type FileDiarization } from '../../diarize/diarize-node.js';
import { DEFAULT_WINDOW_SEC, DEFAULT_HOP_SEC } from '../../diarize/windows.js';
import { formatRttm } from '../../diarize/rttm.js';
import { PartialFailure, type CliIO } from '../main.js';
import { finiteNumber, positiveInt, positiveNumber, prepareBackend } from '../options.js';
import { addEngineOptions, type EngineCliOptions } from './engine-options.js';

interface DiarizeCliOptions extends EngineCliOptions {
  weights: string;
  model?: string;
  numSpeakers?: number;
  minSpeakers?: number;
  maxSpeakers?: number;
  method: ClusterMethod;
  threshold?: number;
  window: number;
  hop: number;
  minConfidence: number;
  rttm?: string;
  json?: string;
  db?: string;
  dbThreshold?: number;
}

function confidenceValue(value: string): number {
  const n = finiteNumber(value);
  if (n < 0 || n > 1) throw new VoxkitError('E_USAGE', `--min-confidence must be between 0 and 1, got ${value}`);
  return n;
}

/** The RTTM file id of a recording: its file name without the extension. */
export function recordingId(file: string): string {
  return basename(file, extname(file));
}

export function registerDiarize(program: Command, io: CliIO): void {
  const command = program
    .command('diarize')
    .description('who spoke when: speech detection, sliding-window embeddings, clustering; a segment table, RTTM and JSON')
    .argument('<audio...>', 'recordings (WAV natively; other formats through ffmpeg)')
    .requiredOption('-w, --weights <file>', 'checkpoint of a speaker encoder')
    .option('-m, --model <name>', 'architecture, when it cannot be detected from the weights')
    .option('-k, --num-speakers <k>', 'number of speakers, when known (otherwise estimated)', positiveInt)
    .option('--min-speakers <k>', 'lower bound on the estimated number of speakers (default 1)', positiveInt)
    .option('--max-speakers <n>', `upper bound on the estimated number of speakers (default ${DEFAULT_MAX_SPEAKERS})`, positiveInt)
    .addOption(new Option('--method <method>', 'clustering: ahc (count by silhouette, or --threshold) or spectral (eigengap)').choices(['ahc', 'spectral']).default(DEFAULT_DIARIZE_METHOD))
    .option('-t, --threshold <t>', `ahc: stop merging below this average cosine similarity of centred window embeddings (e.g. ${DEFAULT_DIARIZE_THRESHOLD}; default: the count with the best silhouette)`, finiteNumber)
    .option('--window <sec>', 'analysis window length in seconds', positiveNumber, DEFAULT_WINDOW_SEC)
    .option('--hop <sec>', 'step between windows in seconds', positiveNumber, DEFAULT_HOP_SEC)
    .option('-c, --min-confidence <c>', 'segments below this confidence (0–1) are flagged for review', confidenceValue, DEFAULT_MIN_CONFIDENCE)
    .option('--rttm <path>', 'write RTTM: a file (one recording) or a folder (one <name>.rttm per recording)')
    .option('--json <file>', 'write the segments, speakers and settings as JSON ("-" for standard output, instead of the table)')
    .option('--db <path>', 'speaker database (voxkit enroll): name the speakers it knows')
    .option('--db-threshold <t>', 'open-set threshold for naming (default: the database\'s stored one)', finiteNumber);
  addEngineOptions(command)
    .action(async (audio: string[], opts: DiarizeCliOptions, cmd: Command) => {
      if (opts.minSpeakers !== undefined && opts.maxSpeakers !== undefined && opts.minSpeakers > opts.maxSpeakers) {
        throw new VoxkitError('E_USAGE', `--min-speakers (${opts.minSpeakers}) is larger than --max-speakers (${opts.maxSpeakers})`);
      }
      if (opts.threshold !== undefined && opts.method !== 'ahc') throw new VoxkitError('E_USAGE', '--threshold applies to --method ahc only');
      if (opts.dbThreshold !== undefined && !opts.db) throw new VoxkitError('E_USAGE', '--db-threshold needs --db');
      const rttmTarget = opts.rttm ? await resolveRttmTarget(opts.rttm, audio) : undefined;
      await prepareBackend(cmd);
      const loaded = await loadEncoder(opts.weights, { model: opts.model, engine: opts.engine, threads: opts.threads });
      const results: FileDiarization[] = [];
      let failures = 0;
      try {
        for (const file of audio) {
          try {
            const result = await diarizeFile(loaded, file, {
              numSpeakers: opts.numSpeakers,
              minSpeakers: opts.minSpeakers,
              maxSpeakers: opts.maxSpeakers,
              method: opts.method,
              threshold: opts.threshold,
              windowSec: opts.window,
              hopSec: opts.hop,
              minConfidence: opts.minConfidence,
              db: opts.db,
              dbThreshold: opts.dbThreshold,
            });
            results.push(result);
            if (opts.json !== '-') io.stdout(formatTable(result));
            if (rttmTarget) {
              const path = rttmTarget.kind === 'file' ? rttmTarget.path : join(rttmTarget.path, `${recordingId(file)}.rttm`);
              await writeFileAtomic(path, formatRttm(recordingId(file), result.segments), 'RTTM file');
            }
          } catch (err) {
            if (!(err instanceof VoxkitError)) throw err;
            failures++;
            io.stderr(`voxkit: ${formatError(err)}\n`);
          }
        }
      } finally {
        disposeLoadedEncoder(loaded);
      }
      if (opts.json !== undefined && results.length > 0) {
        const text = `${JSON.stringify({ weights: opts.weights, recordings: results.map(toJson) }, null, 2)}\n`;
        if (opts.json === '-') io.stdout(text);
        else await writeFileAtomic(opts.json, text, 'JSON file');
      }
      if (failures > 0) {
        io.stderr(`voxkit: ${failures === audio.length ? 'no recording could be diarized' : `${failures} of ${audio.length} recording(s) failed; the others were diarized`}\n`);
        throw new PartialFailure(failures);
      }
    });
}

type RttmTarget = { kind: 'file' | 'dir'; path: string };

/** A folder when it already is one, ends with a separator or several recordings need one file each. */
async function resolveRttmTarget(path: string, audio: readonly string[]): Promise<RttmTarget> {
  const isDir = await stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (isDir) return { kind: 'dir', path };
  if (audio.length > 1 || path.endsWith('/')) {
    const ids = audio.map(recordingId);
    const clash = ids.find((id, i) => ids.indexOf(id) !== i);
    if (clash) throw new VoxkitError('E_USAGE', `two recordings would both write ${clash}.rttm; diarize them separately`);
    try {
      await mkdir(path, { recursive: true });
    } catch (cause) {
      throw new VoxkitError('E_IO', `${path}: cannot create the RTTM folder (${(cause as NodeJS.ErrnoException)?.code ?? cause})`, { file: path, cause });
    }
    return { kind: 'dir', path };
  }
  return { kind: 'file', path };
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

function toJson(r: FileDiarization): Record<string, unknown> {
  return {
    file: r.file,
    durationSec: r3(r.durationSec),
    speechSec: r3(r.speechRegions.reduce((s, x) => s + x.end - x.start, 0)),
    numSpeakers: r.speakers.length,
    countSource: r.countSource,
    method: r.method,
    minConfidence: r.minConfidence,
    naming: r.naming,
    speakers: r.speakers.map((s) => ({ name: s.name, speechSec: r3(s.speechSec), ...(s.score !== undefined ? { score: r3(s.score) } : {}) })),
    segments: r.segments.map((s) => ({ start: r3(s.start), end: r3(s.end), speaker: s.speaker, confidence: r3(s.confidence), review: s.review })),
  };
}

function clock(sec: number): string {
  const m = Math.floor(sec / 60);
  return `${m}:${(sec - m * 60).toFixed(2).padStart(5, '0')}`;
}

function formatTable(r: FileDiarization): string {
  const speech = r.speechRegions.reduce((s, x) => s + x.end - x.start, 0);
  const count = `${r.speakers.length} speaker${r.speakers.length === 1 ? '' : 's'} (${r.countSource === 'given' ? 'given' : `estimated, ${r.method}`})`;
  const lines = [`${r.file}: ${count}, ${r.durationSec.toFixed(1)} s, speech ${speech.toFixed(1)} s`];
  if (r.naming) lines.push(`  names from ${r.naming.db} (threshold ${r.naming.threshold}, ${r.naming.thresholdSource})`);
  if (r.segments.length === 0) lines.push('  no speech found');
  const width = Math.max(7, ...r.segments.map((s) => s.speaker.length));
  if (r.segments.length) lines.push(`  ${'start'.padStart(8)}  ${'end'.padStart(8)}  ${'speaker'.padEnd(width)}  confidence`);
  for (const s of r.segments) {
    lines.push(`  ${clock(s.start).padStart(8)}  ${clock(s.end).padStart(8)}  ${s.speaker.padEnd(width)}  ${s.confidence.toFixed(2)}${s.review ? '  review' : ''}`);
  }
  const reviews = r.segments.filter((s) => s.review).length;
  if (reviews) lines.push(`  ${reviews} segment(s) below confidence ${r.minConfidence}: check them`);
  return `${lines.join('\n')}\n`;
}
