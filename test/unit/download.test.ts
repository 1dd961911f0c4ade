/**
 * `voxkit download` against a loopback HTTP server (127.0.0.1, random port) serving small part
 * files and archives built here: Range requests, basic auth, dropped connections, corrupt bodies
 * and malicious archives. Nothing touches the network.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import * as tar from 'tar';
import { downloadDataset, type DownloadEvent } from '../../src/data/download/download-node.js';
import { extractArchive } from '../../src/data/download/extract-node.js';
import { parsePartsFile, partUrl, DATASETS } from '../../src/data/download/parts.js';
import { main } from '../../src/cli/main.js';

interface Route {
  body: Buffer;
  /** Drop the connection after this many body bytes, on the first request only. */
  dropFirstAfter?: number;
  /** Serve a corrupted body this many times before the right one. */
  corruptTimes?: number;
  /** Basic-auth user:password required. */
  auth?: string;
  /** Required `key` query value. */
  key?: string;
}

interface Seen {
  path: string;
  range?: string;
  authorized: boolean;
}

let server: Server;
let baseUrl: string;
let dir: string;
const routes = new Map<string, Route & { served: number }>();
const seen: Seen[] = [];

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

function serve(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const route = routes.get(url.pathname);
  const expectedAuth = route?.auth ? `Basic ${Buffer.from(route.auth).toString('base64')}` : undefined;
  seen.push({ path: url.pathname, range: req.headers.range, authorized: expectedAuth !== undefined && req.headers.authorization === expectedAuth });
  if (!route) {
    res.writeHead(404).end();
    return;
  }
  if ((expectedAuth && req.headers.authorization !== expectedAuth) || (route.key !== undefined && url.searchParams.get('key') !== route.key)) {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
    return;
  }
  route.served++;
  let body = route.body;
  if (route.corruptTimes && route.served <= route.corruptTimes) {
    body = Buffer.from(body);
    body[body.length >> 1] ^= 0xff;
  }
  let start = 0;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (range) {
    start = Number(range[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'accept-ranges': 'bytes' });
  } else {
    res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
  }
  if (route.dropFirstAfter !== undefined && route.served === 1) {
    // A stall, then a reset: what the client had received by then is on disk and can be resumed from.
    res.write(body.subarray(start, start + route.dropFirstAfter), () => setTimeout(() => res.socket?.destroy(), 250));
    return;
  }
  res.end(body.subarray(start));
}

function addRoute(path: string, route: Route): void {
  routes.set(path, { ...route, served: 0 });
}

