#!/usr/bin/env node
// Builds the native backend's addon (native/ → native/build/Release/voxkit_native.node) from the
// machine's own oneDNN, OpenBLAS and Node headers, with npm's bundled node-gyp; it never downloads.
// Run by the "install" script (npm ci, npm install voxkit, npm rebuild) and by `npm run build:native`.
// It prints exactly one line: which backend voxkit will use and, when it is not the native one, why
// and how to get it. Compiler output goes to native/build/build.log. On the install path it always
// exits 0, so a machine without the libraries still installs voxkit (which then runs on wasm);
// `--strict` (npm run build:native) exits 1 when the addon is not usable.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const NATIVE = join(ROOT, 'native');
const BUILD = join(NATIVE, 'build');
const LOG = join(BUILD, 'build.log');
const ADDON = join(BUILD, 'Release', 'voxkit_native.node');
const APT = 'apt-get install g++ make python3 libdnnl-dev libopenblas-dev';
// A compile takes seconds; a stuck toolchain must not hang an install forever.
const BUILD_TIMEOUT_MS = 15 * 60 * 1000;

const strict = process.argv.includes('--strict');
/** Installed as a dependency (…/node_modules/voxkit) rather than a clone of the repository. */
const asDependency = ROOT.split(sep).includes('node_modules');
const rebuildCommand = asDependency ? 'npm rebuild voxkit' : 'npm run build:native';

let logFd = null;

function log(text) {
  if (logFd === null) return;
  try {
    writeSync(logFd, text.endsWith('\n') ? text : `${text}\n`);
  } catch {
    // A log that cannot be written must not stop the install.
  }
}

function openLog() {
  mkdirSync(BUILD, { recursive: true });
  logFd = openSync(LOG, 'w');
  log(`voxkit native build, ${new Date().toISOString()}, node ${process.version} (${process.execPath})`);
}

function shortPath(path) {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

function finish(built, line) {
  log(line);
  if (logFd !== null) closeSync(logFd);
  logFd = null;
  process.stdout.write(`${line}\n`);
  process.exit(!built && strict ? 1 : 0);
}

function notBuilt(reason, advice = `${APT}, then ${rebuildCommand}`) {
  finish(false, `voxkit: native backend not built (${reason}); using wasm. For the fast one: ${advice}`);
}

function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', timeout: 60_000, ...options });
}

function runs(command, args = ['--version']) {
  const result = run(command, args);
  return !result.error && result.status === 0;
}

/** The C++ compiler make will use: $CXX, else the first of g++, c++, clang++ that runs. */
function findCompiler() {
  const candidates = [process.env.CXX, 'g++', 'c++', 'clang++'].filter(Boolean);
  return candidates.find((cxx) => runs(cxx)) ?? null;
}

/** Whether the compiler finds a header on its default include path (a one-line preprocess, milliseconds). */
function compilerFindsHeader(cxx, header, flags = []) {
  const result = run(cxx, ['-E', '-x', 'c++', ...flags, '-', '-o', '/dev/null'], {
    input: `#include <${header}>\n`,
  });
  if (result.status !== 0) log(`${header}: ${(result.stderr ?? '').trim()}`);
  return !result.error && result.status === 0;
}

/** Whether the linker finds a library: the compiler prints its full path, or just the bare name when it cannot. */
function compilerFindsLibrary(cxx, file) {
  const result = run(cxx, [`-print-file-name=${file}`]);
  const found = (result.stdout ?? '').trim();
  return result.status === 0 && found !== file && existsSync(found);
}

/** A Node install whose include/node has node_api.h and common.gypi, so node-gyp needs no download. */
function findNodeDir() {
  const hasHeaders = (dir) => Boolean(dir) && existsSync(join(dir, 'include', 'node', 'node_api.h')) && existsSync(join(dir, 'include', 'node', 'common.gypi'));
  const candidates = [process.env.npm_config_nodedir, join(dirname(process.execPath), '..')];
  const found = candidates.find(hasHeaders);
  if (found) return found;
  // Outside npm the configured nodedir is not in the environment; asking npm is slow, so only now.
  const npm = run('npm', ['config', 'get', 'nodedir'], { shell: process.platform === 'win32' });
  const configured = (npm.stdout ?? '').trim();
  return hasHeaders(configured) ? configured : null;
}

/** npm's bundled node-gyp: npm names it in lifecycle scripts; otherwise it sits beside this node. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((path) => path && existsSync(path)) ?? null;
}

/** What is missing for a build, as short phrases; empty when everything is there. */
function missingPrerequisites(cxx, nodeDir, nodeGyp) {
  const missing = [];
  if (!cxx) missing.push('no C++ compiler (g++)');
  if (!runs('make')) missing.push('no make');
  if (!runs(process.env.npm_config_python || process.env.PYTHON || 'python3')) missing.push('no python3 for node-gyp');
  if (!nodeDir) missing.push(`no Node headers (include/node/node_api.h beside ${process.execPath} or in npm's nodedir; Debian's nodejs has them in libnode-dev)`);
  if (!nodeGyp) missing.push("no node-gyp (npm's bundled one was not found)");
  if (cxx) {
    if (!compilerFindsHeader(cxx, 'dnnl.hpp')) missing.push('no oneDNN headers (dnnl.hpp)');
    if (!compilerFindsHeader(cxx, 'cblas.h')) missing.push('no CBLAS header (cblas.h)');
    if (!compilerFindsHeader(cxx, 'omp.h', ['-fopenmp'])) missing.push('no OpenMP (omp.h)');
    if (!compilerFindsLibrary(cxx, 'libdnnl.so')) missing.push('no libdnnl.so');
    if (!compilerFindsLibrary(cxx, 'libopenblas.so')) missing.push('no libopenblas.so');
  }
  return missing;
}

