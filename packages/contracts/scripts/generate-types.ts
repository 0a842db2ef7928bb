// Derives the TypeScript types from the one JSON Schema, so the TS and Python sides cannot drift.
// `npm run contracts:gen` rewrites src/types.gen.ts; a test fails when the committed file is stale.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderTypes } from '../src/codegen.ts';

const out = fileURLToPath(new URL('../src/types.gen.ts', import.meta.url));
await writeFile(out, await renderTypes());
process.stdout.write(`wrote ${out}\n`);
