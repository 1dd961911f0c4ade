/**
 * `voxkit prepare <dataset> --root DIR --sv2tts`: after the lists are written, RTVC's encoder
 * preprocessing of every listed recording (train and validation speakers alike, as RTVC uses them
 * all) into `<out>/SV2TTS/encoder` (see src/data/sv2tts-node.ts).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { readTrainList } from '../../data/dataset-node.js';
import type { PrepareSummary } from '../../data/prepare-node.js';
import { preprocessSv2tts, type Sv2ttsUtterance } from '../../data/sv2tts-node.js';
import { PartialFailure, type CliIO } from '../main.js';

export interface Sv2ttsFlags {
  sv2tts?: boolean;
  sv2ttsOut?: string;
  skipExisting?: boolean;
  workers?: number;
  json?: boolean;
}

/** Adds the SV2TTS flags to `voxkit prepare`. */
export function addSv2ttsOptions(command: Command): Command {
  return command
    .option('--sv2tts', "also run RTVC's encoder preprocessing (volume, VAD trim, 40-band mel frames per utterance, < 1.6 s dropped) into <out>/SV2TTS/encoder")
    .option('--sv2tts-out <dir>', 'where --sv2tts writes its speaker folders (default <out>/SV2TTS/encoder)')
    .option('--skip-existing', "--sv2tts: keep utterances already in a speaker's _sources.txt (continue an interrupted run)");
}

export async function runSv2ttsAfterPrepare(summary: PrepareSummary, flags: Sv2ttsFlags, io: CliIO): Promise<void> {
  const utterances: Sv2ttsUtterance[] = [];
  for (const list of ['train_list.txt', 'val_list.txt']) {
    if (!summary.files.includes(list)) continue;
    for (const u of await readTrainList(join(summary.out, list), summary.root)) utterances.push({ speaker: u.speaker, path: u.path, relativePath: u.relativePath });
  }
  const out = flags.sv2ttsOut ?? join(summary.out, 'SV2TTS', 'encoder');
  let lastReport = 0;
  const result = await preprocessSv2tts({
    utterances,
    out,
    dataset: summary.dataset,
    skipExisting: Boolean(flags.skipExisting),
    ...(flags.workers === undefined ? {} : { workers: flags.workers }),
    onProgress: ({ done, total }) => {
      if (flags.json || total < 200 || (done - lastReport < 500 && done !== total)) return;
      lastReport = done;
      io.stderr(`sv2tts ${done}/${total}\n`);
    },
  });
  for (const failure of result.failed) io.stderr(`${failure.message}\n`);
  if (flags.json) io.stdout(`${JSON.stringify({ sv2tts: result })}\n`);
  else {
    io.stdout(
      `sv2tts      ${result.out}/: ${result.speakers} speakers, ${result.written} utterances written, ${result.skipped} kept, ` +
        `${result.tooShort} shorter than 1.6 s and ${result.silent} silent dropped${result.failed.length ? `, ${result.failed.length} failed` : ''}\n`,
    );
    io.stdout(`next        voxkit train --model RTVC --loss ge2e --sampler ge2e --train-list ${result.trainList} --train-path ${result.out} …\n`);
  }
  if (result.failed.length > 0) throw new PartialFailure(result.failed.length);
}
