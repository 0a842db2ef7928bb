// Store keys and job ids are derived, never built ad hoc, so every side names a segment the same way.

const pad = (n: number): string => String(n).padStart(8, '0');

/** Store key of a segment's audio: stations/<id>/segments/<seq>-v<version>.flac */
export function audioKeyFor(stationId: string, seq: number, promptVersion: number): string {
  return `stations/${stationId}/segments/${pad(seq)}-v${promptVersion}.flac`;
}

/** Store key of a station's melody (musicgen-melody), one per station: the schema's MelodyKey. */
export function melodyKeyFor(stationId: string): string {
  return `stations/${stationId}/melody/melody.flac`;
}

/** The metadata sits beside the audio. */
export function metaKeyFor(audioKey: string): string {
  return audioKey.replace(/\.flac$/, '.json');
}

/**
 * Deterministic BullMQ job id `station:promptVersion:seq`: re-adding after a restart is a no-op,
 * never a duplicate. (BullMQ accepts ':' only in ids of exactly three parts, which this is.)
 */
export function jobIdFor(stationId: string, promptVersion: number, seq: number): string {
  return `${stationId}:${promptVersion}:${seq}`;
}
