// The web pages' scripts and styles, bundled with esbuild when the streamer starts (a few hundred
// milliseconds; nothing to rebuild by hand, never a stale bundle). Hashed file names, so assets are
// cached for ever; embed.js keeps its name because other people's pages link to it.
import path from 'node:path';
import { buildSync, type Metafile } from 'esbuild';

export const WEB_ROOT = path.resolve(import.meta.dirname, '../../../../web');
const OUT = path.join(WEB_ROOT, 'dist'); // a name for esbuild's paths; nothing is written

export type PageName = 'listen' | 'embed' | 'console';
export const PAGES: readonly PageName[] = ['listen', 'embed', 'console'];

export interface Asset {
  body: Buffer;
  type: string;
}

export interface WebBundle {
  /** By URL path: /assets/… and /embed.js. */
  assets: Map<string, Asset>;
  pages: Record<PageName, { js: string; css: string }>;
  buildMs: number;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

const TARGET = ['es2020', 'chrome91', 'firefox90', 'safari15'];

export function buildWeb(): WebBundle {
  const started = performance.now();
  const entryPoints = PAGES.flatMap((p) => [
    { in: path.join(WEB_ROOT, 'src', `${p}.ts`), out: p },
    { in: path.join(WEB_ROOT, 'styles', `${p}.css`), out: p },
  ]);
  const main = buildSync({
    entryPoints,
    bundle: true,
    splitting: true,
    format: 'esm',
    minify: true,
    target: TARGET,
    outdir: OUT,
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    write: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const loader = buildSync({
    entryPoints: [path.join(WEB_ROOT, 'src', 'embed-loader.ts')],
    bundle: true,
    format: 'iife',
    minify: true,
    target: TARGET,
    write: false,
    logLevel: 'silent',
  });
  const assets = new Map<string, Asset>();
  for (const f of main.outputFiles) {
    const name = path.relative(OUT, f.path);
    assets.set(`/assets/${name}`, {
      body: Buffer.from(f.contents),
      type: TYPES[path.extname(name)] ?? 'application/octet-stream',
    });
  }
  const loaderFile = loader.outputFiles[0];
  if (!loaderFile) throw new Error('esbuild produced no embed.js');
  assets.set('/embed.js', { body: Buffer.from(loaderFile.contents), type: TYPES['.js'] as string });
  return { assets, pages: pagesOf(main.metafile), buildMs: Math.round(performance.now() - started) };
}

function pagesOf(meta: Metafile): WebBundle['pages'] {
  const found: Partial<Record<PageName, { js?: string; css?: string }>> = {};
  for (const [file, out] of Object.entries(meta.outputs)) {
    if (!out.entryPoint) continue;
    const page = path.basename(out.entryPoint).replace(/\.(ts|css)$/, '') as PageName;
    const url = `/assets/${path.relative(OUT, path.resolve(file))}`;
    const slot = found[page] ?? {};
    if (file.endsWith('.js')) slot.js = url;
    else if (file.endsWith('.css')) slot.css = url;
    found[page] = slot;
  }
  const pages = {} as WebBundle['pages'];
  for (const p of PAGES) {
    const slot = found[p];
    if (!slot?.js || !slot.css) throw new Error(`the web bundle lacks the ${p} page`);
    pages[p] = { js: slot.js, css: slot.css };
  }
  return pages;
}
