// Splits an MP3 byte stream into whole frames. The burst a listener gets on connect and every ICY
// metadata block must sit on frame boundaries, or players resync with a click.

const BITRATES_V1_L3 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0];
const BITRATES_V2_L3 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0];
const SAMPLE_RATES: Record<number, readonly number[]> = {
  3: [44100, 48000, 32000], // MPEG-1
  2: [22050, 24000, 16000], // MPEG-2
  0: [11025, 12000, 8000], // MPEG-2.5
};

export interface Mp3FrameHeader {
  length: number;
  sampleRate: number;
  samplesPerFrame: number;
  bitrateKbps: number;
}

/** Parses a Layer III frame header at `offset`, or returns null when none starts there. */
export function parseMp3Header(buf: Uint8Array, offset: number): Mp3FrameHeader | null {
  if (offset + 4 > buf.length) return null;
  const b1 = buf[offset + 1] ?? 0;
  const b2 = buf[offset + 2] ?? 0;
  if (buf[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const version = (b1 >> 3) & 0x3;
  const layer = (b1 >> 1) & 0x3;
  if (version === 1 || layer !== 1) return null; // reserved version, or not Layer III
  const bitrateIndex = (b2 >> 4) & 0xf;
  const srIndex = (b2 >> 2) & 0x3;
  const padding = (b2 >> 1) & 0x1;
  const bitrateKbps = (version === 3 ? BITRATES_V1_L3 : BITRATES_V2_L3)[bitrateIndex] ?? 0;
  const sampleRate = SAMPLE_RATES[version]?.[srIndex];
  if (!bitrateKbps || !sampleRate) return null;
  const samplesPerFrame = version === 3 ? 1152 : 576;
  const length = Math.floor(((samplesPerFrame / 8) * bitrateKbps * 1000) / sampleRate) + padding;
  return { length, sampleRate, samplesPerFrame, bitrateKbps };
}

/** Accumulates encoder output and yields complete frames; bytes between frames are skipped. */
export class Mp3FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Buffer[] = [];
    let i = 0;
    while (i + 4 <= buf.length) {
      const h = parseMp3Header(buf, i);
      if (!h) {
        i++;
        continue;
      }
      if (i + h.length > buf.length) break;
      frames.push(buf.subarray(i, i + h.length));
      i += h.length;
    }
    this.pending = Buffer.from(buf.subarray(i));
    return frames;
  }
}
