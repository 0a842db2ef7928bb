// The decode thread behind flac.ts: libFLAC (compiled to WebAssembly) decoding whole files to
// interleaved Float32 PCM. A thread of its own so a decode never blocks the streamer's event loop
// (the playout clock and the listeners' writes live there). Plain JavaScript: a worker thread does
// not get the TypeScript loader its parent was started with.
import { parentPort } from 'node:worker_threads';
import { FLACDecoder } from '@wasm-audio-decoders/flac';

const port = parentPort;
if (!port) throw new Error('flac-worker.mjs runs as a worker thread');

const decoder = new FLACDecoder();

/** @param {Uint8Array} bytes */
async function decode(bytes) {
  await decoder.ready;
  try {
    const r = await decoder.decodeFile(bytes);
    if (r.errors.length > 0) {
      throw new Error(`${r.errors.length} corrupt FLAC frame(s), first: ${r.errors[0]?.message ?? '?'}`);
    }
    const channels = r.channelData.length;
    const n = r.samplesDecoded;
    if (channels === 0 || n === 0) throw new Error('no audio in the FLAC stream');
    const pcm = new Float32Array(n * channels);
    for (let c = 0; c < channels; c++) {
      const src = r.channelData[c];
      for (let i = 0, o = c; i < n; i++, o += channels) pcm[o] = src[i];
    }
    return { pcm, sampleRate: r.sampleRate, channels };
  } finally {
    // decodeFile keeps the stream's state: the next file starts clean.
    await decoder.reset();
  }
}

// One request at a time (the decoder is one libFLAC instance), the most urgent first: requests
// come in as soon as they are made, so the order is kept here, not by a busy parent thread.
/** @type {{ id: number, bytes: Uint8Array, priority: number }[]} */
const queue = [];
let running = false;

async function drain() {
  running = true;
  while (queue.length > 0) {
    const req = queue.shift();
    const startedAt = Date.now();
    try {
      const r = await decode(req.bytes);
      port.postMessage({ id: req.id, ...r, startedAt, doneAt: Date.now() }, [r.pcm.buffer]);
    } catch (err) {
      port.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) });
    }
  }
  running = false;
}

port.on('message', (/** @type {{ id: number, bytes: Uint8Array, priority: number }} */ req) => {
  let i = queue.length;
  while (i > 0 && queue[i - 1].priority > req.priority) i--;
  queue.splice(i, 0, req);
  if (!running) void drain();
});
