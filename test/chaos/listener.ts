// A listener that never gives up: it reads the MP3 stream over plain HTTP, reconnects when the
// server drops it, and decodes what arrives with ffmpeg. It measures what a person would notice,
// in windows around each fault: seconds of silence in the audio, seconds the player would have
// stalled (a virtual player that starts with the connect burst and plays at real time), and how
// often the connection was lost, and the longest wall time without a byte from the server. Given several URLs (replicas), it tries the next on each reconnect,
// as a player does with the entries of a .pls or .m3u file.
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';

const RATE = 16000;
const SILENCE_DBFS = -60;
const WINDOW = RATE / 20; // 50 ms
/** Runs of silence shorter than this are rests in the music, not dead air. */
const SILENCE_MIN_SECONDS = 0.25;
/** Pauses between received bytes shorter than this are the streamer's batching (about 0.2 s). */
const GAP_MIN_MS = 250;

export interface ListenSnapshot {
  atMs: number;
  audioSeconds: number;
  silenceSeconds: number;
  longestSilenceSeconds: number;
  stallSeconds: number;
  reconnects: number;
  /** The longest wall time without a byte from the server (0 when none reached GAP_MIN_MS). */
  longestGapSeconds: number;
  /** Audio the virtual player had decoded but not played yet at its latest arrival. */
  bufferSeconds: number;
}

export class ChaosListener {
  private decoder: ChildProcess;
  private req: http.ClientRequest | null = null;
  private stopped = false;
  private samples = 0;
  private silenceRun = 0;
  private silenceTotal = 0;
  private longestSilence = 0;
  private window: number[] = [];
  // Virtual player: seconds played and seconds stalled since the first audio.
  private played = 0;
  private stall = 0;
  private lastArrival = 0;
  reconnects = 0;
  private connected = false;
  private lastBytesMs = 0;
  /** Pauses of GAP_MIN_MS or more between received bytes, when each ended. */
  private gaps: { atMs: number; seconds: number }[] = [];

  private readonly urls: string[];
  private next = 0;

  constructor(url: string | string[]) {
    this.urls = Array.isArray(url) ? url : [url];
    this.decoder = spawn(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'mp3',
        '-i',
        'pipe:0',
        '-f',
        's16le',
        '-ac',
        '1',
        '-ar',
        String(RATE),
        'pipe:1',
      ],
      { stdio: ['pipe', 'pipe', 'ignore'] },
    );
    this.decoder.stdin?.on('error', () => undefined);
    this.decoder.stdout?.on('data', (d: Buffer) => this.onPcm(d));
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const url = this.urls[this.next % this.urls.length] as string;
    const req = http.get(url, { agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        this.next++;
        return;
      }
      this.connected = true;
      res.on('data', (d: Buffer) => {
        this.onBytes();
        this.decoder.stdin?.write(d);
      });
    });
    this.req = req;
    const lost = () => {
      if (this.req !== req || this.stopped) return;
      this.req = null;
      if (this.connected) this.reconnects++;
      this.next++; // a player moves on to its playlist's next entry
      this.connected = false;
      setTimeout(() => this.connect(), 250);
    };
    req.on('error', lost);
    req.on('close', lost);
  }

  /** Across reconnects too: a listener waiting for a new connection gets no bytes either. */
  private onBytes(): void {
    const now = Date.now();
    if (this.lastBytesMs && now - this.lastBytesMs >= GAP_MIN_MS)
      this.gaps.push({ atMs: now, seconds: (now - this.lastBytesMs) / 1000 });
    this.lastBytesMs = now;
  }

  private longestGap(sinceMs: number): number {
    let longest = 0;
    for (const g of this.gaps) if (g.atMs > sinceMs) longest = Math.max(longest, g.seconds);
    return longest;
  }

  private onPcm(d: Buffer): void {
    const now = Date.now();
    const n = Math.floor(d.length / 2);
    // Virtual player: what was buffered plays at real time; what was missing is a stall.
    if (this.lastArrival) {
      const elapsed = (now - this.lastArrival) / 1000;
      const buffered = this.samples / RATE - this.played;
      if (buffered >= elapsed) this.played += elapsed;
      else {
        this.stall += elapsed - buffered;
        this.played += buffered;
      }
    }
    this.lastArrival = now;
    for (let i = 0; i < n; i++) {
      const v = d.readInt16LE(i * 2) / 32768;
      this.window.push(v * v);
      if (this.window.length === WINDOW) this.closeWindow();
    }
    this.samples += n;
  }

  private closeWindow(): void {
    const rms = Math.sqrt(this.window.reduce((a, b) => a + b, 0) / this.window.length);
    this.window = [];
    if (20 * Math.log10(rms + 1e-12) < SILENCE_DBFS) {
      this.silenceRun += WINDOW;
      if (this.silenceRun === Math.round(SILENCE_MIN_SECONDS * RATE))
        this.silenceTotal += this.silenceRun / RATE;
      else if (this.silenceRun > SILENCE_MIN_SECONDS * RATE) this.silenceTotal += WINDOW / RATE;
      this.longestSilence = Math.max(this.longestSilence, this.silenceRun / RATE);
    } else this.silenceRun = 0;
  }

  snapshot(): ListenSnapshot {
    return {
      atMs: Date.now(),
      audioSeconds: this.samples / RATE,
      silenceSeconds: this.silenceTotal,
      longestSilenceSeconds: this.longestSilence,
      stallSeconds: this.stall,
      reconnects: this.reconnects,
      longestGapSeconds: this.longestGap(0),
      bufferSeconds: Math.round((this.samples / RATE - this.played) * 100) / 100,
    };
  }

  /** What changed since `from`: the measures of one fault's window. */
  since(from: ListenSnapshot): ListenSnapshot {
    const now = this.snapshot();
    return {
      atMs: now.atMs - from.atMs,
      audioSeconds: now.audioSeconds - from.audioSeconds,
      silenceSeconds: now.silenceSeconds - from.silenceSeconds,
      longestSilenceSeconds: now.longestSilenceSeconds,
      stallSeconds: now.stallSeconds - from.stallSeconds,
      reconnects: now.reconnects - from.reconnects,
      longestGapSeconds: this.longestGap(from.atMs),
      bufferSeconds: now.bufferSeconds,
    };
  }

  stop(): void {
    this.stopped = true;
    this.req?.destroy();
    this.decoder.kill('SIGKILL');
  }
}