/** node-gyp configure + build, everything it prints into the log. Incremental: make recompiles what changed. */
function compile(nodeGyp, nodeDir, cxx) {
  const env = { ...process.env, CXX: cxx };
  for (const step of [['configure'], ['build', '--jobs', 'max']]) {
    const args = [nodeGyp, ...step, `--nodedir=${nodeDir}`];
    log(`$ ${process.execPath} ${args.join(' ')}`);
    const result = spawnSync(process.execPath, args, { cwd: NATIVE, env, stdio: ['ignore', logFd, logFd], timeout: BUILD_TIMEOUT_MS });
    if (result.error) return `node-gyp ${step[0]}: ${result.error.message}`;
    if (result.status !== 0) return `node-gyp ${step[0]} failed`;
  }
  return existsSync(ADDON) ? null : `node-gyp did not produce ${shortPath(ADDON)}`;
}

/** Loads the addon in a child process (a crash there cannot fail the install); its versions, or why not. */
function probe() {
  const code = `const a = require(${JSON.stringify(ADDON)}); process.stdout.write(JSON.stringify(a.versions()));`;
  const result = run(process.execPath, ['-e', code]);
  if (result.status === 0) {
    try {
      return { versions: JSON.parse(result.stdout) };
    } catch {
      // Falls through to the failure below with whatever was printed.
    }
  }
  const output = `${result.stderr ?? ''}\n${result.stdout ?? ''}`;
  log(`loading ${ADDON}:\n${output}`);
  const firstError = output.split('\n').find((l) => /Error|error:|undefined symbol|cannot open/.test(l));
  return { problem: (firstError ?? (result.signal ? `killed by ${result.signal}` : `exit code ${result.status}`)).trim() };
}

/** "oneDNN 2.6.3, OpenBLAS 0.3.21" (OpenBLAS's config string goes on with build options). */
function describe(versions) {
  return `oneDNN ${versions.onednn}, ${String(versions.openblas).split(' ').slice(0, 2).join(' ')}`;
}

function main() {
  if (process.env.VOXKIT_SKIP_NATIVE === '1') {
    if (existsSync(ADDON)) finish(false, `voxkit: native backend build skipped (VOXKIT_SKIP_NATIVE=1); the earlier build ${shortPath(ADDON)} is used if it loads`);
    finish(false, `voxkit: native backend build skipped (VOXKIT_SKIP_NATIVE=1); using wasm. For the fast one: ${APT}, then ${rebuildCommand} without VOXKIT_SKIP_NATIVE`);
  }
  if (process.platform !== 'linux') {
    finish(false, `voxkit: native backend not built (its build is set up for Linux with Debian's libdnnl-dev and libopenblas-dev; this is ${process.platform}); using wasm`);
  }
  openLog();
  const cxx = findCompiler();
  const nodeDir = findNodeDir();
  const nodeGyp = findNodeGyp();
  log(`compiler: ${cxx}\nnode headers: ${nodeDir}\nnode-gyp: ${nodeGyp}`);
  const missing = missingPrerequisites(cxx, nodeDir, nodeGyp);
  if (missing.length > 0) {
    // An earlier build that still loads (say, the compiler was removed since) stays in use.
    const earlier = existsSync(ADDON) ? probe() : null;
    if (earlier?.versions) {
      finish(true, `voxkit: native backend not rebuilt (${missing.join(', ')}); the earlier build (${describe(earlier.versions)}) loads and stays the default in Node`);
    }
    rmSync(ADDON, { force: true });
    notBuilt(missing.join(', '));
  }
  const failure = compile(nodeGyp, nodeDir, cxx);
  if (failure) {
    rmSync(ADDON, { force: true });
    notBuilt(`${failure}; see ${shortPath(LOG)}`, `fix what the log shows, then ${rebuildCommand}`);
  }
  const loaded = probe();
  if (!loaded.versions) {
    rmSync(ADDON, { force: true });
    notBuilt(`built, but it does not load: ${loaded.problem}; removed it; see ${shortPath(LOG)}`, `fix what the log shows, then ${rebuildCommand}`);
  }
  finish(true, `voxkit: native backend built (${describe(loaded.versions)}) — the default in Node`);
}

try {
  main();
} catch (error) {
  // Whatever went wrong, the install goes on: voxkit works without the addon.
  try {
    rmSync(ADDON, { force: true });
  } catch {
    // Nothing more to do; the line below still says what happened.
  }
  notBuilt(`the build script failed: ${error instanceof Error ? error.message : String(error)}`);
}
