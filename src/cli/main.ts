/**
 * The `voxkit` command line. Each command lives in src/cli/commands/ and calls the library API;
 * this file owns argument parsing and the one place errors become exit codes:
 * 0 success, 2 bad input (usage, audio, checkpoint, data; one line naming the file), 1 internal error.
 */
import { Command, CommanderError, Option } from 'commander';
import { formatError, VoxkitError } from '../errors.js';
import { BACKEND_NAMES, type BackendName } from '../core/backend.js';
import { VERSION } from '../version.js';
import { registerInspect } from './commands/inspect.js';
import { registerEmbed } from './commands/embed.js';
import { registerVerify } from './commands/verify.js';
import { registerEval } from './commands/eval.js';
import { registerSynth } from './commands/synth.js';
import { registerTrain } from './commands/train.js';
import { registerDemo } from './commands/demo.js';
import { registerConvert } from './commands/convert.js';
import { registerDownload } from './commands/download.js';
import { registerProject } from './commands/project.js';
import { registerCluster } from './commands/cluster.js';
import { registerPrepare } from './commands/prepare.js';
import { registerEnroll } from './commands/enroll.js';
import { registerIdentify } from './commands/identify.js';
import { registerSpeakers } from './commands/speakers.js';
import { registerDiarize } from './commands/diarize.js';
import { registerCache } from './commands/cache.js';
import { registerExport } from './commands/export.js';
import { registerServe } from './commands/serve.js';

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface GlobalOptions {
  backend?: BackendName;
  debug?: boolean;
}

/** Thrown by commands that processed what they could but had failures to report (exit code 2). */
export class PartialFailure extends Error {
  constructor(readonly failures: number) {
    super(`${failures} input(s) failed`);
  }
}

const defaultIO: CliIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

export function buildProgram(io: CliIO): Command {
  const program = new Command('voxkit')
    .description('Speaker recognition in TypeScript: embed, verify and inspect with voxceleb_trainer, RTVC and singer encoders')
    .version(VERSION, '-V, --version')
    .addOption(new Option('--backend <name>', 'compute backend').choices([...BACKEND_NAMES]))
    .option('--debug', 'print stack traces of errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerInspect(program, io);
  registerEmbed(program, io);
  registerVerify(program, io);
  registerEval(program, io);
  registerSynth(program, io);
  registerTrain(program, io);
  registerDemo(program, io);
  registerConvert(program, io);
  registerDownload(program, io);
  registerProject(program, io);
  registerCluster(program, io);
  registerPrepare(program, io);
  registerEnroll(program, io);
  registerIdentify(program, io);
  registerSpeakers(program, io);
  registerDiarize(program, io);
  registerCache(program, io);
  registerExport(program, io);
  registerServe(program, io);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  return program;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code; never calls process.exit. */
export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const program = buildProgram(io);
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its message (or the help/version text).
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof PartialFailure) return 2;
    if (err instanceof VoxkitError) {
      io.stderr(`voxkit: ${formatError(err)}\n`);
      if (debug && err.stack) io.stderr(`${err.stack}\n`);
      return 2;
    }
    io.stderr(`voxkit: internal error: ${formatError(err)}${debug ? '' : ' (run with --debug for the stack trace)'}\n`);
    if (debug && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return 1;
  }
}
