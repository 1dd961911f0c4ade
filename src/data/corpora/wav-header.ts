/**
 * A WAV file's length from its header alone: the chunk headers are read one by one (a few small
 * reads, whatever the file size), so hours of a large corpus are counted without decoding audio.
 * Browser-safe: the caller supplies the byte reader.
 */

/** Reads `length` bytes at `position` (fewer at the end of the file). */
export type ByteReader = (position: number, length: number) => Promise<Uint8Array>;

export interface WavHeaderInfo {
  sampleRateHz: number;
  channels: number;
  frames: number;
  durationSec: number;
}

const UNKNOWN_SIZE = 0xffffffff;

function tag(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

/**
 * Parses RIFF/RF64 WAVE chunk headers up to the data chunk. Streamed files (data size unknown or
 * larger than the file) count what is present.
 * @throws Error with a short reason when the bytes are not a usable WAV header
 */
export async function readWavHeader(read: ByteReader, fileSize: number): Promise<WavHeaderInfo> {
  if (fileSize === 0) throw new Error('empty file (0 bytes)');
  const head = await read(0, 12);
  if (head.length < 12 || !['RIFF', 'RF64'].includes(tag(head, 0)) || tag(head, 8) !== 'WAVE') throw new Error('not a WAV file (no RIFF/WAVE header)');
  let fmt: { channels: number; sampleRateHz: number; blockAlign: number } | undefined;
  let ds64DataSize: number | undefined;
  let dataBytes: number | undefined;
  let position = 12;
  while (position + 8 <= fileSize && (fmt === undefined || dataBytes === undefined)) {
    const header = await read(position, 8);
    if (header.length < 8) break;
    const view = new DataView(header.buffer, header.byteOffset, 8);
    const id = tag(header, 0);
    const size = view.getUint32(4, true);
    const body = position + 8;
    const available = fileSize - body;
    if (id === 'fmt ') {
      const bytes = await read(body, 16);
      if (bytes.length < 16) throw new Error('truncated "fmt " chunk');
      const fmtView = new DataView(bytes.buffer, bytes.byteOffset, 16);
      fmt = { channels: fmtView.getUint16(2, true), sampleRateHz: fmtView.getUint32(4, true), blockAlign: fmtView.getUint16(12, true) };
    } else if (id === 'ds64') {
      const bytes = await read(body, 16);
      if (bytes.length >= 16) ds64DataSize = Number(new DataView(bytes.buffer, bytes.byteOffset, 16).getBigUint64(8, true));
    } else if (id === 'data') {
      let declared = size === UNKNOWN_SIZE && ds64DataSize !== undefined ? ds64DataSize : size;
      if (declared === UNKNOWN_SIZE || declared > available || (declared === 0 && available > 0 && tag(head, 0) === 'RIFF' && new DataView(head.buffer, head.byteOffset, 12).getUint32(4, true) === 0)) {
        declared = available;
      }
      dataBytes = declared;
      if (fmt) break;
    }
    if (size === UNKNOWN_SIZE) break;
    position = body + size + (size & 1);
  }
  if (!fmt) throw new Error('no "fmt " chunk');
  if (dataBytes === undefined) throw new Error('no "data" chunk');
  if (fmt.channels === 0 || fmt.sampleRateHz === 0 || fmt.blockAlign === 0) throw new Error('the "fmt " chunk declares 0 channels, 0 Hz or 0-byte frames');
  const frames = Math.floor(dataBytes / fmt.blockAlign);
  if (frames === 0) throw new Error('no audio samples (empty data chunk)');
  return { sampleRateHz: fmt.sampleRateHz, channels: fmt.channels, frames, durationSec: frames / fmt.sampleRateHz };
}
