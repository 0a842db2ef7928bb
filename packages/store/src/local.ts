// The segment store as a local folder (DATA_DIR): the default, and what a single machine uses.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { checkKey, checkStationId, StoreKeyError } from './keys.ts';
import type { SegmentStore } from './types.ts';

export class LocalSegmentStore implements SegmentStore {
  readonly kind = 'local' as const;
  readonly root: string;
  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** The absolute path of a key, refusing anything that could leave the store. */
  pathOf(key: string): string {
    const full = path.resolve(this.root, checkKey(key));
    if (!full.startsWith(this.root + path.sep)) throw new StoreKeyError(`key escapes the store: ${key}`);
    return full;
  }

  localPath(key: string): string {
    return this.pathOf(key);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async put(key: string, data: Buffer, _contentType?: string): Promise<void> {
    const file = this.pathOf(key);
    const dir = path.dirname(file);
    await mkdir(dir, { recursive: true });
    // A temporary file in the same folder, then rename: atomic on one filesystem, so a reader
    // (ffmpeg, an HLS client) sees the old bytes or the new, never a half-written file.
    const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(tmp, data, { mode: 0o644 });
      await rename(tmp, file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  async remove(key: string): Promise<void> {
    try {
      await unlink(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** Removes every file of a station (its folder). */
  async removeStation(stationId: string): Promise<void> {
    checkStationId(stationId);
    await rm(path.join(this.root, 'stations', stationId), { recursive: true, force: true });
  }
}
