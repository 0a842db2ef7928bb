// The segment store as an S3-compatible bucket, for workers and streamers on different machines.
// Every object name is the store key under an optional prefix; the objects are whole-object PUTs,
// which S3 makes visible atomically (a reader never sees half an object).
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { S3Settings } from '@lofi/config';
import { checkKey, checkStationId } from './keys.ts';
import type { SegmentStore } from './types.ts';

/** The bucket settings, as @lofi/config reads them from STORE_URL and S3_*. */
export type S3StoreOptions = S3Settings;

/** DeleteObjects takes at most this many keys per request. */
const DELETE_BATCH = 1000;

export class S3SegmentStore implements SegmentStore {
  readonly kind = 's3' as const;
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;

  constructor(o: S3StoreOptions) {
    this.bucket = o.bucket;
    this.prefix = o.prefix;
    const cfg: S3ClientConfig = {
      region: o.region,
      forcePathStyle: o.forcePathStyle,
      // Bounded: a hung request must surface as an error the playout can route around, not hang.
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
      maxAttempts: 3,
    };
    if (o.endpoint) {
      cfg.endpoint = o.endpoint;
      // Several S3-compatible servers reject the SDK's newer default (a checksum on every request);
      // send checksums only where the S3 API requires them (DeleteObjects).
      cfg.requestChecksumCalculation = 'WHEN_REQUIRED';
      cfg.responseChecksumValidation = 'WHEN_REQUIRED';
    }
    if (o.credentials) cfg.credentials = o.credentials;
    this.client = new S3Client(cfg);
  }

  /** The object name of a key (bucket-relative). */
  objectKey(key: string): string {
    return this.prefix + checkKey(key);
  }

  localPath(_key: string): undefined {
    return undefined;
  }

  async get(key: string): Promise<Buffer | undefined> {
    const name = this.objectKey(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: name }));
      if (!res.Body) return Buffer.alloc(0);
      const bytes = await res.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async put(key: string, data: Buffer, contentType?: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.objectKey(key),
        Body: data,
        ContentLength: data.length,
        ContentType: contentType ?? 'application/octet-stream',
      }),
    );
  }

  async remove(key: string): Promise<void> {
    // S3 answers a delete of a missing object with success, which is what the interface wants.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  async removeStation(stationId: string): Promise<void> {
    const prefix = `${this.prefix}stations/${checkStationId(stationId)}/`;
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      const names = (page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : []));
      for (let i = 0; i < names.length; i += DELETE_BATCH) {
        const batch = names.slice(i, i + DELETE_BATCH);
        const res = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const failed = res.Errors ?? [];
        if (failed.length > 0) {
          const first = failed[0];
          throw new Error(
            `could not remove ${failed.length} objects of station ${stationId} (first: ${first?.Key}: ${first?.Code} ${first?.Message})`,
          );
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Closes the client's sockets. */
  destroy(): void {
    this.client.destroy();
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  // A missing bucket is a misconfiguration, not a missing segment.
  if (e?.name === 'NoSuchBucket') return false;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
