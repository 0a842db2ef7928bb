import { readFile } from 'node:fs/promises';
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import { SCHEMA_PATH } from './schema.ts';

const ROOTS = ['SegmentJob', 'SegmentResult'] as const;

/** Renders the TS declarations of the schema's root definitions (dev-time only). */
export async function renderTypes(): Promise<string> {
  const schema = JSON.parse(await readFile(SCHEMA_PATH, 'utf8')) as JSONSchema & {
    $defs: Record<string, JSONSchema>;
  };
  // Compile one wrapper whose properties reference each root, so shared $defs are emitted once.
  const wrapper: JSONSchema = {
    title: 'SegmentContract',
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(ROOTS.map((r) => [r, { $ref: `#/$defs/${r}` }])),
    $defs: schema.$defs,
  };
  const ts = await compile(wrapper, 'SegmentContract', {
    bannerComment:
      '/* Generated from packages/contracts/schema/segment.schema.json by `npm run contracts:gen`. Do not edit. */',
    additionalProperties: false,
    unreachableDefinitions: true,
    style: { singleQuote: true },
  });
  return ts;
}
