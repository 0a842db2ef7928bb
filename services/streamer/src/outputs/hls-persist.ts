// The HLS window on disk (DATA_DIR/hls/<station>/), so a restarted streamer continues the same
// playlist: the old segments stay listed and fetchable, numbering goes on after them with a
// discontinuity, and a player that buffered a few segments plays through the restart.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { HlsSegment } from './hls-playlist.ts';

/** A window older than this is not worth resuming: the player has long given up on it. */
export const RESUME_MAX_AGE_MS = 60_000;
const INDEX = 'index.json';

type Meta = Omit<HlsSegment, 'data'>;

export class HlsPersistence {
  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  /** The saved window when it is recent enough to continue, oldest first; else [] (and cleared). */
  load(now = Date.now()): HlsSegment[] {
    let metas: Meta[];
    try {
      metas = JSON.parse(readFileSync(path.join(this.dir, INDEX), 'utf8')) as Meta[];
    } catch {
      return [];
    }
    const last = metas.at(-1);
    if (!last || now - last.programDateTimeMs > RESUME_MAX_AGE_MS) {
      this.clear();
      return [];
    }
    const out: HlsSegment[] = [];
    for (const m of metas) {
      try {
        out.push({ ...m, data: readFileSync(this.file(m.seq)) });
      } catch {
        out.length = 0; // a hole would make a gap: resume only a whole window
      }
    }
    return out;
  }

  /** Writes a new segment and the index of the window (file first, index last, both atomic). */
  save(seg: HlsSegment, window: readonly HlsSegment[], dropped: readonly HlsSegment[]): void {
    try {
      mkdirSync(this.dir, { recursive: true });
      this.atomic(this.file(seg.seq), seg.data);
      const metas: Meta[] = window.map(({ data: _d, ...m }) => m);
      this.atomic(path.join(this.dir, INDEX), Buffer.from(JSON.stringify(metas)));
      for (const d of dropped) unlinkSync(this.file(d.seq));
    } catch (err) {
      // Persistence is for restarts only: live listeners are served from memory regardless.
      this.log.warn({ err, dir: this.dir }, 'could not save the HLS window');
    }
  }

  clear(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Files of segments no longer in the index (a crash between writes). */
  sweep(keep: readonly HlsSegment[]): void {
    const wanted = new Set(keep.map((s) => `${s.seq}.ts`));
    try {
      for (const f of readdirSync(this.dir))
        if (f.endsWith('.ts') && !wanted.has(f)) unlinkSync(path.join(this.dir, f));
    } catch {
      // no folder yet
    }
  }

  private file(seq: number): string {
    return path.join(this.dir, `${seq}.ts`);
  }

  private atomic(file: string, data: Buffer): void {
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  }
}
