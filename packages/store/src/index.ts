// The segment store adapter: a local folder (DATA_DIR). Keys come from the contract; they are
// checked again here, because a key is about to become a file path.
import { rm, unlink } from 'node:fs/promises';
import path from 'node:path';

const KEY = /^stations\/[a-z0-9][a-z0-9-]{0,62}\/segments\/[A-Za-z0-9._-]{1,96}$/;

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
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(stationId))
      throw new StoreKeyError(`not a station id: ${stationId}`);
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
