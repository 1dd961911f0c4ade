/**
 * What `voxkit download` fetches: per dataset, the files to download with their MD5s, how parts
 * are concatenated into archives, and where each archive is extracted. The names and checksums are
 * the published ones (voxceleb_trainer's lists/fileparts.txt and lists/files.txt, OpenSLR's
 * checksum.md5 for resources 17 and 28); only the hosts are configurable, because they keep moving.
 */
import { VoxkitError } from '../../errors.js';

export const DATASET_NAMES = ['voxceleb1', 'voxceleb2', 'musan', 'rirs'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export interface DownloadPart {
  /** The local file name (also the name appended to the base URL). */
  name: string;
  /** A full URL that overrides the base URL for this part (custom part lists). */
  url?: string;
  md5: string;
}

export interface ArchiveSpec {
  /** The archive's file name in the output folder. */
  name: string;
  /** Parts concatenated in this order; a single part named like the archive is the archive itself. */
  parts: string[];
  /** MD5 of the concatenation, when published. */
  md5?: string;
  /** Sub-folder of the output folder to extract into ('' = the output folder). */
  extractTo: string;
}

export interface DatasetSpec {
  name: DatasetName;
  /** Whether the default host asks for a per-user key or login (VoxCeleb). */
  needsCredentials: boolean;
  /** Prefix the part name is appended to, or a template with {file} (and {key}). */
  defaultBaseUrl: string;
  /** The host used instead when an access key is given. */
  defaultKeyUrl?: string;
  parts: DownloadPart[];
  archives: ArchiveSpec[];
}

// The VoxCeleb mirror that hands out per-user keys (voxceleb_trainer's dataprep.py uses it as
// `?file=NAME&key=KEY`), and the Oxford host that used the older per-user login.
const VOXCELEB_KEY_URL = 'https://cn01.mmai.io/download/voxceleb?file={file}&key={key}';
const VOXCELEB_LOGIN_URL = 'https://thor.robots.ox.ac.uk/~vgg/data/voxceleb/vox1a/';

const part = (name: string, md5: string): DownloadPart => ({ name, md5 });

export const DATASETS: Readonly<Record<DatasetName, DatasetSpec>> = {
  voxceleb1: {
    name: 'voxceleb1',
    needsCredentials: true,
    defaultBaseUrl: VOXCELEB_LOGIN_URL,
    defaultKeyUrl: VOXCELEB_KEY_URL,
    parts: [
      part('vox1_dev_wav_partaa', 'e395d020928bc15670b570a21695ed96'),
      part('vox1_dev_wav_partab', 'bbfaaccefab65d82b21903e81a8a8020'),
      part('vox1_dev_wav_partac', '017d579a2a96a077f40042ec33e51512'),
      part('vox1_dev_wav_partad', '7bb1e9f70fddc7a678fa998ea8b3ba19'),
      part('vox1_test_wav.zip', '185fdc63c3c739954633d50379a3d102'),
    ],
    archives: [
      {
        name: 'vox1_dev_wav.zip',
        parts: ['vox1_dev_wav_partaa', 'vox1_dev_wav_partab', 'vox1_dev_wav_partac', 'vox1_dev_wav_partad'],
        md5: 'ae63e55b951748cc486645f532ba230b',
        extractTo: 'voxceleb1/dev',
      },
      { name: 'vox1_test_wav.zip', parts: ['vox1_test_wav.zip'], md5: '185fdc63c3c739954633d50379a3d102', extractTo: 'voxceleb1/test' },
    ],
  },
  voxceleb2: {
    name: 'voxceleb2',
    needsCredentials: true,
    defaultBaseUrl: VOXCELEB_LOGIN_URL,
    defaultKeyUrl: VOXCELEB_KEY_URL,
    parts: [
      part('vox2_dev_aac_partaa', 'da070494c573e5c0564b1d11c3b20577'),
      part('vox2_dev_aac_partab', '17fe6dab2b32b48abaf1676429cdd06f'),
      part('vox2_dev_aac_partac', '1de58e086c5edf63625af1cb6d831528'),
      part('vox2_dev_aac_partad', '5a043eb03e15c5a918ee6a52aad477f9'),
      part('vox2_dev_aac_partae', 'cea401b624983e2d0b2a87fb5d59aa60'),
      part('vox2_dev_aac_partaf', 'fc886d9ba90ab88e7880ee98effd6ae9'),
      part('vox2_dev_aac_partag', 'd160ecc3f6ee3eed54d55349531cb42e'),
      part('vox2_dev_aac_partah', '6b84a81b9af72a9d9eecbb3b1f602e65'),
      part('vox2_test_aac.zip', '0d2b3ea430a821c33263b5ea37ede312'),
    ],
    archives: [
      {
        name: 'vox2_dev_aac.zip',
        parts: ['aa', 'ab', 'ac', 'ad', 'ae', 'af', 'ag', 'ah'].map((s) => `vox2_dev_aac_part${s}`),
        md5: 'bbc063c46078a602ca71605645c2a402',
        extractTo: 'voxceleb2',
      },
      { name: 'vox2_test_aac.zip', parts: ['vox2_test_aac.zip'], md5: '0d2b3ea430a821c33263b5ea37ede312', extractTo: 'voxceleb2/test' },
    ],
  },
  musan: {
    name: 'musan',
    needsCredentials: false,
    defaultBaseUrl: 'https://www.openslr.org/resources/17/',
    parts: [part('musan.tar.gz', '0c472d4fc0c5141eca47ad1ffeb2a7df')],
    archives: [{ name: 'musan.tar.gz', parts: ['musan.tar.gz'], md5: '0c472d4fc0c5141eca47ad1ffeb2a7df', extractTo: '' }],
  },
  rirs: {
    name: 'rirs',
    needsCredentials: false,
    defaultBaseUrl: 'https://www.openslr.org/resources/28/',
    parts: [part('rirs_noises.zip', 'e6f48e257286e05de56413b4779d8ffb')],
    archives: [{ name: 'rirs_noises.zip', parts: ['rirs_noises.zip'], md5: 'e6f48e257286e05de56413b4779d8ffb', extractTo: '' }],
  },
};

export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

const MD5_PATTERN = /^[0-9a-f]{32}$/;
const ARCHIVE_PATTERN = /\.(zip|tar|tar\.gz|tgz)$/i;

/** The local file name of a part given as a URL or a name: the last path segment, or a `file=` query value. */
export function partNameFromUrl(urlOrName: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(urlOrName)) return urlOrName;
  const url = new URL(urlOrName);
  const fromQuery = url.searchParams.get('file');
  const name = fromQuery ?? decodeURIComponent(url.pathname.split('/').filter(Boolean).pop() ?? '');
  return name.split('/').filter(Boolean).pop() ?? '';
}

