import { InvalidArgumentError, type Command } from 'commander';
import { VoxkitError } from '../../errors.js';
import { CORPUS_NAMES, getCorpusReader } from '../../data/corpora/registry.js';
import { prepareCorpus, type PrepareCorpusOptions } from '../../data/prepare-node.js';
import type { CliIO } from '../main.js';
import { NOISE_PREPARE_TARGETS } from './prepare-noise.js';
import { positiveInt, positiveNumber } from '../options.js';
import { addSv2ttsOptions, runSv2ttsAfterPrepare } from './prepare-sv2tts.js';

/** Everything `voxkit prepare` parses; a target reads the options it understands. */
export interface PrepareCommandOptions {
  root: string;
  out?: string;
  valSpeakers?: number;
  seed?: number;
  trials?: number;
  subset?: string[];
  nationality?: string[];
  language?: string[];
  tsv?: string[];
  minUtterances?: number;
  singers?: string[];
  techniques?: string[];
  mic?: 'mic1' | 'mic2';
  minDuration?: number;
  durations?: boolean;
  strict?: boolean;
  convert?: boolean;
  workers?: number;
  json?: boolean;
  [other: string]: unknown;
}

/** What `voxkit prepare <name>` does for one name: a speech corpus, or another kind of data set. */
export interface PrepareTarget {
  description: string;
  run(options: PrepareCommandOptions, io: CliIO): Promise<void>;
}

function corpusTarget(name: string): PrepareTarget {
  return {
    description: getCorpusReader(name).description,
    async run(opts, io) {
      const options: PrepareCorpusOptions = {
        dataset: name,
        root: opts.root,
        ...(opts.out === undefined ? {} : { out: opts.out }),
        ...(opts.valSpeakers === undefined ? {} : { valSpeakers: opts.valSpeakers }),
        ...(opts.seed === undefined ? {} : { seed: opts.seed }),
        ...(opts.trials === undefined ? {} : { trials: opts.trials }),
        ...(opts.subset === undefined ? {} : { subsets: opts.subset }),
        ...(opts.nationality === undefined ? {} : { nationalities: opts.nationality }),
        ...(opts.language === undefined ? {} : { languages: opts.language }),
        ...(opts.tsv === undefined ? {} : { tsv: opts.tsv }),
        ...(opts.singers === undefined ? {} : { singers: opts.singers }),
        ...(opts.techniques === undefined ? {} : { techniques: opts.techniques }),
        ...(opts.mic === undefined ? {} : { mic: opts.mic }),
        ...(opts.minUtterances === undefined ? {} : { minUtterances: opts.minUtterances }),
        ...(opts.minDuration === undefined ? {} : { minDuration: opts.minDuration }),
        durations: Boolean(opts.durations),
        strict: Boolean(opts.strict),
        convert: Boolean(opts.convert),
        ...(opts.workers === undefined ? {} : { workers: opts.workers }),
        onProgress: (event) => {
          // Small corpora are checked in a moment; progress lines would only be noise.
          if (opts.json || (event.total !== undefined && event.total < 2000)) return;
          if (event.phase === 'scan') io.stderr(`scanning ${opts.root} as ${name}…\n`);
          else if (event.phase === 'convert' && event.total) io.stderr(`converting to WAV ${event.done}/${event.total}\n`);
          else if (event.phase === 'check' && event.total) io.stderr(`checking audio ${event.done}/${event.total}\n`);
        },
      };
      const result = await prepareCorpus(options);
      if (opts.json) io.stdout(`${JSON.stringify(result.summary)}\n`);
      else {
        io.stdout(result.table);
        const s = result.summary;
        const val = s.files.includes('val_list.txt') ? ` --val-list ${s.out}/val_list.txt` : '';
        io.stdout(`next        voxkit train --train-list ${s.out}/train_list.txt --train-path ${s.root}${val} --test-path ${s.root} …\n`);
      }
      if (opts.sv2tts) await runSv2ttsAfterPrepare(result.summary, opts, io);
    },
  };
}

/** `voxkit prepare` targets by name; other kinds of data (noise, impulse responses) plug in here. */
export const PREPARE_TARGETS: Record<string, PrepareTarget> = {
  ...Object.fromEntries(CORPUS_NAMES.map((name) => [name, corpusTarget(name)])),
  ...NOISE_PREPARE_TARGETS,
};

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function speakerCountOrFraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || (n >= 1 && !Number.isInteger(n))) {
    throw new InvalidArgumentError('expected a speaker count (0, 1, 2, …) or a fraction between 0 and 1');
  }
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer ≥ 0');
  return n;
}

function micName(value: string): 'mic1' | 'mic2' {
  const v = value.trim().toLowerCase();
  if (v === '1' || v === 'mic1') return 'mic1';
  if (v === '2' || v === 'mic2') return 'mic2';
  throw new InvalidArgumentError('expected mic1 or mic2');
}

export function registerPrepare(program: Command, io: CliIO): void {
  const command = program
    .command('prepare')
    .description('check a corpus in its published layout and write train/validation lists, trial lists, a summary and a problem list')
    .argument('<dataset>', `what the root holds: ${Object.keys(PREPARE_TARGETS).join(', ')}`)
    .requiredOption('--root <dir>', 'the corpus folder, as unpacked from its archives')
    .option('--out <dir>', 'where to write the lists (default <root>/voxkit)')
    .option('--val-speakers <n>', 'held-out validation speakers: a count, a fraction (0.05 = 5 %) or 0 (default 0.05)', speakerCountOrFraction)
    .option('--seed <n>', 'seed of the validation split and generated trials (default 0)', nonNegativeInt)
    .option('--trials <n>', 'trials per generated list (default 2000, fewer when the speakers cannot supply them)', positiveInt)
    .option('--subset <name>', 'LibriSpeech subset, e.g. train-clean-100 (repeatable or comma-separated)', collect)
    .option('--nationality <list>', 'VoxCeleb1: keep these nationalities from vox1_meta.csv ("anglophone" = RTVC\'s English-speaking list)', collect)
    .option('--language <code>', 'Common Voice language / M-AILABS locale to read (repeatable or comma-separated; default all)', collect)
    .option('--tsv <names>', 'Common Voice lists to read: validated (default), train, dev, test, other, invalidated', collect)
    .option('--min-utterances <n>', 'leave out speakers with fewer recordings', positiveInt)
    .option('--singers <list>', 'VocalSet singers (female1 or f1, …)', collect)
    .option('--techniques <list>', 'VocalSet techniques (belt, breathy, vibrato, straight, …)', collect)
    .option('--mic <mic>', 'VCTK 0.92 microphone: mic1 (default) or mic2', micName)
    .option('--min-duration <s>', 'leave out recordings shorter than this many seconds (when their length is known)', positiveNumber)
    .option('--durations', 'measure compressed audio with ffprobe (WAV lengths come from their headers)')
    .option('--strict', 'stop with exit code 2 on any problem (problems.txt is still written)')
    .option('--convert', 'convert compressed recordings to 16 kHz mono WAV beside the originals (needs ffmpeg; converted files are skipped on reruns)')
    .option('--workers <n>', 'parallel ffprobe/ffmpeg processes (default 4 / one per core)', positiveInt)
    .option('--json', 'print the summary as JSON');
  addSv2ttsOptions(command).action(async (dataset: string, opts: PrepareCommandOptions) => {
    const target = PREPARE_TARGETS[dataset.toLowerCase()];
    if (!target) throw new VoxkitError('E_USAGE', `unknown dataset "${dataset}"; valid names: ${Object.keys(PREPARE_TARGETS).join(', ')}`);
    await target.run(opts, io);
  });
}
