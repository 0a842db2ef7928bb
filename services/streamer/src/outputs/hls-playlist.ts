// HLS playlist text (RFC 8216) for the live window: a one-variant master playlist that gives each
// client its session id, and the media playlist with one PROGRAM-DATE-TIME per segment.
export interface HlsSegment {
  /** Media sequence number: never reused, continuous across encoder restarts. */
  seq: number;
  data: Buffer;
  durationSeconds: number;
  /** Stream clock (ms since epoch) of the segment's first sample: its EXT-X-PROGRAM-DATE-TIME. */
  programDateTimeMs: number;
  /** Timestamps restart here (a new encoder): EXT-X-DISCONTINUITY before it. */
  discontinuity: boolean;
  /** Discontinuities up to and including this segment since the output started. */
  discontinuities: number;
  /** Title of the music at the segment's start, for EXTINF (informational). */
  title: string | null;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we remove
const lineSafe = (s: string): string => s.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 200);

export function masterPlaylist(mediaUri: string, bandwidthBps: number, codecs: string): string {
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-STREAM-INF:BANDWIDTH=${Math.round(bandwidthBps)},CODECS="${codecs}"`,
    mediaUri,
    '',
  ].join('\n');
}

export function mediaPlaylist(
  segments: readonly HlsSegment[],
  targetSeconds: number,
  uri: (seq: number) => string,
): string {
  const first = segments[0];
  // EXTINF rounded must not exceed the target; ours stay within a fraction of a PES of it.
  const target = Math.max(targetSeconds, ...segments.map((s) => Math.round(s.durationSeconds)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${target}`,
    `#EXT-X-MEDIA-SEQUENCE:${first?.seq ?? 0}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${first ? first.discontinuities - (first.discontinuity ? 1 : 0) : 0}`,
  ];
  for (const s of segments) {
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTimeMs).toISOString()}`);
    lines.push(`#EXTINF:${s.durationSeconds.toFixed(3)},${lineSafe(s.title ?? '')}`);
    lines.push(uri(s.seq));
  }
  lines.push('');
  return lines.join('\n');
}
