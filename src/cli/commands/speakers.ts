import type { Command } from 'commander';
import { VoxkitError } from '../../errors.js';
import { SpeakerDatabase, describeModel } from '../../speakers/database-node.js';
import type { CliIO } from '../main.js';
import { finiteNumber } from '../options.js';

interface SpeakersCliOptions {
  db: string;
  rename?: string[];
  remove?: string;
  setThreshold?: number;
  calibrate?: boolean;
  json?: boolean;
}

export function registerSpeakers(program: Command, io: CliIO): void {
  program
    .command('speakers')
    .description('list the speakers of a speaker database, or rename, remove, or set its threshold')
    .requiredOption('--db <path>', 'speaker database made by voxkit enroll')
    .option('--rename <names...>', 'rename speaker OLD to NEW (two names)')
    .option('--remove <name>', 'remove a speaker and all its embeddings')
    .option('--set-threshold <t>', 'store the open-set threshold voxkit identify uses by default', finiteNumber)
    .option('--calibrate', 'calibrate the threshold on the enrolled speakers (leave-one-out EER point) and store it')
    .option('--json', 'print JSON')
    .action(async (opts: SpeakersCliOptions) => {
      const actions = [opts.rename, opts.remove, opts.setThreshold, opts.calibrate].filter((a) => a !== undefined);
      if (actions.length > 1) throw new VoxkitError('E_USAGE', 'give one of --rename, --remove, --set-threshold, --calibrate at a time');
      if (opts.rename && opts.rename.length !== 2) throw new VoxkitError('E_USAGE', `--rename takes two names, OLD and NEW (got ${opts.rename.length})`);
      const db = SpeakerDatabase.open(opts.db, { readOnly: actions.length === 0 });
      try {
        if (opts.rename) {
          db.rename(opts.rename[0], opts.rename[1]);
          report(io, opts, { renamed: { from: opts.rename[0], to: opts.rename[1] } }, `renamed "${opts.rename[0]}" to "${opts.rename[1]}"`);
        } else if (opts.remove !== undefined) {
          db.remove(opts.remove);
          report(io, opts, { removed: opts.remove }, `removed "${opts.remove}"`);
        } else if (opts.setThreshold !== undefined) {
          const threshold = db.setThreshold(opts.setThreshold);
          report(io, opts, { threshold }, `threshold set to ${threshold.value}`);
        } else if (opts.calibrate) {
          const c = db.calibrate();
          report(
            io,
            opts,
            { threshold: c.stored, targets: c.targets, nonTargets: c.nonTargets },
            `threshold calibrated to ${c.threshold.toFixed(4)} (leave-one-out EER ${c.eer.toFixed(1)} % on ${c.targets} known-speaker and ${c.nonTargets} unknown-speaker trials)`,
          );
        } else {
          list(io, db, opts);
        }
      } finally {
        await db.close();
      }
    });
}

function report(io: CliIO, opts: SpeakersCliOptions, json: Record<string, unknown>, text: string): void {
  io.stdout(opts.json ? `${JSON.stringify({ db: opts.db, ...json })}\n` : `${opts.db}: ${text}\n`);
}

function list(io: CliIO, db: SpeakerDatabase, opts: SpeakersCliOptions): void {
  const speakers = db.speakers();
  const model = db.model();
  const threshold = db.threshold();
  if (opts.json) {
    const rows = speakers.map((s) => ({ name: s.name, embeddings: s.embeddings.length, sources: s.sources, enrolledAt: s.enrolledAt, updatedAt: s.updatedAt }));
    io.stdout(`${JSON.stringify({ db: opts.db, model: model ?? null, threshold: threshold ?? null, speakers: rows })}\n`);
    return;
  }
  io.stdout(`${opts.db}: ${speakers.length} speaker(s)${model ? `, model ${describeModel(model)}` : ''}\n`);
  io.stdout(threshold ? `threshold ${threshold.value.toFixed(4)} (${threshold.source}, ${threshold.updatedAt})\n` : 'threshold: none stored (voxkit speakers --calibrate)\n');
  if (speakers.length === 0) return;
  const width = Math.max(4, ...speakers.map((s) => s.name.length));
  io.stdout(`${'name'.padEnd(width)}  recordings  enrolled at               sources\n`);
  for (const s of speakers) {
    const sources = s.sources.slice(0, 3).join(', ') + (s.sources.length > 3 ? `, … (${s.sources.length - 3} more)` : '');
    io.stdout(`${s.name.padEnd(width)}  ${String(s.embeddings.length).padStart(10)}  ${s.enrolledAt.padEnd(24)}  ${sources}\n`);
  }
}
