import type { Command } from 'commander';
import { enrollFiles } from '../../speakers/enroll-node.js';
import type { CliIO } from '../main.js';
import { positiveInt, prepareBackend } from '../options.js';
import { addEngineOptions, type EngineCliOptions } from './engine-options.js';

interface EnrollCliOptions extends EngineCliOptions {
  db: string;
  speaker: string;
  weights: string;
  model?: string;
  crops?: number;
  cropFrames?: number;
  json?: boolean;
}

export function registerEnroll(program: Command, io: CliIO): void {
  const command = program
    .command('enroll')
    .description("add recordings of a speaker to a speaker database (created if missing): their embeddings and the speaker's centroid")
    .argument('<audio...>', 'recordings of the speaker (WAV natively; other formats through ffmpeg)')
    .requiredOption('--db <path>', 'speaker database (a directory)')
    .requiredOption('--speaker <name>', 'speaker name (appended to when already enrolled)')
    .requiredOption('-w, --weights <file>', 'checkpoint; the database remembers it and refuses embeddings of another model')
    .option('-m, --model <name>', 'architecture, when it cannot be detected from the weights')
    .option('--crops <n>', 'voxceleb models: embed N evenly spaced crops instead of the whole recording', positiveInt)
    .option('--crop-frames <frames>', 'frames per crop', positiveInt)
    .option('--json', 'print a JSON object');
  addEngineOptions(command)
    .action(async (audio: string[], opts: EnrollCliOptions, cmd: Command) => {
      await prepareBackend(cmd);
      const { speaker, added } = await enrollFiles(opts.db, opts.speaker, audio, {
        weights: opts.weights,
        model: opts.model,
        crops: opts.crops,
        cropFrames: opts.cropFrames,
        engine: opts.engine,
        threads: opts.threads,
      });
      if (opts.json) {
        io.stdout(`${JSON.stringify({ db: opts.db, speaker: speaker.name, added, embeddings: speaker.embeddings.length, enrolledAt: speaker.enrolledAt, updatedAt: speaker.updatedAt })}\n`);
      } else {
        const total = speaker.embeddings.length === added ? 'new speaker' : `${speaker.embeddings.length} recordings in all`;
        io.stdout(`enrolled ${added} recording(s) of "${speaker.name}" (${total}) in ${opts.db}\n`);
      }
    });
}
