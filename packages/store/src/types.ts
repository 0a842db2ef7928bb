// The segment store as every TypeScript service sees it: a local folder (DATA_DIR) or an
// S3-compatible bucket. Keys are checked by each implementation before they touch a path or URL.
//
// Keys: stations/<stationId>/segments/<name>   (worker output: FLAC, JSON, tokens)
//       stations/<stationId>/hls/<name>        (the streamer's HLS window, shared by replicas)

export interface SegmentStore {
  readonly kind: 'local' | 's3';
  /** The bytes of a key, or undefined when there is no such object. Other errors throw. */
  get(key: string): Promise<Buffer | undefined>;
  /** Writes a whole object; readers see the old bytes or the new, never a part. */
  put(key: string, data: Buffer, contentType?: string): Promise<void>;
  /** Removes one object; a missing one is not an error. */
  remove(key: string): Promise<void>;
  /** Removes every object of a station. */
  removeStation(stationId: string): Promise<void>;
  /** A local file path for the key when the store is a folder (ffmpeg can read it directly). */
  localPath(key: string): string | undefined;
}
