// In-process FLAC decoding: a small pool of long-lived worker threads per process runs libFLAC
// (WebAssembly), so decoding a segment costs a few tens of milliseconds of a thread's time instead
// of an ffmpeg start (about 0.1 s of CPU each), and never blocks the caller's event loop. A request
// goes to a thread at once (the one with the least work); each thread takes the most urgent of its
// requests first, so the segment a station needs next goes before the ones it may need later, and
// a busy parent event loop never leaves a thread idle.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface DecodedAudio {
  /** Interleaved Float32 PCM. */
  pcm: Float32Array;
  sampleRate: number;
  channels: number;
}

/** True when the bytes start with the FLAC stream marker. */
export function isFlac(bytes: Uint8Array): boolean {
  return bytes[0] === 0x66 && bytes[1] === 0x4c && bytes[2] === 0x61 && bytes[3] === 0x43; // "fLaC"
}

type DecodeReply =
  | { id: number; pcm: Float32Array; sampleRate: number; channels: number; startedAt: number; doneAt: number }
  | { id: number; error: string };

interface Job {
  resolve: (d: DecodedAudio) => void;
  reject: (e: Error) => void;
  postedAt: number;
}

/** Where a decode's time went: waiting in its thread's queue, decoding, and the reply waiting
 * for the caller's event loop. */
export interface DecodeTimings {
  queuedMs: number;
  decodeMs: number;
  deliverMs: number;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
  /** Ends a thread that answers nothing for too long while it has work (a hang, not a queue). */
  watchdog: NodeJS.Timeout | null;
}

/** Far above a decode's real cost (tens of ms for a minute of audio), even on a loaded machine. */
const HUNG_AFTER_MS = 30_000;

export class FlacDecodeThread {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  /** Decodes done since the pool started, for tests and metrics. */
  decodes = 0;
  restarts = 0;
  /** The slowest decode of the last few seconds, for the log line of a late one. */
  private slowest: { at: number; t: DecodeTimings } | null = null;

  constructor(private readonly threads = Math.min(2, availableParallelism())) {}

  /**
   * Decodes a whole FLAC file. Lower `priority` goes first (callers pass the wall time, in ms, the
   * audio is needed by: earliest deadline first); equal ones in order.
   * The bytes are copied to the thread (the caller keeps its buffer).
   */
  decode(bytes: Uint8Array, priority = 0): Promise<DecodedAudio> {
    let slot = this.slots.reduce<Slot | null>((a, s) => (a && a.jobs.size <= s.jobs.size ? a : s), null);
    if (!slot || (slot.jobs.size > 0 && this.slots.length < this.threads)) slot = this.spawn();
    const s = slot;
    const id = this.nextId++;
    return new Promise<DecodedAudio>((resolve, reject) => {
      s.jobs.set(id, { resolve, reject, postedAt: Date.now() });
      // Held while it owes an answer, so a caller that awaits nothing else still gets it.
      s.worker.ref();
      this.arm(s);
      s.worker.postMessage({ id, bytes, priority });
    });
  }

  /** The slowest decode finished in the last 5 s, if any. */
  recentSlowest(): DecodeTimings | null {
    return this.slowest && Date.now() - this.slowest.at <= 5000 ? this.slowest.t : null;
  }

  /** Stops the threads; what is in flight fails. */
  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    for (const s of slots) this.fail(s, new Error('FLAC decoder closed'));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private arm(s: Slot): void {
    if (s.watchdog) clearTimeout(s.watchdog);
    s.watchdog = null;
    if (s.jobs.size === 0) return;
    s.watchdog = setTimeout(() => void s.worker.terminate(), HUNG_AFTER_MS);
    s.watchdog.unref();
  }

  private fail(s: Slot, err: Error): void {
    if (s.watchdog) clearTimeout(s.watchdog);
    for (const j of s.jobs.values()) j.reject(err);
    s.jobs.clear();
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./flac-worker.mjs', import.meta.url));
    // An idle decoder never keeps a process alive.
    worker.unref();
    const slot: Slot = { worker, jobs: new Map(), watchdog: null };
    worker.on('message', (m: DecodeReply) => {
      const job = slot.jobs.get(m.id);
      if (!job) return;
      slot.jobs.delete(m.id);
      this.arm(slot);
      if (slot.jobs.size === 0) worker.unref();
      if ('error' in m) job.reject(new Error(m.error));
      else {
        this.decodes++;
        const now = Date.now();
        const t = {
          queuedMs: m.startedAt - job.postedAt,
          decodeMs: m.doneAt - m.startedAt,
          deliverMs: now - m.doneAt,
        };
        const total = t.queuedMs + t.decodeMs + t.deliverMs;
        const prev = this.slowest;
        if (!prev || now - prev.at > 5000 || total >= prev.t.queuedMs + prev.t.decodeMs + prev.t.deliverMs)
          this.slowest = { at: now, t };
        job.resolve({ pcm: m.pcm, sampleRate: m.sampleRate, channels: m.channels });
      }
    });
    // A thread that dies (out of memory, a crash in the wasm, the watchdog) fails what it had;
    // the next request starts a new one.
    const gone = (err: Error) => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      this.slots.splice(i, 1);
      this.restarts++;
      this.fail(slot, err);
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`FLAC decoder thread exited (${code})`)));
    this.slots.push(slot);
    return slot;
  }
}

let shared: FlacDecodeThread | null = null;

/** The process's decoder pool (its threads start on first use). */
export function flacDecoder(): FlacDecodeThread {
  shared ??= new FlacDecodeThread();
  return shared;
}
