/**
 * Diarization on assembled conversations: synthesises a Flite corpus of speakers the demo encoder
 * never heard (or reuses --corpus), assembles conversations of 2, 3 and 4 speakers with exact
 * turns, diarizes them with an automatic speaker count and with the true count, and prints
 * markdown tables (DER with and without a 0.25 s collar, its parts, count accuracy, real-time
 * factor) for BENCHMARKS.md.
 *
 *   node --import tsx bench/diarization.ts [--per-count 10] [--seed 21] [--speakers 12]
 *       [--utterances 6] [--weights assets/models/resnetse34l-synth160.model] [--corpus DIR]
 *       [--method ahc|spectral] [--threshold T] [--distinct-voices]
 *
 * --distinct-voices: no two participants built on the same Flite base voice (speakers sharing one
 * can be near-identical to a small encoder; this separates pipeline errors from encoder limits).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { useBackend, tf } from '../src/core/backend.js';
import { loadEncoder } from '../src/api/load-encoder-node.js';
import { synthesizeCorpus } from '../src/synth/corpus-node.js';
import { loadCorpusUtterances } from '../src/diarize/conversation-corpus-node.js';
import { assembleConversationSet, formatScoreTable, scoreConversation, summarizeScores, type ConversationScore } from '../src/diarize/conversation-eval.js';
import type { ClusterMethod } from '../src/cluster/cluster.js';
import { formatError } from '../src/errors.js';

const USAGE = `usage: node --import tsx bench/diarization.ts [--per-count N] [--seed S] [--speakers N] [--utterances N] [--weights FILE] [--corpus DIR] [--method ahc|spectral] [--threshold T] [--distinct-voices]`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'per-count': { type: 'string', default: '10' },
      seed: { type: 'string', default: '21' },
      speakers: { type: 'string', default: '12' },
      utterances: { type: 'string', default: '6' },
      weights: { type: 'string', default: 'assets/models/resnetse34l-synth160.model' },
      corpus: { type: 'string' },
      method: { type: 'string' },
      threshold: { type: 'string' },
      'distinct-voices': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const perCount = Number(values['per-count']);
  const seed = Number(values.seed);
  tf.env().set('PROD', true);
  await useBackend(undefined);

  let corpusDir = values.corpus;
  let scratch: string | undefined;
  if (!corpusDir) {
    scratch = await mkdtemp(join(tmpdir(), 'voxkit-diarize-bench-'));
    corpusDir = scratch;
    process.stderr.write(`synthesising ${values.speakers} speakers × ${values.utterances} utterances (Flite, seed ${seed}, one clean shared channel)…\n`);
    // channelSeverity 0: everyone in a conversation shares one room and microphone; per-session
    // channels would give every turn its own channel, which no real conversation has.
    await synthesizeCorpus({ outDir: corpusDir, speakers: Number(values.speakers), utterancesPerSpeaker: Number(values.utterances), seed, engines: ['flite'], channelSeverity: 0 });
  }
  try {
    const loaded = await loadEncoder(values.weights!);
    const utterances = await loadCorpusUtterances(corpusDir, { sampleRateHz: loaded.encoder.sampleRateHz });
    const distinctGroups = values['distinct-voices'] ?? false;
    const conversations = assembleConversationSet(utterances, { seed, perCount, sampleRateHz: loaded.encoder.sampleRateHz, maxTurnSec: 6, minTurnSec: 2, distinctGroups });
    const audioSec = conversations.reduce((s, c) => s + c.samples.length / c.sampleRateHz, 0);
    process.stderr.write(`${conversations.length} conversations, ${audioSec.toFixed(0)} s of audio\n`);
    const method = values.method as ClusterMethod | undefined;
    const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
    const automatic: ConversationScore[] = [];
    const given: ConversationScore[] = [];
    for (const [i, conversation] of conversations.entries()) {
      automatic.push(await scoreConversation(loaded.encoder, loaded.spec.strategy, conversation, { method, threshold }));
      given.push(await scoreConversation(loaded.encoder, loaded.spec.strategy, conversation, { method, numSpeakers: conversation.speakers.length }));
      const a = automatic[i];
      process.stderr.write(`  ${i + 1}/${conversations.length}: ${a.speakers} speakers → ${a.estimatedSpeakers}, DER ${(100 * a.der).toFixed(1)} % (given count ${(100 * given[i].der).toFixed(1)} %)\n`);
    }
    loaded.encoder.dispose();
    console.log(`### Diarization on assembled conversations\n`);
    console.log(`Encoder ${values.weights}; corpus ${values.corpus ?? `Flite seed ${seed}, ${values.speakers} speakers × ${values.utterances} utterances, channelSeverity 0`}; ${perCount} conversations per speaker count, 8–12 turns of 2–6 s, pauses 0.3–1.0 s, no overlap; participants ${distinctGroups ? 'built on different Flite base voices' : 'drawn at random (may share a Flite base voice)'}; ${audioSec.toFixed(0)} s of audio. Windows 1.5 s / 0.75 s, method ${method ?? 'ahc (default)'}.\n`);
    console.log(`Automatic speaker count:\n`);
    console.log(formatScoreTable(summarizeScores(automatic)));
    console.log(`Speaker count given (--num-speakers):\n`);
    console.log(formatScoreTable(summarizeScores(given)));
    return 0;
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bench/diarization: ${formatError(err)}`);
    if (err instanceof Error && err.stack) console.error(err.stack);
    process.exit(1);
  },
);
