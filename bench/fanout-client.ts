// The fan-out benchmark's load generator, a process of its own so it never shares an event loop with
// a server under test. On each message it opens `n` plain MP3 listeners (raw sockets, HTTP/1.0 GET)
// over `rampMs`, holds them `holdMs`, and reports per listener whether its audio kept up with the
// wall clock, and its time to first audio.
import net from 'node:net';

export interface StepRequest {
  url: string;
  n: number;
  rampMs: number;
  holdMs: number;
}

export interface StepResult {
  n: number;
  /** Listeners whose audio after the burst stayed within 1 s of the wall clock. */
  held: number;
  /** Listeners that got an HTTP 200 and at least one byte of audio. */
  started: number;
  /** Time to first audio per started listener, ms. */
  ttfaMs: number[];
  /** Load generator CPU over the step, in cores (to tell a saturated client from a saturated server). */
  clientCores: number;
  /** When the last listener was opened and when the step ended (epoch ms), for the server's CPU. */
  rampedAt: number;
  endedAt: number;
}

/** 128 kbps. */
const BYTES_PER_SECOND = 16000;
/** What arrives in this long after the first byte is the connect burst. */
const BURST_WINDOW_MS = 500;
const LAG_ALLOWED_S = 1;

interface Listener {
  socket: net.Socket;
  openedAt: number;
  firstAt: number;
  bytes: number;
  burstBytes: number;
  head: Buffer | null;
  ok: boolean;
}

function open(url: URL, listeners: Listener[]): void {
  const l: Listener = {
    socket: net.connect(Number(url.port), url.hostname),
    openedAt: Date.now(),
    firstAt: 0,
    bytes: 0,
    burstBytes: 0,
    head: Buffer.alloc(0),
    ok: false,
  };
  listeners.push(l);
  l.socket.on('connect', () =>
    l.socket.write(`GET ${url.pathname} HTTP/1.0\r\nHost: ${url.host}\r\nUser-Agent: lofi-fanout\r\n\r\n`),
  );
  l.socket.on('data', (chunk: Buffer) => {
    let audio = chunk;
    if (l.head) {
      const head = Buffer.concat([l.head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        l.head = head;
        return;
      }
      l.ok = /^HTTP\/1\.[01] 200/.test(head.subarray(0, 16).toString('latin1'));
      l.head = null;
      audio = head.subarray(end + 4);
      if (!l.ok) {
        l.socket.destroy();
        return;
      }
    }
    if (audio.length === 0) return;
    const now = Date.now();
    if (!l.firstAt) l.firstAt = now;
    l.bytes += audio.length;
    if (now - l.firstAt <= BURST_WINDOW_MS) l.burstBytes = l.bytes;
  });
  l.socket.on('error', () => {});
}

async function step(req: StepRequest): Promise<StepResult> {
  const url = new URL(req.url);
  const listeners: Listener[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const batches = Math.max(1, Math.round(req.rampMs / 10));
  for (let b = 0; b < batches; b++) {
    const upto = Math.round(((b + 1) * req.n) / batches);
    while (listeners.length < upto) open(url, listeners);
    await new Promise((r) => setTimeout(r, 10));
  }
  const rampedAt = Date.now();
  await new Promise((r) => setTimeout(r, req.holdMs));
  const endedAt = Date.now();
  const cpu = process.cpuUsage(cpu0);
  let held = 0;
  const ttfaMs: number[] = [];
  for (const l of listeners) {
    l.socket.destroy();
    if (!l.ok || !l.firstAt) continue;
    ttfaMs.push(l.firstAt - l.openedAt);
    const wall = (endedAt - l.firstAt - BURST_WINDOW_MS) / 1000;
    const audio = (l.bytes - l.burstBytes) / BYTES_PER_SECOND;
    if (audio >= wall - LAG_ALLOWED_S) held++;
  }
  return {
    n: req.n,
    held,
    started: ttfaMs.length,
    ttfaMs,
    clientCores: (cpu.user + cpu.system) / 1e6 / ((endedAt - t0) / 1000),
    rampedAt,
    endedAt,
  };
}

process.on('message', (req: StepRequest | 'exit') => {
  if (req === 'exit') process.exit(0);
  step(req).then(
    (r) => process.send?.(r),
    (err: unknown) => {
      process.stderr.write(`fanout client: ${String(err)}\n`);
      process.exit(1);
    },
  );
});
