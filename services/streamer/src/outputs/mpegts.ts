// Just enough MPEG-TS to cut ffmpeg's continuous transport stream into HLS segments: packet
// framing, PIDs, the PAT's PMT PID, and PES timestamps. Nothing is rewritten.
export const TS_PACKET = 188;
const SYNC = 0x47;
/** PTS are 33-bit counters of a 90 kHz clock; they wrap after about 26.5 hours. */
export const PTS_HZ = 90000;
const PTS_WRAP = 2 ** 33;

/** Splits a byte stream into whole 188-byte packets, resynchronising on the sync byte if lost. */
export class TsPacketizer {
  private rest: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    let buf = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    const out: Buffer[] = [];
    let o = 0;
    while (buf.length - o >= TS_PACKET) {
      if (buf[o] !== SYNC) {
        const next = buf.indexOf(SYNC, o + 1);
        if (next < 0) {
          o = buf.length;
          break;
        }
        o = next;
        continue;
      }
      out.push(buf.subarray(o, o + TS_PACKET));
      o += TS_PACKET;
    }
    buf = buf.subarray(o);
    // Copied so the retained tail does not pin the whole chunk.
    this.rest = Buffer.from(buf);
    return out;
  }
}

export const packetPid = (p: Buffer): number => (((p[1] ?? 0) & 0x1f) << 8) | (p[2] ?? 0);
const payloadStart = (p: Buffer): boolean => ((p[1] ?? 0) & 0x40) !== 0;

/** Offset of the payload in a packet, or -1 when it has none. */
function payloadOffset(p: Buffer): number {
  const afc = ((p[3] ?? 0) >> 4) & 3;
  if ((afc & 1) === 0) return -1;
  const off = afc & 2 ? 5 + (p[4] ?? 0) : 4;
  return off < TS_PACKET ? off : -1;
}

/** The PTS of the PES that starts in this packet, or null when none starts here or it has none. */
export function pesStartPts(p: Buffer): number | null {
  if (!payloadStart(p)) return null;
  const o = payloadOffset(p);
  if (o < 0 || o + 14 > TS_PACKET) return null;
  if (p[o] !== 0 || p[o + 1] !== 0 || p[o + 2] !== 1) return null;
  if (((p[o + 7] ?? 0) & 0x80) === 0) return null;
  const b = (i: number) => p[o + 9 + i] ?? 0;
  // 33 bits do not fit in 32-bit bitwise maths: the top bits are multiplied in.
  return ((b(0) >> 1) & 0x07) * 2 ** 30 + (b(1) << 22) + ((b(2) >> 1) << 15) + (b(3) << 7) + (b(4) >> 1);
}

/** The PMT PID named by a PAT packet (the first program's), or null. */
export function patPmtPid(p: Buffer): number | null {
  if (packetPid(p) !== 0 || !payloadStart(p)) return null;
  const o = payloadOffset(p);
  if (o < 0) return null;
  const section = o + 1 + (p[o] ?? 0);
  if ((p[section] ?? 0xff) !== 0) return null;
  const length = (((p[section + 1] ?? 0) & 0x0f) << 8) | (p[section + 2] ?? 0);
  // Program loop: after the 8-byte header, up to the 4-byte CRC.
  for (let i = section + 8; i + 4 <= section + 3 + length - 4 && i + 4 <= TS_PACKET; i += 4) {
    const program = ((p[i] ?? 0) << 8) | (p[i + 1] ?? 0);
    if (program !== 0) return (((p[i + 2] ?? 0) & 0x1f) << 8) | (p[i + 3] ?? 0);
  }
  return null;
}

/** `to - from` in seconds, across a PTS wrap. */
export function ptsSeconds(from: number, to: number): number {
  return ((((to - from) % PTS_WRAP) + PTS_WRAP) % PTS_WRAP) / PTS_HZ;
}
