// `npm run build:web [-- --out DIR]`: bundles the pages as the streamer does at start-up, prints
// the files and the time taken, and with --out writes them (for a static host or a look inside).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildWeb } from './bundle.ts';

const web = buildWeb();
const outAt = process.argv.indexOf('--out');
const out = outAt > 0 ? process.argv[outAt + 1] : undefined;
for (const [url, a] of web.assets) {
  process.stdout.write(`${url.padEnd(40)} ${String(a.body.length).padStart(8)} bytes\n`);
  if (out) {
    const file = path.join(out, url);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, a.body);
  }
}
process.stdout.write(`bundled in ${web.buildMs} ms${out ? `, written to ${out}` : ''}\n`);
