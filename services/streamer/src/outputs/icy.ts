// ICY (Shoutcast/Icecast) MP3 fan-out: one encoder, many listeners. A listener that asks for
// metadata gets a block every `metaint` bytes, carrying the title of the audio that follows it.
// New listeners get a burst of recent whole frames so playback starts at once. A listener that
// falls behind is dropped, so it never slows the others: at once when our own backlog for it passes
// a bound, and within seconds when the audio it has not taken (ours plus the kernel's send queue)
// passes MAX_LAG_SECONDS.
import type { ServerResponse } from 'node:http';
import type { TaggedFrame } from './mp3-output.ts';
import { kernelSendQueues, socketInode } from './send-queues.ts';

export const ICY_METAINT = 16000;
const EMPTY_BLOCK = Buffer.alloc(1);
const BURST_BYTES = 64 * 1024;
/** About 32 s of audio at 128 kbps, Icecast's default queue-size: a listener further behind is gone. */
const MAX_BACKLOG_BYTES = 512 * 1024;
/** Audio a listener has not taken yet, in seconds of the stream, past which it is dropped. */
const MAX_LAG_SECONDS = 8;
/** How often the kernel's send queues are read (the drop comes at most this much after the bound). */
const LAG_CHECK_MS = 2000;
/**
 * Frames go out in batches of this many (about 190 ms of audio): one write, so one system call,
 * per listener per batch instead of one per 24 ms frame. A connect storm and thousands of
 * listeners are mostly system calls.
 */
const BATCH_FRAMES = 8;

/** Where a listener's bytes go: its socket itself once the headers are out (no HTTP layer). */
interface Out {
  write(chunk: Buffer): boolean;
  readonly writableLength: number;
}

interface Item {
  data: Buffer;
  /** The title of the audio in `data`; null for a relayed frame, whose title is the current one. */
  title: string | null;
}

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
  out: Out;
  metadata: boolean;
  untilMeta: number;
  sentTitle: string | null;
  /** The socket's inode, to find its kernel send queue (undefined: not looked up yet; null: none). */
  inode?: number | null;
}

export interface IcyOptions {
  /** The stream's byte rate, to turn queued bytes into seconds (128 kbps). */
  bytesPerSecond?: number;
  maxLagSeconds?: number;
  lagCheckMs?: number;
}

export class IcyBroadcaster {
  private listeners = new Set<Listener>();
  /** The latest frames the listeners have been sent, for a new listener to start with. */
  private burst: Item[] = [];
  private burstBytes = 0;
  /** The burst as one buffer, for listeners without metadata (null: to be rebuilt). */
  private burstJoined: Buffer | null = null;
  /** Frames not yet written to the listeners (fewer than BATCH_FRAMES). */
  private pending: Item[] = [];
  private title = '';
  /** Listeners dropped for falling behind (a bound on bytes, or on seconds of audio). */
  dropped = 0;
  private lagTimer: NodeJS.Timeout | null = null;
  private checking = false;

  private relays = new Set<Listener>();

  constructor(private readonly o: IcyOptions = {}) {}

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
    // The headers are out (flushHeaders): the stream's bytes go straight to the socket.
    const out: Out = res.socket ?? res;
    const l: Listener = { res, out, metadata, untilMeta: ICY_METAINT, sentTitle: null };
    this.listeners.add(l);
    this.watchLag();
    // Another replica's relay is not a listener: its own listeners are counted there.
    if (o.relay) this.relays.add(l);
    if (o.burst !== false && this.burst.length > 0) {
      if (!metadata) {
        this.burstJoined ??= Buffer.concat(this.burst.map((f) => f.data));
        out.write(this.burstJoined);
      } else this.write(l, this.burst);
    }
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
    this.pending.push({ data: f.data, title: f.meta ? f.meta.title : null });
    if (this.pending.length >= BATCH_FRAMES) this.flush();
  }

  /** Writes the pending frames to every listener. */
  private flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    let plain: Buffer | null = null;
    for (const l of this.listeners) {
      if (l.out.writableLength > MAX_BACKLOG_BYTES) {
        this.drop(l);
        continue;
      }
      if (l.metadata) this.write(l, batch);
      else {
        plain ??= batch.length === 1 ? (batch[0] as Item).data : Buffer.concat(batch.map((i) => i.data));
        l.out.write(plain);
      }
    }
    // The burst holds only what the listeners have been sent: one added before a flush gets the
    // pending frames with the others, at the flush.
    for (const item of batch) {
      this.burst.push(item);
      this.burstBytes += item.data.length;
    }
    this.burstJoined = null;
    while (this.burstBytes - (this.burst[0]?.data.length ?? 0) >= BURST_BYTES) {
      this.burstBytes -= this.burst.shift()?.data.length ?? 0;
    }
  }

  closeAll(): void {
    for (const l of this.listeners) l.res.end();
    this.listeners.clear();
    this.relays.clear();
    if (this.lagTimer) clearInterval(this.lagTimer);
    this.lagTimer = null;
  }

  /** Drops the listeners holding more than maxLagSeconds of audio they have not taken. */
  async checkLag(): Promise<void> {
    if (this.checking || this.listeners.size === 0) return;
    this.checking = true;
    try {
      const kernel = await kernelSendQueues();
      const bound = (this.o.maxLagSeconds ?? MAX_LAG_SECONDS) * (this.o.bytesPerSecond ?? 16000);
      for (const l of this.listeners) {
        if (l.inode === undefined) l.inode = socketInode(l.res.socket) ?? null;
        const queued = l.out.writableLength + (l.inode === null ? 0 : (kernel?.get(l.inode) ?? 0));
        if (queued > bound) this.drop(l);
      }
    } finally {
      this.checking = false;
    }
  }

  private watchLag(): void {
    if (this.lagTimer) return;
    this.lagTimer = setInterval(() => {
      if (this.listeners.size === 0) return;
      void this.checkLag().catch(() => undefined);
    }, this.o.lagCheckMs ?? LAG_CHECK_MS);
    this.lagTimer.unref();
  }

  private drop(l: Listener): void {
    if (!this.listeners.delete(l)) return;
    this.dropped++;
    this.relays.delete(l);
    l.res.destroy();
  }

  /** Writes frames to a listener that asked for metadata, a block every ICY_METAINT bytes: one write. */
  private write(l: Listener, items: readonly Item[]): void {
    const parts: Buffer[] = [];
    for (const { data: whole, title: own } of items) {
      // A relayed burst gets the title the leader plays now (retitle), not the one before it.
      const title = own ?? this.title;
      let data = whole;
      while (data.length > 0) {
        const n = Math.min(l.untilMeta, data.length);
        parts.push(data.subarray(0, n));
        data = data.subarray(n);
        l.untilMeta -= n;
        if (l.untilMeta === 0) {
          // An empty block (one zero byte) when the title has not changed, as Icecast does.
          const changed = title !== l.sentTitle;
          parts.push(changed ? icyMetadataBlock(title) : EMPTY_BLOCK);
          l.sentTitle = title;
          l.untilMeta = ICY_METAINT;
        }
      }
    }
    l.out.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
  }
}
