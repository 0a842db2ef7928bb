// The web pages in a real browser (Debian's headless Chromium) against the whole stack: the listen
// page plays, the embed plays inside someone else's page, a mood set in the console reaches the
// embed, keyboard and screen-reader basics, HTML in a prompt stays text, framing headers.
// SCREENSHOTS=1 also writes docs/screenshots/{listen,embed,console}.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { type Browser, chromium, type Frame, type Page } from 'playwright-core';
import { ROOT } from '../../scripts/supervisor/stack.ts';
import { cleanupStack } from '../helpers/cleanup.ts';
import { testStack, waitFor } from '../helpers/stack.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'screenshots') : null;

async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Someone else's site, on another port (another origin), that embeds the player. */
async function foreignSite(base: string): Promise<{ server: Server; url: string }> {
  const pages: Record<string, string> = {
    '/iframe': `<!doctype html><html><head><meta charset="utf-8"><title>A café blog</title>
<style>body{margin:0;padding:32px;font:16px/1.5 Georgia,serif;background:#f4ede4;color:#3a2e28}
h1{font-weight:400;margin:0 0 8px}.cols{display:flex;gap:32px;align-items:flex-start}p{max-width:28rem}</style></head>
<body><h1>The corner café</h1><p>Open from seven. Today's soundtrack, live from our own radio:</p>
<div class="cols"><iframe src="${base}/embed/lofi?size=card&amp;theme=dark" width="320" height="440" style="border:0;max-width:100%" allow="autoplay" title="Endless Lo-Fi Radio"></iframe>
<div><p>The compact bar, light theme:</p><iframe id="compact" src="${base}/embed/lofi?size=compact&amp;theme=light" width="420" height="88" style="border:0;max-width:100%" allow="autoplay" title="Endless Lo-Fi Radio (compact)"></iframe></div></div></body></html>`,
    '/script': `<!doctype html><html><head><meta charset="utf-8"><title>Script embed</title></head><body>
<script src="${base}/embed.js" data-station="lofi" data-size="compact" data-theme="transparent" async></script></body></html>`,
    '/console': `<!doctype html><html><head><meta charset="utf-8"><title>Framing the console</title></head><body>
<iframe id="console" src="${base}/stations/lofi/admin" width="600" height="400"></iframe></body></html>`,
  };
  const server = createServer((req, res) => {
    const body = pages[req.url ?? ''];
    res.writeHead(body ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The browser globals the snippets below use in the page (this tsconfig has no DOM types). */
type InPage = {
  document: {
    querySelector(s: string): { currentTime: number; src: string } | null;
    activeElement: { classList: { contains(c: string): boolean } } | null;
  };
  __pwned?: number;
};

const currentTime = (f: Page | Frame): Promise<number> =>
  f.evaluate(() => (globalThis as unknown as InPage).document.querySelector('audio')?.currentTime ?? 0);

/** Plays for `seconds` and returns how far the audio element's clock moved meanwhile. */
async function playedFor(f: Page | Frame, seconds: number): Promise<number> {
  await waitFor('audio to start', async () => (await currentTime(f)) > 0.2, 30_000, 200);
  const t0 = await currentTime(f);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return (await currentTime(f)) - t0;
}

async function embedFrame(page: Page, size: string): Promise<Frame> {
  return waitFor(
    `the ${size} embed frame`,
    async () => page.frames().find((fr) => fr.url().includes(`/embed/lofi?size=${size}`)) ?? null,
    15_000,
  );
}

test('web pages: listen, embed, console, accessibility, escaping, framing', {
  timeout: 420_000,
  skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)`,
}, async (t) => {
  const defer = cleanupStack(t);
  const stack = await testStack();
  defer(() => stack.stop());
  const base = stack.baseUrl;
  await waitFor('the station to play', async () => (await fetch(`${base}/healthz`)).status === 200, 90_000);
  const site = await foreignSite(base);
  defer(() => new Promise((r) => site.server.close(r)));
  const browser = await launch();
  defer(() => browser.close());
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });

  const errors: string[] = [];
  const newPage = async (width = 1280, height = 860): Promise<Page> => {
    const p = await browser.newPage({ viewport: { width, height } });
    p.on('pageerror', (e) => errors.push(e.message));
    return p;
  };
  const setMood = (prompt: string) =>
    fetch(`${base}/api/stations/lofi/mood`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt }),
    });

  await t.test('the listen page plays: the audio clock advances for 10 s', async () => {
    const page = await newPage();
    await page.goto(`${base}/stations/lofi`);
    await page.getByRole('button', { name: /^Play / }).click();
    const advanced = await playedFor(page, 10);
    assert.ok(advanced > 8.5, `audio advanced ${advanced.toFixed(2)} s in 10 s`);
    const src = await page.evaluate(
      () => (globalThis as unknown as InPage).document.querySelector('audio')?.src ?? '',
    );
    t.diagnostic(
      `listen page: ${advanced.toFixed(2)} s in 10 s via ${src.startsWith('blob:') ? 'hls.js' : src}`,
    );
    await waitFor('a title', async () => (await page.textContent('#now-title'))?.trim(), 10_000);
    if (SHOTS) {
      await new Promise((r) => setTimeout(r, 2500)); // the history's covers decode
      await page.screenshot({ path: path.join(SHOTS, 'listen.png') });
    }
    await page.close();
  });

  await t.test('without HLS the page falls back to the MP3 stream and plays', async () => {
    const page = await newPage();
    await page.route('**/hls/**', (route) => route.fulfill({ status: 404, body: 'no hls here' }));
    await page.goto(`${base}/stations/lofi`);
    await page.getByRole('button', { name: /^Play / }).click();
    const advanced = await playedFor(page, 5);
    assert.ok(advanced > 4, `MP3 audio advanced ${advanced.toFixed(2)} s in 5 s`);
    const src = await page.evaluate(
      () => (globalThis as unknown as InPage).document.querySelector('audio')?.src ?? '',
    );
    assert.match(src, /\/stations\/lofi\/stream\.mp3/);
    await page.close();
  });

  // The foreign page stays open: the console test below watches its embed.
  const foreign = await newPage(1100, 620);
  await t.test('the embed plays inside a page on another origin', async () => {
    await foreign.goto(`${site.url}/iframe`);
    const frame = await embedFrame(foreign, 'card');
    const play = frame.getByRole('button', { name: /^Play / });
    await play.waitFor();
    assert.match((await frame.textContent('#player-state')) ?? '', /Tap play/);
    await play.click();
    const advanced = await playedFor(frame, 6);
    assert.ok(advanced > 5, `embed audio advanced ${advanced.toFixed(2)} s in 6 s`);

    const scripted = await newPage();
    await scripted.goto(`${site.url}/script`);
    const iframe = scripted.locator('iframe');
    await iframe.waitFor();
    assert.match((await iframe.getAttribute('src')) ?? '', /\/embed\/lofi\?size=compact&theme=transparent$/);
    await scripted.close();
  });

  await t.test('a mood set in the console reaches the embed', async () => {
    const console = await newPage();
    await console.goto(`${base}/stations/lofi/admin`);
    await console.fill('#token', stack.adminToken);
    await console.click('#sign-in button[type=submit]');
    await console.waitForSelector('#mood-input');
    const mood = `rainy-day slow jazz with soft piano, take ${Date.now() % 10_000}`;
    await console.fill('#mood-input', mood);
    await console.click('#mood-form button[type=submit]');
    const asked = Date.now();
    await waitFor(
      'the console to confirm',
      async () => /Mood set/.test((await console.textContent('#mood-result')) ?? ''),
      10_000,
    );
    const frame = await embedFrame(foreign, 'card');
    await waitFor(
      'the new mood in the embed',
      async () => (await frame.textContent('#now-mood')) === mood,
      60_000,
    );
    const seconds = (Date.now() - asked) / 1000;
    t.diagnostic(`mood heard in the embed ${seconds.toFixed(1)} s after the console's request`);
    assert.ok(seconds < 45, `mood reached the embed after ${seconds} s`);
    // Still playing all along.
    assert.ok((await playedFor(frame, 2)) > 1.5);
    if (SHOTS) {
      await embedFrame(foreign, 'compact');
      await new Promise((r) => setTimeout(r, 1500)); // covers decode
      await foreign.screenshot({ path: path.join(SHOTS, 'embed.png') });
      await waitFor('stats', async () => (await console.textContent('#stat-speed'))?.includes('×'), 10_000);
      await console.screenshot({ path: path.join(SHOTS, 'console.png'), fullPage: true });
    }
    await console.close();
  });
  await foreign.close();

  await t.test('keyboard and screen reader basics', async () => {
    const page = await newPage();
    await page.goto(`${base}/stations/lofi`);
    const button = page.getByRole('button', { name: /^Play Endless Lo-Fi$/ });
    await button.waitFor();
    let focused = false;
    for (let i = 0; i < 12 && !focused; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(
        () => (globalThis as unknown as InPage).document.activeElement?.classList.contains('play') ?? false,
      );
    }
    assert.ok(focused, 'the play button is reachable with Tab');
    await page.keyboard.press('Space');
    await waitFor(
      'Space to start',
      async () => (await page.getAttribute('button.play', 'aria-pressed')) === 'true',
      5000,
    );
    await playedFor(page, 1);
    await page.keyboard.press('Enter');
    await waitFor(
      'Enter to stop',
      async () => (await page.getAttribute('button.play', 'aria-pressed')) === 'false',
      5000,
    );
    assert.equal(await page.getAttribute('button.play', 'aria-label'), 'Play Endless Lo-Fi');
    assert.equal(await page.getAttribute('#now-title', 'aria-live'), 'polite');
    assert.ok(await page.getByRole('slider', { name: 'Volume' }).isVisible());
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.close();
  });

  await t.test('a prompt containing HTML shows as text', async () => {
    const evil = 'rain <img src=x onerror="window.__pwned=1"> <b>bold</b> &amp; calm';
    assert.equal((await setMood(evil)).status, 200);
    const page = await newPage();
    await page.goto(`${base}/stations/lofi`);
    await waitFor(
      'the prompt on the page',
      async () => (await page.textContent('#now-mood')) === evil,
      60_000,
    );
    assert.equal(await page.locator('#now-mood img, #now-mood b').count(), 0);
    await page.goto(`${base}/stations/lofi/admin`); // signed in: sessionStorage is per tab
    await page.fill('#token', stack.adminToken);
    await page.click('#sign-in button[type=submit]');
    await waitFor(
      'the mood history',
      async () => (await page.textContent('.mood-history'))?.includes(evil),
      10_000,
    );
    assert.equal(await page.locator('main img:not([src^="/api/"])').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as unknown as InPage).__pwned), undefined);
    await page.close();
  });

  await t.test('framing: the embed may be framed anywhere, the console nowhere', async () => {
    const embed = await fetch(`${base}/embed/lofi`);
    assert.equal(embed.status, 200);
    assert.match(embed.headers.get('content-security-policy') ?? '', /frame-ancestors \*/);
    assert.equal(embed.headers.get('x-frame-options'), null);
    for (const p of ['/stations/lofi/admin', '/admin', '/', '/stations/lofi', '/docs/', '/api/stations']) {
      const r = await fetch(`${base}${p}`);
      assert.equal(r.headers.get('x-frame-options'), 'DENY', p);
      const csp = r.headers.get('content-security-policy');
      if (csp) assert.match(csp, /frame-ancestors 'none'/, p);
    }
    const page = await newPage();
    await page.goto(`${site.url}/console`);
    await new Promise((r) => setTimeout(r, 2000));
    const framed = page.frames().find((f) => f !== page.mainFrame());
    assert.ok(framed);
    assert.ok(!framed.url().startsWith(base), `the console loaded in a frame: ${framed.url()}`);
    await page.close();
  });

  await t.test('cover art: a redirect to an immutable, content-addressed SVG', async () => {
    const r = await fetch(`${base}/api/stations/lofi/cover.svg`, { redirect: 'manual' });
    assert.equal(r.status, 302);
    const location = r.headers.get('location') ?? '';
    assert.match(location, /^\/covers\/[0-9a-f]{20}\.svg\?title=/);
    const img = await fetch(`${base}${location}`);
    assert.equal(img.status, 200);
    assert.equal(img.headers.get('content-type'), 'image/svg+xml');
    assert.match(img.headers.get('cache-control') ?? '', /immutable/);
    const svg = await img.text();
    assert.ok(svg.startsWith('<svg') && !svg.includes('<script') && !svg.includes('onerror'));
    assert.equal((await fetch(`${base}${location}`)).status, 200);
    const forged = location.replace(/title=[^&]*/, 'title=other');
    assert.equal((await fetch(`${base}${forged}`)).status, 400);
  });

  assert.deepEqual(errors, [], 'no script errors in any page');
});
