import { InvalidArgumentError, type Command } from 'commander';
import type { CliIO } from '../main.js';
import { finiteNumber, positiveInt } from '../options.js';
import { synthesizeCorpus, type SynthProgress } from '../../synth/corpus-node.js';
import { ENGINE_NAMES } from '../../synth/engines/load-engines-node.js';
import type { EngineName } from '../../synth/engines/engine.js';

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

function seedValue(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError('expected an integer in 0..4294967295');
  return n;
}

function commaList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function engineList(value: string): EngineName[] {
  const names = commaList(value);
  for (const name of names) {
    if (!ENGINE_NAMES.includes(name as EngineName)) throw new InvalidArgumentError(`unknown engine "${name}"; valid: ${ENGINE_NAMES.join(', ')}`);
  }
  return names as EngineName[];
}

interface SynthCliOptions {
  out: string;
  speakers: number;
  utterances: number;
  seed: number;
  languages?: string[];
  sessions?: number;
  trials?: number;
  valSpeakers?: number;
  channels?: number;
  channelSeverity?: number;
  engines?: EngineName[];
  workers?: number;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function registerSynth(program: Command, io: CliIO): void {
  program
    .command('synth')
    .description('synthesize a multi-speaker corpus in VoxCeleb layout (train_list.txt, veri_test.txt) with built-in speech synthesizers')
    .requiredOption('-o, --out <dir>', 'output folder')
    .option('--speakers <n>', 'speakers, training and held-out', positiveInt, 40)
    .option('--utterances <m>', 'utterances per speaker', positiveInt, 10)
    .option('--seed <s>', 'random seed (same seed, same engines and package versions: byte-identical files, with Flite and with eSpeak NG)', seedValue, 1)
    .option('--languages <list>', 'comma-separated ISO 639-1 codes (en,de,fr,es,it,nl,pt); default: all the installed engines speak', commaList)
    .option('--sessions <k>', 'recording sessions per speaker, each through a different channel (default min(3, utterances))', positiveInt)
    .option('--trials <t>', 'trials in veri_test.txt, about half same-speaker (default 1000)', positiveInt)
    .option('--val-speakers <v>', 'speakers held out of train_list.txt for veri_test.txt (default max(2, speakers/4))', positiveInt)
    .option('--channels <p>', 'size of the channel pool shared by all speakers (default max(12, 2 × sessions))', positiveInt)
    .option('--channel-severity <s>', 'how strongly recording sessions colour the audio: 0 = clean studio … 1 = default … 2 = harsh', finiteNumber)
    .option('--engines <list>', `speech engines to use (${ENGINE_NAMES.join(', ')}); default: every installed one`, engineList)
    .option('--workers <w>', 'worker threads (0 = none); default one per core, at most 4', nonNegativeInt)
    .option('--force', 'replace a corpus already in the output folder')
    .option('--json', 'print corpus.json when done')
    .option('-q, --quiet', 'no progress lines')
    .action(async (opts: SynthCliOptions) => {
      let nextReport = 0.1;
      const report = (p: SynthProgress) => {
        if (opts.quiet || p.phase !== 'rendering') return;
        if (p.done / p.total + 1e-9 < nextReport && p.done !== p.total) return;
        while (nextReport <= p.done / p.total + 1e-9) nextReport += 0.1;
        io.stderr(`synth: ${p.done}/${p.total} utterances (${Math.round((100 * p.done) / p.total)}%), ${p.elapsedSec.toFixed(1)} s\n`);
      };
      const result = await synthesizeCorpus(
        {
          outDir: opts.out,
          speakers: opts.speakers,
          utterancesPerSpeaker: opts.utterances,
          seed: opts.seed,
          languages: opts.languages,
          sessionsPerSpeaker: opts.sessions,
          trials: opts.trials,
          heldOutSpeakers: opts.valSpeakers,
          channelPoolSize: opts.channels,
          channelSeverity: opts.channelSeverity,
          engines: opts.engines,
          workers: opts.workers,
          overwrite: opts.force,
        },
        report,
      );
      if (opts.json) {
        io.stdout(`${JSON.stringify(result.corpus)}\n`);
        return;
      }
      const c = result.corpus.counts;
      const engines = result.corpus.engines.map((e) => `${e.name} ${e.version} (${e.speakers} speakers)`).join(', ');
      io.stdout(
        [
          `corpus      ${result.outDir}`,
          `speakers    ${c.speakers} (${c.trainSpeakers} train, ${c.testSpeakers} held out)`,
          `utterances  ${c.utterances} (${c.trainUtterances} train, ${c.testUtterances} held out), ${(result.corpus.totalDurationSec / 60).toFixed(1)} min of audio`,
          `trials      ${c.trials} (${c.targetTrials} same speaker)`,
          `languages   ${result.corpus.languages.join(', ')}`,
          `engines     ${engines}`,
          `time        ${result.elapsedSec.toFixed(1)} s`,
          '',
        ].join('\n'),
      );
    });
}
