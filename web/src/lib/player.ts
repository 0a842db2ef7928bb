// The radio player. HLS through hls.js where Media Source Extensions exist, the browser's own HLS
// on Apple devices, and the MP3 stream everywhere else or whenever HLS fails. The choice is made
// before the first tap (the playlist is probed at load) so play() runs inside the user's gesture
// and works the first time. A watchdog restarts a stream that stops moving: no silent player.
import type HlsType from 'hls.js/light';

export type Engine = 'hls.js' | 'native-hls' | 'mp3';
type HlsCtor = typeof HlsType;

const VOLUME_KEY = 'lofi.volume';
const STALL_MS = 12_000;

const hasMse = (): boolean =>
  typeof window.MediaSource !== 'undefined' ||
  typeof (window as unknown as { ManagedMediaSource?: unknown }).ManagedMediaSource !== 'undefined';

const isApple = (): boolean => /Apple/.test(navigator.vendor) || /iPad|iPhone|iPod/.test(navigator.userAgent);

export type PlayerState = 'stopped' | 'loading' | 'playing' | 'blocked' | 'error';

export class RadioPlayer {
  readonly audio: HTMLAudioElement;
  engine: Engine = 'mp3';
  state: PlayerState = 'stopped';
  private hls: InstanceType<HlsCtor> | null = null;
  private Hls: HlsCtor | null = null;
  private hlsFailed = false;
  private wanted = false;
  private lastTime = 0;
  private lastMove = 0;
  private readonly listeners = new Set<(s: PlayerState) => void>();
  private readonly ready: Promise<void>;

  constructor(
    private readonly stationId: string,
    audio?: HTMLAudioElement,
  ) {
    this.audio = audio ?? new Audio();
    this.audio.preload = 'none';
    const saved = Number(localStorage.getItem(VOLUME_KEY));
    this.audio.volume = Number.isFinite(saved) && saved > 0 && saved <= 1 ? saved : 0.8;
    this.audio.addEventListener('playing', () => this.set('playing'));
    this.audio.addEventListener('waiting', () => this.wanted && this.set('loading'));
    this.audio.addEventListener('error', () => this.onMediaError());
    this.audio.addEventListener('ended', () => this.onMediaError());
    setInterval(() => this.watchdog(), 2000);
    this.ready = this.choose();
  }

  get base(): string {
    return `/stations/${encodeURIComponent(this.stationId)}`;
  }

  on(fn: (s: PlayerState) => void): void {
    this.listeners.add(fn);
  }

  get volume(): number {
    return this.audio.volume;
  }

  set volume(v: number) {
    this.audio.volume = Math.min(1, Math.max(0, v));
    localStorage.setItem(VOLUME_KEY, String(this.audio.volume));
  }

  get playing(): boolean {
    return this.wanted;
  }

  /** Starts playing. Call it from the click handler itself: browsers allow sound only after a gesture. */
  async play(): Promise<void> {
    this.wanted = true;
    this.lastMove = Date.now();
    this.set('loading');
    this.attach();
    try {
      await this.audio.play();
    } catch (err) {
      if (err instanceof DOMException && err.name === 'NotAllowedError') {
        // Autoplay rules: nothing plays until the listener taps.
        this.wanted = false;
        this.detach();
        this.set('blocked');
        return;
      }
      if (err instanceof DOMException && err.name === 'AbortError') return; // stopped meanwhile
      this.onMediaError();
    }
  }

  /** A live stream does not pause: it stops, and starts again at the live edge. */
  stop(): void {
    this.wanted = false;
    this.audio.pause();
    this.detach();
    this.set('stopped');
  }

  toggle(): Promise<void> {
    if (this.wanted) {
      this.stop();
      return Promise.resolve();
    }
    return this.play();
  }

