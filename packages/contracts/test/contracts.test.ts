import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderTypes } from '../src/codegen.ts';
import {
  assertSegmentJob,
  assertSegmentResult,
  audioKeyFor,
  ContractError,
  jobIdFor,
  metaKeyFor,
  type SegmentJob,
} from '../src/index.ts';

export const goodJob = (): SegmentJob => ({
  stationId: 'lofi',
  seq: 3,
  promptVersion: 1,
  prompt: 'rainy-day slow jazz',
  backend: 'procedural',
  seed: 42,
  durationSeconds: 8,
  overlapSeconds: 1.5,
  sampleRate: 48000,
  channels: 2,
  audioKey: audioKeyFor('lofi', 3, 1),
  continueFrom: null,
});

test('a well-formed job passes', () => {
  assert.deepEqual(assertSegmentJob(goodJob()), goodJob());
});

test('bad jobs are rejected with the failing field named', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['path trick in station id', { stationId: '../etc' }, /stationId/],
    ['store key escaping the store', { audioKey: 'stations/lofi/segments/../../x.flac' }, /audioKey/],
    ['absolute store key', { audioKey: '/etc/passwd' }, /audioKey/],
    ['unknown backend', { backend: 'wavenet' }, /backend/],
    ['empty prompt', { prompt: '' }, /prompt/],
    ['negative seq', { seq: -1 }, /seq/],
    ['unexpected field', { extra: 1 }, /additional/],
  ];
  for (const [name, patch, re] of cases) {
    assert.throws(
      () => assertSegmentJob({ ...goodJob(), ...patch }),
      (err: unknown) => err instanceof ContractError && re.test(err.message),
      name,
    );
  }
});

test('results are validated too', () => {
  assert.throws(() => assertSegmentResult({ stationId: 'lofi' }), ContractError);
});

test('keys are derived consistently', () => {
  assert.equal(audioKeyFor('lofi', 12, 2), 'stations/lofi/segments/00000012-v2.flac');
  assert.equal(metaKeyFor(audioKeyFor('lofi', 12, 2)), 'stations/lofi/segments/00000012-v2.json');
  assert.equal(jobIdFor('lofi', 2, 12), 'lofi:2:12');
});

test('generated TypeScript types match the schema (run `npm run contracts:gen` when this fails)', async () => {
  const committed = await readFile(fileURLToPath(new URL('../src/types.gen.ts', import.meta.url)), 'utf8');
  assert.equal(committed, await renderTypes());
});
