// ICY (Shoutcast/Icecast) MP3 fan-out: one encoder, many listeners. A listener that asks for
// metadata gets a block every `metaint` bytes, carrying the title of the audio that follows it.
// New listeners get a burst of recent whole frames so playback starts at once; a listener whose
// socket backlog passes a bound is dropped, so it never slows the others.
import type { ServerResponse } from 'node:http';
import type { TaggedFrame } from './mp3-output.ts';

export const ICY_METAINT = 16000;
const BURST_BYTES = 64 * 1024;
/** About 32 s of audio at 128 kbps, Icecast's default queue-size: a listener further behind is gone. */
const MAX_BACKLOG_BYTES = 512 * 1024;

/** `StreamTitle='...';` padded to a multiple of 16 bytes, prefixed by its length / 16. */
export function icyMetadataBlock(title: string): Buffer {
  // Quotes and semicolons end the field in most parsers; strip what cannot be escaped safely.
  const safe = title
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we remove
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/'/g, '\u2019')
    .replace(/;/g, ',');
  let body = Buffer.from(`StreamTitle='${safe}';`, 'utf8');
  if (body.length > 255 * 16) body = body.subarray(0, 255 * 16);
  const blocks = Math.ceil(body.length / 16);
  const out = Buffer.alloc(1 + blocks * 16);
  out[0] = blocks;
  body.copy(out, 1);
  return out;
}

interface Listener {
  res: ServerResponse;
  metadata: boolean;
  untilMeta: number;
  sentTitle: string | null;
}

export class IcyBroadcaster {
  private listeners = new Set<Listener>();
  private burst: TaggedFrame[] = [];
  private burstBytes = 0;
  private title = '';
  dropped = 0;

  private relays = new Set<Listener>();

  get count(): number {
    return this.listeners.size - this.relays.size;
  }

  get currentTitle(): string {
    return this.title;
  }

  /**
   * Adds a listener (headers already sent) and writes the burst, unless it already has the audio
   * before (a replica's relay reconnecting). Returns a remover.
   */
  add(res: ServerResponse, metadata: boolean, o: { burst?: boolean; relay?: boolean } = {}): () => void {
    const l: Listener = { res, metadata, untilMeta: ICY_METAINT, sentTitle: null };
    this.listeners.add(l);
    // Another replica's relay is not a listener: its own listeners are counted there.
    if (o.relay) this.relays.add(l);
    if (o.burst !== false) for (const f of this.burst) this.writeFrame(l, f);
    const remove = () => {
      this.listeners.delete(l);
      this.relays.delete(l);
    };
    res.on('close', remove);
    return remove;
  }

  /** The title of what plays now, for a stream whose frames carry none (a replica's relay). */
  retitle(title: string): void {
    this.title = title;
  }

  frame(f: TaggedFrame): void {
    if (f.meta) this.title = f.meta.title;
    this.burst.push(f);
    this.burstBytes += f.data.length;
    while (this.burstBytes - (this.burst[0]?.data.length ?? 0) >= BURST_BYTES) {
      this.burstBytes -= this.burst.shift()?.data.length ?? 0;
    }
    for (const l of this.listeners) {
      if (l.res.writableLength > MAX_BACKLOG_BYTES) {
        this.dropped++;
        this.listeners.delete(l);
        this.relays.delete(l);
        l.res.destroy();
        continue;
      }
      this.writeFrame(l, f);
    }
  }

  closeAll(): void {
    for (const l of this.listeners) l.res.end();
    this.listeners.clear();
    this.relays.clear();
  }

  private writeFrame(l: Listener, f: TaggedFrame): void {
    const title = f.meta?.title ?? this.title;
    if (!l.metadata) {
      l.res.write(f.data);
      return;
    }
    let data = f.data;
    while (data.length > 0) {
      const n = Math.min(l.untilMeta, data.length);
      l.res.write(data.subarray(0, n));
      data = data.subarray(n);
      l.untilMeta -= n;
      if (l.untilMeta === 0) {
        // An empty block (one zero byte) when the title has not changed, as Icecast does.
        const changed = title !== l.sentTitle;
        l.res.write(changed ? icyMetadataBlock(title) : Buffer.alloc(1));
        l.sentTitle = title;
        l.untilMeta = ICY_METAINT;
      }
    }
  }
}
