// The segment store adapter: a local folder (DATA_DIR). Keys come from the contract; they are
// checked again here, because a key is about to become a file path.
import { rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { STATION_ID_PATTERN, STORE_KEY_PATTERN } from '@lofi/contracts';

const KEY = new RegExp(STORE_KEY_PATTERN);
const STATION_ID = new RegExp(STATION_ID_PATTERN);

export class StoreKeyError extends Error {
  readonly code = 'STORE_KEY_INVALID';
}

export class LocalSegmentStore {
  readonly root: string;
  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** The absolute path of a key, refusing anything that could leave the store. */
  pathOf(key: string): string {
    if (!KEY.test(key) || key.split('/').some((p) => p === '..' || p === '.')) {
      throw new StoreKeyError(`not a segment store key: ${JSON.stringify(key)}`);
    }
    const full = path.resolve(this.root, key);
    if (!full.startsWith(this.root + path.sep)) throw new StoreKeyError(`key escapes the store: ${key}`);
    return full;
  }

  /** Removes every file of a station (its folder). */
  async removeStation(stationId: string): Promise<void> {
    if (!STATION_ID.test(stationId)) throw new StoreKeyError(`not a station id: ${stationId}`);
    await rm(path.join(this.root, 'stations', stationId), { recursive: true, force: true });
  }

  async remove(key: string): Promise<void> {
    try {
      await unlink(this.pathOf(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
