/**
 * `voxkit convert` with the system ffmpeg: inputs are tiny WAVs encoded here by ffmpeg itself into
 * the compressed formats it can write. Without ffmpeg the ffmpeg tests are skipped with the reason.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { encodeWav, decodeWav } from '../../src/audio/wav.js';
import { convertAudioFiles, isCompleteWav, planConversion } from '../../src/data/convert-node.js';
import { main } from '../../src/cli/main.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

const hasFfmpeg = spawnSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' }).status === 0;
const needsFfmpeg = hasFfmpeg ? false : 'ffmpeg is not installed (apt-get install ffmpeg); conversion cannot be tested';

let dir: string;
let input: string;
/** Formats this ffmpeg build could encode, each with the number of files written. */
const encoded = new Map<string, number>();

function tone(seconds: number, sampleRateHz: number, f0: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * sampleRateHz));
  for (let i = 0; i < out.length; i++) out[i] = 0.3 * Math.sin((2 * Math.PI * f0 * i) / sampleRateHz) * (1 - i / out.length);
  return out;
}

function treeFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(root, join(d, e.name)));
    }
  };
  walk(root);
  return out.sort();
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

const FORMATS: Record<string, string[]> = {
  mp3: ['-c:a', 'libmp3lame'],
  flac: ['-c:a', 'flac'],
  m4a: ['-c:a', 'aac'],
  ogg: ['-c:a', 'libvorbis'],
  opus: ['-c:a', 'libopus'],
};

function ffmpegAsync(args: string[]): Promise<boolean> {
  return new Promise((r) => spawn('ffmpeg', args, { stdio: 'ignore' }).on('close', (code) => r(code === 0)).on('error', () => r(false)));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'voxkit-convert-'));
  input = join(dir, 'in');
  if (!hasFfmpeg) return;
  // Speakers/sessions as VoxCeleb lays them out; rates and channel counts vary on purpose.
  const encodes: { ext: string; args: string[] }[] = [];
  let index = 0;
  for (const [ext, codec] of Object.entries(FORMATS)) {
    for (let k = 0; k < 2; k++) {
      const rate = [44100, 22050][k];
      const mono = tone(0.6 + 0.1 * k, rate, 180 + 40 * index);
      const source = join(dir, `source${index}.wav`);
      writeFileSync(source, encodeWav(k === 1 ? [mono, mono.map((x) => -x)] : mono, rate));
      const out = join(input, `id${String(index % 4).padStart(5, '0')}`, `s${k}`, `${ext}${k}.${ext}`);
      mkdirSync(join(out, '..'), { recursive: true });
      encodes.push({ ext, args: ['-nostdin', '-v', 'error', '-y', '-i', source, ...codec, out] });
      index++;
    }
  }
  for (let i = 0; i < encodes.length; i += 2) {
    const pair = encodes.slice(i, i + 2);
    const ok = await Promise.all(pair.map((e) => ffmpegAsync(e.args)));
    pair.forEach((e, j) => {
      if (ok[j]) encoded.set(e.ext, (encoded.get(e.ext) ?? 0) + 1);
      else rmSync(e.args[e.args.length - 1], { force: true });
    });
  }
  for (let i = 0; i < index; i++) rmSync(join(dir, `source${i}.wav`));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('planConversion mirrors the tree and refuses two inputs for one WAV', async () => {
  const root = join(dir, 'plan');
  mkdirSync(join(root, 'a/b'), { recursive: true });
  mkdirSync(join(root, '.hidden'), { recursive: true });
  for (const f of ['a/b/x.M4A', 'a/y.mp3', 'a/notes.txt', '.hidden/z.mp3', 'top.flac']) writeFileSync(join(root, f), 'x');
  const jobs = await planConversion(root, join(dir, 'plan-out'));
  assert.deepEqual(
    jobs.map((j) => [relative(root, j.input), relative(join(dir, 'plan-out'), j.output)]),
    [['a/b/x.M4A', 'a/b/x.wav'], ['a/y.mp3', 'a/y.wav'], ['top.flac', 'top.wav']],
  );
  assert.deepEqual((await planConversion(root, join(dir, 'plan-out'), { extensions: ['.flac'] })).map((j) => relative(root, j.input)), ['top.flac']);
  writeFileSync(join(root, 'a/y.ogg'), 'x');
  await assert.rejects(planConversion(root, root), /would both be converted to .*a\/y\.wav/);
});

