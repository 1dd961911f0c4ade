/**
 * Reads the utterances of a synthetic corpus (voxkit synth: utterances.jsonl + wav/) as material
 * for assembleConversation. Node: reads files.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VoxkitError } from '../errors.js';
import { loadAudio } from '../audio/load-node.js';
import type { ConversationUtterance } from './conversation.js';

export interface CorpusUtteranceOptions {
  sampleRateHz?: number;
  /** Keep only these speakers (default all). */
  speakers?: readonly string[];
}

export async function loadCorpusUtterances(corpusDir: string, options: CorpusUtteranceOptions = {}): Promise<ConversationUtterance[]> {
  const listPath = join(corpusDir, 'utterances.jsonl');
  let text: string;
  try {
    text = await readFile(listPath, 'utf8');
  } catch (cause) {
    throw new VoxkitError('E_IO', `cannot read ${listPath} (is ${corpusDir} a voxkit synth corpus?)`, { file: listPath, cause });
  }
  const wanted = options.speakers ? new Set(options.speakers) : undefined;
  // speakers.json names each speaker's base voice: speakers built on the same one sound alike.
  const voices = new Map<string, string>();
  try {
    const described = JSON.parse(await readFile(join(corpusDir, 'speakers.json'), 'utf8')) as { speakers?: Array<{ id: string; engine?: string; voice?: string }> };
    for (const s of described.speakers ?? []) if (s.voice) voices.set(s.id, `${s.engine ?? ''}/${s.voice}`);
  } catch {
    // Without speakers.json every speaker is its own group.
  }
  const out: ConversationUtterance[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const { path, speaker } = JSON.parse(line) as { path: string; speaker: string };
    if (wanted && !wanted.has(speaker)) continue;
    const audio = await loadAudio(join(corpusDir, 'wav', path), { sampleRateHz: options.sampleRateHz ?? 16000 });
    out.push({ samples: audio.samples, speaker, id: path, group: voices.get(speaker) });
  }
  return out;
}
