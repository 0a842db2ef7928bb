// hls.js in Debian's headless Chromium plays the station's HLS from another origin (so CORS is
// exercised): the audio clock advances, and hls.js reports the PROGRAM-DATE-TIME being played,
// which the documented mapping turns into the title on air.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { waitFor } from '../../../test/helpers/stack.ts';
import { type ToneApp, toneApp } from './tone-app.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HLS_JS = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');

let tones: ToneApp;
let site: Server;
let siteUrl: string;

before(async () => {
  tones = await toneApp({ hlsTargetSeconds: 2 });
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>HLS</title></head><body>
<audio id="a"></audio><script src="/hls.min.js"></script><script>
const a = document.getElementById('a');
window.fatal = [];
const hls = new Hls();
window.hls = hls;
hls.on(Hls.Events.ERROR, (_e, d) => { if (d.fatal) window.fatal.push(d.details); });
hls.on(Hls.Events.MANIFEST_PARSED, () => a.play());
hls.loadSource(${JSON.stringify(`${tones.base}/stations/lofi/hls/live.m3u8`)});
hls.attachMedia(a);
</script></body></html>`;
  site = createServer((req, res) => {
    if (req.url === '/hls.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(readFileSync(HLS_JS));
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
});

after(async () => {
  await new Promise((r) => site?.close(r));
  await tones?.close();
});

/** The browser globals the page evaluations use (this tsconfig has no DOM types). */
type InPage = {
  document: { getElementById(id: string): { currentTime: number; src: string; paused: boolean } };
  fatal: string[];
  hls: { playingDate: Date | null };
};

test('hls.js in Chromium plays the live HLS from another origin', {
  timeout: 120_000,
  skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)`,
}, async (t) => {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.goto(siteUrl);
  const state = () =>
    page.evaluate(() => {
      const g = globalThis as unknown as InPage;
      const a = g.document.getElementById('a');
      return { time: a.currentTime, src: a.src, fatal: g.fatal, date: g.hls.playingDate?.getTime() ?? null };
    });
  // The live window needs three segments before hls.js starts.
  await waitFor('playback to start', async () => (await state()).time > 0.2, 60_000, 250);
  const s0 = await state();
  await new Promise((r) => setTimeout(r, 8000));
  const s1 = await state();
  assert.deepEqual(s1.fatal, []);
  assert.match(s1.src, /^blob:/, 'played through hls.js (MSE), not a native fallback');
  assert.ok(s1.time - s0.time > 7, `audio clock advanced ${(s1.time - s0.time).toFixed(2)} s in 8 s`);
  // hls.js maps its position to PROGRAM-DATE-TIME: a few segments behind the live edge.
  assert.ok(s1.date !== null);
  const behind = (Date.now() - (s1.date as number)) / 1000;
  assert.ok(behind > 0 && behind < 15, `playing ${behind.toFixed(1)} s behind now`);
  // ... and that date names the title on air there (the documented mapping).
  const { history } = (await (await fetch(`${tones.base}/api/stations/lofi/history`)).json()) as {
    history: Array<{ title: string; startedAt: string }>;
  };
  const onAir = history.find((h) => Date.parse(h.startedAt) <= (s1.date as number));
  assert.match(onAir?.title ?? '', /^Tone \d+ at \d+ Hz$/);
});
