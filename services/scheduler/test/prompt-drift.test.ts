// Prompt drift over an hour of one mood: deterministic, with shape (energy rises and falls, the
// lead instrument changes, the form has sections), and always a valid job field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertSegmentJob, type Drift } from '@lofi/contracts';
import { driftFor } from '../src/prompt-drift.ts';

const HOUR = 450; // 8 s segments
const hour = (prompt: string, seed = 7, promptVersion = 3): Drift[] =>
  Array.from({ length: HOUR }, (_, index) => driftFor({ prompt, seed, promptVersion, index }));

test('the same station, mood and seq drift the same way', () => {
  const a = hour('rainy-day slow jazz');
  assert.deepEqual(hour('rainy-day slow jazz'), a);
  assert.notDeepEqual(hour('rainy-day slow jazz', 8), a, 'another seed drifts differently');
  assert.notDeepEqual(hour('rainy-day slow jazz', 7, 4), a, 'a new mood drifts differently');
});

test('an hour of one mood has shape: energy, lead and section change, and nothing loops', () => {
  const d = hour('rainy-day slow jazz');
  assert.equal(d[0]?.section, 'intro');
  assert.equal(d[1]?.section, 'intro');
  const energies = d.map((x) => x.energy);
  assert.ok(Math.max(...energies) - Math.min(...energies) > 0.4, 'energy rises and falls');
  assert.ok(energies.every((e) => e >= 0.15 && e <= 0.9));
  const sections = new Set(d.map((x) => x.section));
  for (const s of ['groove', 'lift', 'breakdown', 'variation'])
    assert.ok(sections.has(s as Drift['section']), s);
  assert.ok(new Set(d.map((x) => x.emphasis)).size >= 5, 'most instruments get to lead');
  // Consecutive segments mostly keep their neighbour's reading (gradual), but not for long.
  let changes = 0;
  for (let i = 1; i < d.length; i++) if (d[i]?.prompt !== d[i - 1]?.prompt) changes++;
  assert.ok(changes > HOUR / 8 && changes < HOUR * 0.6, `${changes} changes of the prompt text`);
  // No stretch of ten minutes repeats the previous ten minutes.
  const window = 75;
  const text = d.map((x) => x.prompt);
  for (let i = window; i + window <= HOUR; i += window)
    assert.notDeepEqual(text.slice(i, i + window), text.slice(i - window, i));
});

test('instruments the mood names lead more often, English or Chinese', () => {
  const count = (prompt: string, e: Drift['emphasis']) => hour(prompt).filter((x) => x.emphasis === e).length;
  assert.ok(count('warm piano and rain', 'piano') > count('warm synth and rain', 'piano'));
  assert.ok(count('雨天 吉他 放松', 'guitar') > count('雨天 放松', 'guitar'));
});

test('drifted prompts start with the mood, stay within the contract and fit in a job', () => {
  const long = 'x'.repeat(500);
  for (const prompt of ['rainy-day slow jazz.', long, '咖啡馆 爵士 '.repeat(60).trim().slice(0, 500)]) {
    for (const drift of hour(prompt).slice(0, 60)) {
      assert.ok([...drift.prompt].length <= 500);
      assert.ok(drift.prompt.startsWith(prompt.slice(0, 20).replace(/\.$/, '')));
      assertSegmentJob({
        stationId: 'x',
        seq: 1,
        promptVersion: 0,
        prompt,
        backend: 'musicgen',
        drift,
        seed: 1,
        durationSeconds: 8,
        overlapSeconds: 1,
        sampleRate: 48000,
        channels: 2,
        audioKey: 'stations/x/segments/00000001-v0.flac',
        continueFrom: null,
      });
    }
  }
});