function checkLocalName(name: string, file: string, lineNumber: number): string {
  if (!name || name === '.' || name === '..' || /[\\/]/.test(name) || name.startsWith('.')) {
    throw new VoxkitError('E_DATA', `${file}:${lineNumber}: "${name}" is not a usable file name`, { file });
  }
  return name;
}

/**
 * Parses a custom part list in voxceleb_trainer's formats:
 * `URL-or-name MD5` lines (lists/fileparts.txt) and `PATTERN ARCHIVE MD5` concatenation lines
 * (lists/files.txt, PATTERN like `vox1_dev_wav_parta*`), `#` comments. Archives not named by a
 * concatenation line come from the dataset's defaults when their parts are all listed, else every
 * listed part that is itself an archive (.zip, .tar, .tar.gz, .tgz) is extracted on its own.
 */
export function parsePartsFile(text: string, file: string, defaults?: DatasetSpec): { parts: DownloadPart[]; archives: ArchiveSpec[] } {
  const parts: DownloadPart[] = [];
  const concatenations: { pattern: string; name: string; md5: string; line: number }[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const fields = line.split(/\s+/);
    const lineNumber = index + 1;
    const md5 = fields[fields.length - 1].toLowerCase();
    if ((fields.length !== 2 && fields.length !== 3) || !MD5_PATTERN.test(md5)) {
      throw new VoxkitError('E_DATA', `${file}:${lineNumber}: expected "URL-or-name MD5" or "PATTERN ARCHIVE MD5" (32 hex digits), got "${line}"`, { file });
    }
    if (fields.length === 3) {
      concatenations.push({ pattern: fields[0], name: checkLocalName(fields[1], file, lineNumber), md5, line: lineNumber });
      return;
    }
    const name = checkLocalName(partNameFromUrl(fields[0]), file, lineNumber);
    if (parts.some((p) => p.name === name)) throw new VoxkitError('E_DATA', `${file}:${lineNumber}: part "${name}" is listed twice`, { file });
    parts.push(fields[0] === name ? { name, md5 } : { name, url: fields[0], md5 });
  });
  if (parts.length === 0) throw new VoxkitError('E_DATA', `${file}: no parts listed`, { file });

  const archives: ArchiveSpec[] = [];
  const used = new Set<string>();
  const defaultFor = (name: string) => defaults?.archives.find((a) => a.name === name);
  for (const c of concatenations) {
    const members = parts.filter((p) => globMatch(c.pattern, p.name)).map((p) => p.name).sort();
    if (members.length === 0) throw new VoxkitError('E_DATA', `${file}:${c.line}: no listed part matches "${c.pattern}"`, { file });
    members.forEach((m) => used.add(m));
    archives.push({ name: c.name, parts: members, md5: c.md5, extractTo: defaultFor(c.name)?.extractTo ?? '' });
  }
  const listed = new Set(parts.map((p) => p.name));
  for (const archive of defaults?.archives ?? []) {
    if (archives.some((a) => a.name === archive.name)) continue;
    if (archive.parts.every((p) => listed.has(p) && !used.has(p))) {
      archive.parts.forEach((p) => used.add(p));
      archives.push({ ...archive, parts: [...archive.parts] });
    }
  }
  for (const p of parts) {
    if (used.has(p.name) || !ARCHIVE_PATTERN.test(p.name)) continue;
    archives.push({ name: p.name, parts: [p.name], md5: p.md5, extractTo: '' });
  }
  return { parts, archives };
}