/** Deterministic filler bytes (so each part has a distinct MD5). */
function bytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function files(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), rel);
      else out.push(rel);
    }
  };
  walk(root, '');
  return out.sort();
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'voxkit-download-'));
  server = createServer(serve);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  baseUrl = `http://127.0.0.1:${address.port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

/** A VoxCeleb1-like set: a dev zip split into two parts, and a test zip; returns the part list text. */
function voxLikeSet(prefix: string, opts: { auth?: string; dropFirstAfter?: number; corruptTimes?: number } = {}): { partsText: string; devFiles: Record<string, Buffer> } {
  const devFiles: Record<string, Buffer> = {
    'wav/id10001/abc/00001.wav': bytes(3000, 1),
    'wav/id10001/abc/00002.wav': bytes(2500, 2),
    'wav/id10002/xyz/00001.wav': bytes(4000, 3),
  };
  const devZip = Buffer.from(zipSync(Object.fromEntries(Object.entries(devFiles).map(([k, v]) => [k, new Uint8Array(v)])), { level: 0 }));
  const testZip = Buffer.from(zipSync({ 'wav/id10270/t/00001.wav': new Uint8Array(bytes(1000, 4)) }, { level: 0 }));
  const cut = Math.floor(devZip.length / 2);
  const partA = devZip.subarray(0, cut);
  const partB = devZip.subarray(cut);
  addRoute(`/${prefix}/vox1_dev_wav_partaa`, { body: partA, auth: opts.auth });
  addRoute(`/${prefix}/vox1_dev_wav_partab`, { body: partB, auth: opts.auth, dropFirstAfter: opts.dropFirstAfter, corruptTimes: opts.corruptTimes });
  addRoute(`/${prefix}/vox1_test_wav.zip`, { body: testZip, auth: opts.auth });
  const partsText = [
    `vox1_dev_wav_partaa ${md5(partA)}`,
    `vox1_dev_wav_partab ${md5(partB)}`,
    `vox1_test_wav.zip ${md5(testZip)}`,
    `vox1_dev_wav_parta* vox1_dev_wav.zip ${md5(devZip)}`,
  ].join('\n');
  return { partsText, devFiles };
}

test('full download: basic auth, MD5 check, parts joined, both archives extracted, rerun does nothing', async () => {
  const { partsText, devFiles } = voxLikeSet('full', { auth: 'alice:secret' });
  const partsFile = join(dir, 'full-parts.txt');
  writeFileSync(partsFile, partsText);
  const out = join(dir, 'full');
  const events: DownloadEvent[] = [];
  const result = await downloadDataset('voxceleb1', {
    out,
    user: 'alice',
    password: 'secret',
    baseUrl: `${baseUrl}/full/`,
    partsFile,
    retryDelayMs: 5,
    onProgress: (e) => events.push(e),
  });
  assert.deepEqual(result.downloaded, ['vox1_dev_wav_partaa', 'vox1_dev_wav_partab', 'vox1_test_wav.zip']);
  for (const [name, content] of Object.entries(devFiles)) {
    assert.deepEqual(readFileSync(join(out, 'voxceleb1/dev', name)), content, name);
  }
  assert.deepEqual(files(join(out, 'voxceleb1/test')), ['wav/id10270/t/00001.wav']);
  // Parts are removed once joined; the archive and the markers stay; no temporaries anywhere.
  const top = readdirSync(out).sort();
  assert.ok(!top.includes('vox1_dev_wav_partaa') && !top.includes('vox1_dev_wav_partab'), top.join(' '));
  assert.ok(top.includes('vox1_dev_wav.zip') && top.includes('.voxkit-download-voxceleb1.done'), top.join(' '));
  assert.deepEqual(files(out).filter((f) => /\.part$|tmp/.test(f)), []);
  assert.ok(events.some((e) => e.type === 'concatenate'));
  assert.ok(seen.filter((s) => s.path.startsWith('/full/')).every((s) => s.authorized));

  const before = seen.length;
  const again = await downloadDataset('voxceleb1', { out, user: 'alice', password: 'secret', baseUrl: `${baseUrl}/full/`, partsFile });
  assert.equal(again.alreadyDone, true);
  assert.equal(seen.length, before, 'a finished dataset makes no requests');
});

test('an interrupted transfer resumes with a Range request', async () => {
  const { partsText, devFiles } = voxLikeSet('drop', { dropFirstAfter: 700 });
  const partsFile = join(dir, 'drop-parts.txt');
  writeFileSync(partsFile, partsText);
  const out = join(dir, 'drop');
  const events: DownloadEvent[] = [];
  await downloadDataset('voxceleb1', { out, baseUrl: `${baseUrl}/drop/`, partsFile, retryDelayMs: 5, onProgress: (e) => events.push(e) });
  const requests = seen.filter((s) => s.path === '/drop/vox1_dev_wav_partab');
  assert.equal(requests.length, 2);
  assert.equal(requests[0].range, undefined);
  assert.equal(requests[1].range, 'bytes=700-');
  const done = events.find((e) => e.type === 'part-done' && e.file === 'vox1_dev_wav_partab');
  assert.ok(done && done.type === 'part-done' && done.resumedFrom === 700);
  assert.ok(events.some((e) => e.type === 'retry' && e.file === 'vox1_dev_wav_partab'));
  for (const [name, content] of Object.entries(devFiles)) assert.deepEqual(readFileSync(join(out, 'voxceleb1/dev', name)), content);
});

test('a wrong checksum is reported, the file fetched again; a permanently wrong one is a clear error', async () => {
  const { partsText } = voxLikeSet('corrupt1', { corruptTimes: 1 });
  const partsFile = join(dir, 'corrupt1-parts.txt');
  writeFileSync(partsFile, partsText);
  const events: DownloadEvent[] = [];
  await downloadDataset('voxceleb1', { out: join(dir, 'corrupt1'), baseUrl: `${baseUrl}/corrupt1/`, partsFile, retryDelayMs: 5, onProgress: (e) => events.push(e) });
  const mismatches = events.filter((e) => e.type === 'checksum-mismatch');
  assert.equal(mismatches.length, 1);
  assert.ok(mismatches[0].type === 'checksum-mismatch' && mismatches[0].file === 'vox1_dev_wav_partab' && mismatches[0].willRetry);
  assert.equal(seen.filter((s) => s.path === '/corrupt1/vox1_dev_wav_partab').length, 2);
  assert.ok(existsSync(join(dir, 'corrupt1/voxceleb1/dev/wav/id10002/xyz/00001.wav')));

  const bad = voxLikeSet('corrupt9', { corruptTimes: 99 });
  const badParts = join(dir, 'corrupt9-parts.txt');
  writeFileSync(badParts, bad.partsText);
  const out = join(dir, 'corrupt9');
  await assert.rejects(
    downloadDataset('voxceleb1', { out, baseUrl: `${baseUrl}/corrupt9/`, partsFile: badParts, retryDelayMs: 5, checksumRetries: 2 }),
    (err: Error & { code?: string }) => err.code === 'E_DATA' && /vox1_dev_wav_partab: MD5 [0-9a-f]{32} does not match .* after 3 download/.test(err.message),
  );
  assert.equal(seen.filter((s) => s.path === '/corrupt9/vox1_dev_wav_partab').length, 3);
  assert.ok(!existsSync(join(out, 'vox1_dev_wav_partab')), 'a corrupt part is not left under its name');
  assert.ok(!existsSync(join(out, '.voxkit-download-voxceleb1.done')));
});

test('malicious archives are refused and nothing is written outside the target', async () => {
  const sandbox = join(dir, 'evil');
  const out = join(sandbox, 'out');
  mkdirSync(sandbox, { recursive: true });
  const payload = new Uint8Array(bytes(100, 9));
  const cases: { name: string; archive: Buffer; entry: RegExp }[] = [
    { name: 'dotdot.zip', archive: Buffer.from(zipSync({ 'ok.txt': payload, '../evil.txt': payload })), entry: /"\.\.\/evil\.txt" has a "\.\." component/ },
    { name: 'absolute.zip', archive: Buffer.from(zipSync({ 'ok.txt': payload, [`${sandbox}/abs-evil.txt`]: payload })), entry: /has an absolute path/ },
    // A symbolic link entry (unix mode 0120777 in the external attributes) that points up and out.
    { name: 'zip-link.zip', archive: Buffer.from(zipSync({ 'ok.txt': payload, link: [new TextEncoder().encode('../../'), { os: 3, attrs: (0o120777 << 16) >>> 0 }] })), entry: /"link" has a link to "\.\.\/\.\.\/"/ },
  ];
  // A tar.gz with a symbolic link escaping the target, built from a real folder by node-tar.
  const src = join(sandbox, 'tar-src');
  mkdirSync(join(src, 'data'), { recursive: true });
  writeFileSync(join(src, 'data/ok.txt'), payload);
  symlinkSync('../../../outside', join(src, 'data/escape'));
  const tgz = join(sandbox, 'link.tar.gz');
  await tar.c({ gzip: true, file: tgz, cwd: src, portable: true }, ['data']);
  cases.push({ name: 'link.tar.gz', archive: readFileSync(tgz), entry: /"data\/escape" has a link to "\.\.\/\.\.\/\.\.\/outside"/ });
  // A tar whose entry names climb out (kept verbatim with preservePaths).
  mkdirSync(join(src, 'inner'));
  writeFileSync(join(src, 'climb.txt'), payload);
  const climb = join(sandbox, 'climb.tar');
  await tar.c({ file: climb, cwd: join(src, 'inner'), preservePaths: true }, ['../climb.txt']);
  cases.push({ name: 'climb.tar', archive: readFileSync(climb), entry: /"\.\.\/climb\.txt" has a "\.\." component/ });
  // A link that stays inside, then a file written through it: refused rather than followed.
  mkdirSync(join(src, 'through/sub'), { recursive: true });
  writeFileSync(join(src, 'through/sub/x.txt'), payload);
  symlinkSync('sub', join(src, 'through/a'));
  const through = join(sandbox, 'through.tar');
  await tar.c({ file: through, cwd: join(src, 'through') }, ['a', 'a/x.txt']);
  cases.push({ name: 'through.tar', archive: readFileSync(through), entry: /has a path through a symbolic link/ });
  rmSync(src, { recursive: true });
  rmSync(tgz);
  rmSync(climb);
  rmSync(through);

  for (const c of cases) {
    const archivePath = join(sandbox, c.name);
    writeFileSync(archivePath, c.archive);
    const before = files(sandbox);
    await assert.rejects(extractArchive(archivePath, out), (err: Error & { code?: string }) => err.code === 'E_DATA' && c.entry.test(err.message) && /archive refused/.test(err.message), c.name);
    assert.deepEqual(files(sandbox), before, `${c.name}: nothing new anywhere`);
    assert.deepEqual(readdirSync(out), [], `${c.name}: the target is left empty (no staging folder)`);
    assert.ok(!existsSync(join(dir, 'evil.txt')) && !existsSync(join(dir, 'outside')) && !existsSync(join(dir, 'climb.txt')));
    rmSync(archivePath);
  }

  // Through the whole pipeline: a refused archive gets no extraction marker.
  const archive = Buffer.from(zipSync({ 'musan/ok.wav': payload, '../evil.wav': payload }));
  addRoute('/evil/musan.tar.gz', { body: archive });
  const partsFile = join(dir, 'evil-parts.txt');
  writeFileSync(partsFile, `musan.tar.gz ${md5(archive)}\n`);
  await assert.rejects(downloadDataset('musan', { out, baseUrl: `${baseUrl}/evil/`, partsFile, retryDelayMs: 5 }), /archive refused/);
  assert.ok(!existsSync(join(out, '.musan.tar.gz.extracted')) && !existsSync(join(out, 'musan')) && !existsSync(join(sandbox, 'evil.wav')));
});

test('safe links inside the archive are kept', async () => {
  const out = join(dir, 'links-out');
  const src = join(dir, 'links-src');
  mkdirSync(join(src, 'a'), { recursive: true });
  writeFileSync(join(src, 'a/file.txt'), 'hello');
  symlinkSync('file.txt', join(src, 'a/alias.txt'));
  const archive = join(dir, 'links.tar');
  await tar.c({ file: archive, cwd: src }, ['a']);
  await extractArchive(archive, out);
  assert.ok(lstatSync(join(out, 'a/alias.txt')).isSymbolicLink());
  assert.equal(readFileSync(join(out, 'a/alias.txt'), 'utf8'), 'hello');
});

test('CLI: wrong credentials are one line without the password; a key fills the URL template', async () => {
  const { partsText } = voxLikeSet('auth', { auth: 'alice:secret' });
  const partsFile = join(dir, 'auth-parts.txt');
  writeFileSync(partsFile, partsText);
  let stdout = '';
  let stderr = '';
  const io = { stdout: (t: string) => (stdout += t), stderr: (t: string) => (stderr += t) };
  const code = await main(['download', 'voxceleb1', '--out', join(dir, 'auth'), '--user', 'alice', '--password', 'wrong-pass', '--base-url', `${baseUrl}/auth/`, '--parts-file', partsFile, '-q'], io);
  assert.equal(code, 2);
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0], /^voxkit: .*vox1_dev_wav_partaa: the server refused the credentials \(HTTP 401\); check --user\/--password/);
  assert.ok(!stderr.includes('wrong-pass'));
  assert.equal(seen.filter((s) => s.path === '/auth/vox1_dev_wav_partaa').length, 1, 'no retries on 401');

  // No credentials at all for the default VoxCeleb host: a usage error before any request.
  stderr = '';
  const before = seen.length;
  assert.equal(await main(['download', 'voxceleb2', '--out', join(dir, 'nocred')], io), 2);
  assert.match(stderr, /voxceleb2 needs your VoxCeleb credentials/);
  assert.equal(seen.length, before);

  // A per-user key in a URL template; the key is hidden in progress lines.
  const testZip = Buffer.from(zipSync({ 'wav/id1/x/1.wav': new Uint8Array(bytes(50, 5)) }));
  addRoute('/keyed', { body: testZip, key: 'k3y-123' });
  writeFileSync(partsFile, `vox1_test_wav.zip ${md5(testZip)}\n`);
  stderr = '';
  const ok = await main(['download', 'voxceleb1', '--out', join(dir, 'keyed'), '--key', 'k3y-123', '--base-url', `${baseUrl}/keyed?file={file}&key={key}`, '--parts-file', partsFile], io);
  assert.equal(ok, 0, stderr);
  assert.ok(existsSync(join(dir, 'keyed/voxceleb1/test/wav/id1/x/1.wav')));
  assert.ok(!stderr.includes('k3y-123') && stderr.includes('key=***'), stderr);
});

test('part lists: the default tables and custom files', () => {
  assert.equal(DATASETS.voxceleb2.archives[0].parts.length, 8);
  for (const spec of Object.values(DATASETS)) {
    for (const p of spec.parts) assert.match(p.md5, /^[0-9a-f]{32}$/);
    for (const a of spec.archives) for (const p of a.parts) assert.ok(spec.parts.some((q) => q.name === p), `${a.name}: ${p}`);
  }
  const parsed = parsePartsFile(
    '# mirror\nhttps://mirror.example/vox/vox1_dev_wav_partaa e395d020928bc15670b570a21695ed96\nvox1_dev_wav_partab bbfaaccefab65d82b21903e81a8a8020\nextra.tar.gz 0123456789abcdef0123456789abcdef\n',
    'list.txt',
    DATASETS.voxceleb1,
  );
  assert.deepEqual(parsed.parts.map((p) => p.name), ['vox1_dev_wav_partaa', 'vox1_dev_wav_partab', 'extra.tar.gz']);
  assert.equal(parsed.parts[0].url, 'https://mirror.example/vox/vox1_dev_wav_partaa');
  // The default vox1 dev archive needs four parts, only two are listed: no join, but extra.tar.gz is extracted.
  assert.deepEqual(parsed.archives.map((a) => a.name), ['extra.tar.gz']);
  assert.throws(() => parsePartsFile('../../etc/passwd 0123456789abcdef0123456789abcdef\n', 'bad.txt'), /not a usable file name/);
  assert.throws(() => parsePartsFile('name-without-md5\n', 'bad.txt'), /bad.txt:1: expected/);
  assert.equal(partUrl({ name: 'a b', md5: '' }, 'https://h/x'), 'https://h/x/a%20b');
  assert.equal(partUrl({ name: 'p', md5: '' }, 'https://h/dl?file={file}&key={key}', 'K'), 'https://h/dl?file=p&key=K');
  assert.equal(partUrl({ name: 'p', md5: '' }, 'https://h/x/', 'K'), 'https://h/x/p?key=K');
  assert.equal(partUrl({ name: 'p', md5: '' }, 'https://h/x/', 'K', true), 'https://h/x/p');
});
