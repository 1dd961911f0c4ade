/**
 * Safe extraction of downloaded archives (zip through yauzl, tar and tar.gz through node-tar).
 * Everything is written into a hidden staging folder inside the target and moved into place only
 * when the whole archive passed: an entry with an absolute path, a `..` component, a link leading
 * out of the target or a device/FIFO refuses the archive, the staging folder is deleted, and
 * nothing outside the target has been touched at any point.
 */
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readlink, realpath, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import yauzl from 'yauzl';
import { VoxkitError } from '../../errors.js';

export interface ExtractOptions {
  signal?: AbortSignal;
  onProgress?: (progress: { entries: number; totalEntries?: number; bytes: number }) => void;
}

export interface ExtractResult {
  entries: number;
  bytes: number;
}

/** Why an entry name is unsafe to join onto the target folder, or undefined when it is fine. */
export function unsafeEntryReason(name: string): string | undefined {
  if (name.includes('\0')) return 'a NUL character in the name';
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-zA-Z]:/.test(name)) return 'an absolute path';
  if (name.split(/[\\/]/).includes('..')) return 'a ".." component';
  return undefined;
}

/** True when `path` is `root` or lies under it (both absolute, normalised). */
function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function refused(archive: string, entry: string, reason: string): VoxkitError {
  return new VoxkitError('E_DATA', `${archive}: archive refused, entry "${entry}" has ${reason}; nothing was extracted`, {
    file: archive,
    details: { entry, reason },
  });
}

type ArchiveKind = 'zip' | 'tar' | 'tar.gz';

async function archiveKind(path: string): Promise<ArchiveKind> {
  const handle = await open(path, 'r').catch((cause: unknown) => {
    throw new VoxkitError('E_IO', `${path}: cannot open the archive (${(cause as NodeJS.ErrnoException).code ?? cause})`, { file: path, cause });
  });
  try {
    const head = Buffer.alloc(262);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    if (bytesRead >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'zip';
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
    if (bytesRead >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
  } finally {
    await handle.close();
  }
  if (/\.zip$/i.test(path)) return 'zip';
  if (/\.(tar\.gz|tgz)$/i.test(path)) return 'tar.gz';
  if (/\.tar$/i.test(path)) return 'tar';
  throw new VoxkitError('E_DATA', `${path}: not a zip, tar or tar.gz archive`, { file: path });
}

/**
 * Extracts `archive` into `targetDir` (created if needed), merging with what is already there.
 * Throws E_DATA naming the first unsafe entry when the archive is refused.
 */
export async function extractArchive(archive: string, targetDir: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  const kind = await archiveKind(archive);
  await mkdir(targetDir, { recursive: true });
  const target = await realpath(targetDir);
  const staging = join(target, `.voxkit-extract-${basename(archive)}.tmp`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  try {
    const result = kind === 'zip' ? await extractZip(archive, staging, options) : await extractTar(archive, staging, options);
    await auditLinks(archive, staging, staging);
    options.signal?.throwIfAborted();
    await mergeInto(staging, target);
    return result;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Every symbolic link under `dir` must resolve (physically, through other links) inside `root`. */
async function auditLinks(archive: string, root: string, dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) {
      let resolved: string;
      try {
        resolved = await realpath(path);
      } catch {
        // Dangling: judge the text of the link, refusing any way up.
        const text = await readlink(path);
        if (unsafeEntryReason(text) || !isInside(root, resolve(dir, text))) {
          throw refused(archive, relative(root, path), `a link to "${text}", outside the target`);
        }
        continue;
      }
      if (!isInside(root, resolved)) throw refused(archive, relative(root, path), `a link to "${await readlink(path)}", outside the target`);
    } else if (entry.isDirectory()) {
      await auditLinks(archive, root, path);
    } else if (!entry.isFile()) {
      throw refused(archive, relative(root, path), 'a special file type');
    }
  }
}

/** Moves the staged tree into `target`, folder by folder, replacing files of the same name. */
async function mergeInto(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const destination = join(to, entry.name);
    const existing = await lstat(destination).catch(() => undefined);
    if (entry.isDirectory() && existing?.isDirectory()) {
      await mergeInto(source, destination);
    } else {
      if (existing?.isDirectory()) await rm(destination, { recursive: true, force: true });
      await rename(source, destination);
    }
  }
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolvePromise, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: false }, (err, zip) => {
      if (err) reject(new VoxkitError('E_DATA', `${path}: not a readable zip archive (${err.message})`, { file: path, cause: err }));
      else resolvePromise(zip);
    });
  });
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