/** Shell-style match of `*` and `?` against a whole name. */
function globMatch(pattern: string, name: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return regex.test(name);
}

/**
 * The URL of one part: its own URL when the part list gave one, else the base URL with `{file}`
 * (and `{key}`) substituted, or the name appended to it. A key with no `{key}` placeholder is
 * appended as a `key=` query parameter unless it travels in a header.
 */
export function partUrl(part: DownloadPart, baseUrl: string, key?: string, keyInHeader = false): string {
  let url: string;
  if (part.url) url = part.url;
  else if (baseUrl.includes('{file}')) url = baseUrl.split('{file}').join(encodeURIComponent(part.name));
  else url = `${baseUrl}${baseUrl.endsWith('/') ? '' : '/'}${encodeURIComponent(part.name)}`;
  if (url.includes('{key}')) {
    if (key === undefined) throw new VoxkitError('E_USAGE', 'the download URL has a {key} placeholder: pass --key (or set VOXKIT_VOX_KEY)');
    return url.split('{key}').join(encodeURIComponent(key));
  }
  if (key !== undefined && !keyInHeader) {
    const u = new URL(url);
    u.searchParams.set('key', key);
    return u.toString();
  }
  return url;
}

/** A URL fit for messages: credentials and key values hidden. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    for (const name of [...u.searchParams.keys()]) {
      if (/key|token|pass|secret|sig/i.test(name)) u.searchParams.set(name, '***');
    }
    return decodeURIComponent(u.toString());
  } catch {
    return url;
  }
}