  /** Stream-clock time (ms) of what the listener hears now, or null when nothing plays. */
  heardAt(): number | null {
    if (!this.wanted || this.state !== 'playing') return null;
    if (this.engine === 'hls.js') {
      const d = this.hls?.playingDate;
      if (d && Number.isFinite(d.getTime())) return d.getTime();
    }
    if (this.engine === 'native-hls') {
      const start = (this.audio as HTMLAudioElement & { getStartDate?: () => Date }).getStartDate?.();
      if (start && Number.isFinite(start.getTime())) return start.getTime() + this.audio.currentTime * 1000;
    }
    // MP3: the newest byte received is about the live edge; what is heard lags it by the buffer.
    const b = this.audio.buffered;
    const ahead = b.length > 0 ? Math.max(0, b.end(b.length - 1) - this.audio.currentTime) : 4;
    return Date.now() - ahead * 1000;
  }

  private set(s: PlayerState): void {
    if (this.state === s) return;
    this.state = s;
    for (const fn of this.listeners) fn(s);
  }

  /** Picks the engine: HLS when its playlist answers, else MP3; loads hls.js ahead of the tap. */
  private async choose(): Promise<void> {
    const hlsUrl = `${this.base}/hls/live.m3u8`;
    const nativeHls = this.audio.canPlayType('application/vnd.apple.mpegurl') !== '';
    try {
      const res = await fetch(hlsUrl, { cache: 'no-store' });
      if (!res.ok) return;
    } catch {
      return;
    }
    if (nativeHls && (isApple() || !hasMse())) {
      this.engine = 'native-hls';
      return;
    }
    if (!hasMse()) return;
    try {
      const mod = await import('hls.js/light');
      if (mod.default.isSupported()) {
        this.Hls = mod.default;
        this.engine = 'hls.js';
      }
    } catch {
      // Stay on MP3.
    }
  }

  private attach(): void {
    this.detach();
    const engine = this.hlsFailed ? 'mp3' : this.engine;
    if (engine === 'hls.js' && this.Hls) {
      const hls = new this.Hls({ lowLatencyMode: false, liveSyncDurationCount: 3, enableWorker: true });
      hls.on(this.Hls.Events.ERROR, (_e, data) => {
        if (data.fatal) this.fallBackToMp3();
      });
      hls.loadSource(`${this.base}/hls/live.m3u8`);
      hls.attachMedia(this.audio);
      this.hls = hls;
    } else if (engine === 'native-hls') {
      this.audio.src = `${this.base}/hls/live.m3u8`;
    } else {
      // A fresh URL each time: no cached or half-closed connection, straight to the live edge.
      this.audio.src = `${this.base}/stream.mp3?t=${Date.now().toString(36)}`;
    }
  }

  private detach(): void {
    this.hls?.destroy();
    this.hls = null;
    if (this.audio.getAttribute('src')) {
      this.audio.removeAttribute('src');
      this.audio.load();
    }
  }

  private fallBackToMp3(): void {
    if (this.hlsFailed) return;
    this.hlsFailed = true;
    this.engine = 'mp3';
    if (this.wanted) void this.play();
  }

  private onMediaError(): void {
    if (!this.wanted) return;
    if (this.engine !== 'mp3') {
      this.fallBackToMp3();
      return;
    }
    // The MP3 connection dropped: reconnect shortly (the watchdog keeps trying after that).
    this.set('loading');
    setTimeout(() => {
      if (this.wanted) void this.play();
    }, 1500);
  }

  private watchdog(): void {
    if (!this.wanted) return;
    const t = this.audio.currentTime;
    if (t !== this.lastTime) {
      this.lastTime = t;
      this.lastMove = Date.now();
      return;
    }
    if (Date.now() - this.lastMove > STALL_MS) {
      this.lastMove = Date.now();
      if (this.engine !== 'mp3' && !this.hlsFailed) this.fallBackToMp3();
      else void this.play();
    }
  }

  /** Waits for the engine choice (tests and the console's preview use it). */
  whenReady(): Promise<void> {
    return this.ready;
  }
}