test('every format becomes 16 kHz mono 16-bit WAV with the input duration', { skip: needsFfmpeg }, async (t) => {
  assert.ok(encoded.get('flac') && encoded.get('m4a'), `ffmpeg could not even write flac and aac: ${[...encoded.keys()]}`);
  t.diagnostic(`formats this ffmpeg encoded: ${[...encoded.keys()].join(', ')}`);
  const jobs = await planConversion(input, join(dir, 'out-a'));
  assert.equal(jobs.length, [...encoded.values()].reduce((a, b) => a + b, 0));
  const result = await convertAudioFiles(jobs, { workers: 2 });
  assert.deepEqual(result, { converted: jobs.length, skipped: 0, failed: [] });
  for (const job of jobs) {
    const wav = readFileSync(job.output);
    const decoded = decodeWav(new Uint8Array(wav), job.output);
    assert.equal(decoded.sampleRateHz, 16000, job.output);
    assert.equal(decoded.channels.length, 1, job.output);
    assert.equal(decoded.format, 'pcm16', job.output);
    assert.ok(await isCompleteWav(job.output, 16000));
    const seconds = Number(/(\d)\.\w+$/.exec(job.input)![1]) * 0.1 + 0.6;
    // Lossy codecs pad a little (encoder delay); never by more than a few frames.
    assert.ok(Math.abs(decoded.channels[0].length / 16000 - seconds) < 0.08, `${job.input}: ${decoded.channels[0].length / 16000} s`);
  }
  const again = await convertAudioFiles(jobs, { workers: 2 });
  assert.deepEqual(again, { converted: 0, skipped: jobs.length, failed: [] });
});

test('a run killed mid-way and resumed gives exactly the files of an uninterrupted run', { skip: needsFfmpeg }, async () => {
  const whole = join(dir, 'out-whole');
  const resumed = join(dir, 'out-resumed');
  assert.equal((await run(['convert', input, '--out', whole, '-q'])).code, 0);
  const total = treeFiles(whole).length;

  // The CLI in its own process group, one worker; killed (with its ffmpeg) once a few files exist.
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/voxkit-dev.ts'), 'convert', input, '--out', resumed, '--workers', '1', '-q'], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const countWavs = () => (existsSync(resumed) ? treeFiles(resumed).filter((f) => f.endsWith('.wav')).length : 0);
  const deadline = Date.now() + 60_000;
  while (countWavs() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
  const atKill = treeFiles(resumed);
  const finals = atKill.filter((f) => !f.split('/').pop()!.startsWith('.'));
  assert.ok(finals.length >= 2 && finals.length < total, `killed with ${finals.length} of ${total} files converted; the kill must land mid-way`);
  for (const f of finals) assert.ok(await isCompleteWav(join(resumed, f), 16000), `${f} is under its final name but incomplete`);

  // A leftover as a killed ffmpeg leaves it: a hidden temporary of a dead process.
  const missing = treeFiles(whole).find((f) => !finals.includes(f))!;
  const leftover = join(resumed, missing, '..', `.${missing.split('/').pop()}.999999.convert-tmp`);
  mkdirSync(join(leftover, '..'), { recursive: true });
  writeFileSync(leftover, readFileSync(join(whole, missing)).subarray(0, 100));

  const second = await run(['convert', input, '--out', resumed, '-q']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, new RegExp(`skipped ${finals.length} `));
  assert.deepEqual(treeFiles(resumed), treeFiles(whole), 'same names, no temporaries left');
  for (const f of treeFiles(whole)) assert.deepEqual(readFileSync(join(resumed, f)), readFileSync(join(whole, f)), `${f}: same bytes`);
});

test('a corrupt input is listed in the failures, the others converted, exit code 2', { skip: needsFfmpeg }, async () => {
  const root = join(dir, 'with-bad');
  mkdirSync(join(root, 'spk'), { recursive: true });
  writeFileSync(join(root, 'spk/broken.m4a'), Buffer.from('this is not audio at all'.repeat(20)));
  const good = treeFiles(input).find((f) => f.endsWith('.flac'))!;
  writeFileSync(join(root, 'spk/good.flac'), readFileSync(join(input, good)));
  const out = join(dir, 'with-bad-out');
  const r = await run(['convert', root, '--out', out, '-q']);
  assert.equal(r.code, 2);
  assert.match(r.stdout, /converted 1, skipped 0 \(already converted\), failed 1/);
  assert.match(r.stderr, /spk\/broken\.m4a: ffmpeg: /);
  assert.match(r.stderr, /1 of 2 file\(s\) could not be converted; the list is in .*convert-failures\.txt/);
  const list = readFileSync(join(out, 'convert-failures.txt'), 'utf8').trim().split('\n');
  assert.equal(list.length, 1);
  assert.ok(list[0].startsWith(join(root, 'spk/broken.m4a')));
  assert.deepEqual(treeFiles(out), ['convert-failures.txt', 'spk/good.wav']);

  // Fixed and rerun: the failure list goes away.
  rmSync(join(root, 'spk/broken.m4a'));
  assert.equal((await run(['convert', root, '--out', out, '-q'])).code, 0);
  assert.deepEqual(treeFiles(out), ['spk/good.wav']);
});

test('a missing ffmpeg is one clear error', async () => {
  const root = join(dir, 'noffmpeg');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'a.mp3'), 'x');
  const r = await run(['convert', root, '--out', join(dir, 'noffmpeg-out'), '--ffmpeg', join(dir, 'no-such-ffmpeg')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /ffmpeg .* was not found; .*apt-get install ffmpeg/);
});