async function extractZip(archive: string, staging: string, options: ExtractOptions): Promise<ExtractResult> {
  const zip = await openZip(archive);
  const links: { path: string; name: string; text: string }[] = [];
  let entries = 0;
  let bytes = 0;
  await new Promise<void>((resolvePromise, reject) => {
    const fail = (err: unknown) => {
      zip.close();
      reject(err);
    };
    zip.on('error', (err: Error) => {
      // yauzl checks names itself before we see the entry; report its verdict as a refusal.
      const unsafe = /^(absolute path|invalid relative path|invalid characters in fileName): (.*)$/s.exec(err.message);
      if (unsafe) fail(refused(archive, unsafe[2], unsafeEntryReason(unsafe[2]) ?? 'an unsafe name'));
      else fail(new VoxkitError('E_DATA', `${archive}: damaged zip archive (${err.message})`, { file: archive, cause: err }));
    });
    zip.on('end', () => resolvePromise());
    zip.on('entry', (entry: yauzl.Entry) => {
      const handle = async () => {
        options.signal?.throwIfAborted();
        const name = entry.fileName;
        const reason = unsafeEntryReason(name);
        if (reason) throw refused(archive, name, reason);
        const path = resolve(staging, name);
        if (!isInside(staging, path)) throw refused(archive, name, 'a path outside the target');
        const unixType = (entry.externalFileAttributes >>> 16) & S_IFMT;
        if (name.endsWith('/') || unixType === S_IFDIR) {
          await mkdir(path, { recursive: true });
        } else if (unixType === S_IFLNK) {
          const stream = await zip.openReadStreamPromise(entry);
          const chunks: Buffer[] = [];
          for await (const chunk of stream) chunks.push(chunk as Buffer);
          const text = Buffer.concat(chunks).toString('utf8');
          if (unsafeEntryReason(text) || !isInside(staging, resolve(dirname(path), text))) {
            throw refused(archive, name, `a link to "${text}", outside the target`);
          }
          // Created after every file is written, so no write of this archive goes through a link of it.
          links.push({ path, name, text });
        } else if (unixType === 0 || unixType === S_IFREG) {
          await mkdir(dirname(path), { recursive: true });
          // A parent folder can only be a link if one came from outside the staging folder.
          if (!isInside(staging, await realpath(dirname(path)))) throw refused(archive, name, 'a path through a link');
          const stream = await zip.openReadStreamPromise(entry);
          await pipeline(stream, createWriteStream(path, { flags: 'wx' }));
          bytes += entry.uncompressedSize;
        } else {
          throw refused(archive, name, 'a special file type (device, FIFO or socket)');
        }
        entries++;
        options.onProgress?.({ entries, totalEntries: zip.entryCount, bytes });
      };
      handle().then(
        () => zip.readEntry(),
        (err: unknown) => {
          if (err instanceof VoxkitError || options.signal?.aborted) return fail(err);
          const code = (err as NodeJS.ErrnoException)?.code ?? (err instanceof Error ? err.message : String(err));
          fail(new VoxkitError('E_DATA', `${archive}: cannot extract entry "${entry.fileName}" (${code}); nothing was extracted`, { file: archive, cause: err }));
        },
      );
    });
    zip.readEntry();
  });
  for (const link of links) {
    await mkdir(dirname(link.path), { recursive: true });
    await symlink(link.text, link.path).catch((cause: NodeJS.ErrnoException) => {
      throw refused(archive, link.name, `a link that cannot be created (${cause.code})`);
    });
  }
  return { entries, bytes };
}

const ALLOWED_TAR_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

async function extractTar(archive: string, staging: string, options: ExtractOptions): Promise<ExtractResult> {
  let violation: VoxkitError | undefined;
  let entries = 0;
  let bytes = 0;
  try {
    await tar.x({
      file: archive,
      cwd: staging,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      // Entries are judged before node-tar's own sanitising (which would silently rewrite them).
      filter: (path, entry) => {
        if (violation) return false;
        const e = entry as tar.ReadEntry;
        const reason =
          unsafeEntryReason(path) ??
          (!ALLOWED_TAR_TYPES.has(e.type) ? `a special file type (${e.type})` : undefined) ??
          (e.type === 'SymbolicLink' && (unsafeEntryReason(String(e.linkpath)) || !isInside(staging, resolve(staging, dirname(path), String(e.linkpath))))
            ? `a link to "${e.linkpath}", outside the target`
            : undefined) ??
          (e.type === 'Link' && unsafeEntryReason(String(e.linkpath)) ? `a hard link to "${e.linkpath}", outside the target` : undefined);
        if (reason) {
          violation = refused(archive, path, reason);
          return false;
        }
        entries++;
        bytes += e.size ?? 0;
        options.onProgress?.({ entries, bytes });
        return true;
      },
    });
  } catch (err) {
    if (violation) throw violation;
    if (options.signal?.aborted) throw options.signal.reason;
    const tarError = err as { code?: string; path?: string };
    if (tarError.code === 'TAR_SYMLINK_ERROR') {
      throw refused(archive, relative(staging, String(tarError.path ?? '?')), 'a path through a symbolic link of the archive');
    }
    const message = err instanceof Error ? err.message : String(err);
    throw new VoxkitError('E_DATA', `${archive}: cannot extract the tar archive (${message})`, { file: archive, cause: err });
  }
  if (violation) throw violation;
  return { entries, bytes };
}
