// Start-up: `npm start` (scripts/start.mjs, dependencies already installed) to the first byte of
// audio at a listener, in a fresh DATA_DIR; then Ctrl-C. Prints one JSON line.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../scripts/supervisor/redis.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const RUNS = Number(process.argv[2] ?? 3);

function firstAudio(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return resolve(false);
      }
      res.once('data', () => {
        req.destroy();
        resolve(true);
      });
    });
    req.on('error', () => resolve(false));
    req.setTimeout(2000, () => req.destroy());
  });
}

async function once(): Promise<{ seconds: number; httpSeconds: number }> {
  const port = await freePort();
  const started = Date.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/start.mjs')], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'lofi-startup-')),
      ADMIN_TOKEN: 'startup-bench-token-0123456789',
      LOG_LEVEL: 'warn',
      LOFI_NO_APT: '1',
    },
    stdio: 'ignore',
  });
  let httpSeconds = Number.NaN;
  try {
    const url = `http://127.0.0.1:${port}/stations/lofi/stream.mp3`;
    for (;;) {
      if (Date.now() - started > 120_000) throw new Error('no audio within 120 s');
      if (Number.isNaN(httpSeconds)) {
        const up = await new Promise<boolean>((r) =>
          http
            .get(`http://127.0.0.1:${port}/api/stations`, { agent: false }, (res) => r(res.resume() && true))
            .on('error', () => r(false)),
        );
        if (up) httpSeconds = (Date.now() - started) / 1000;
      }
      if (await firstAudio(url)) return { seconds: (Date.now() - started) / 1000, httpSeconds };
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
  }
}

const runs: Array<{ seconds: number; httpSeconds: number }> = [];
for (let i = 0; i < RUNS; i++) runs.push(await once());
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
process.stdout.write(
  `${JSON.stringify({
    runs: runs.length,
    firstAudioSeconds: median(runs.map((r) => r.seconds)),
    httpSeconds: median(runs.map((r) => r.httpSeconds)),
    all: runs,
  })}\n`,
);
