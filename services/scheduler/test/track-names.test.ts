// Track names: lo-fi-like, from the mood, deterministic, and never the same twice within a day's
// tracks of a station, whatever the moods. The guarantee is checked over the whole name space.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  NAME_WINDOW,
  nameAt,
  permute,
  SHARED_WORDS,
  THEMES,
  themeOf,
  themeSize,
  trackName,
} from '../src/track-names.ts';

test('permute is a bijection of [0, size), and differs by seed', () => {
  for (const size of [12, 172, NAME_WINDOW, 1000]) {
    for (const seed of [0, 1, 7, 0x7fffffff, 123456789]) {
      const seen = new Set<number>();
      for (let k = 0; k < size; k++) {
        const x = permute(k, seed, size);
        assert.ok(x >= 0 && x < size);
        seen.add(x);
      }
      assert.equal(seen.size, size, `size ${size} seed ${seed}`);
    }
  }
  const a = Array.from({ length: 64 }, (_, k) => permute(k, 1, NAME_WINDOW));
  const b = Array.from({ length: 64 }, (_, k) => permute(k, 2, NAME_WINDOW));
  assert.notDeepEqual(a, b);
});

test('every theme renders at least a window of distinct names, and themes never share one', () => {
  const all = new Map<string, string>();
  const words = (name: string) => name.split(' ');
  const nounsOf = new Map<string, string>();
  for (const t of THEMES) for (const [en] of t.nouns) nounsOf.set(en, t.id);
  assert.equal(nounsOf.size, THEMES.length * 12, 'no noun is in two themes');
  for (const w of SHARED_WORDS)
    for (const part of words(w)) assert.ok(!nounsOf.has(part), `${w} is a theme noun`);
  for (const t of THEMES) {
    const size = themeSize(t);
    assert.ok(size >= NAME_WINDOW, `${t.id}: ${size} names`);
    for (let id = 0; id < size; id++) {
      const { en, zh } = nameAt(t, id);
      const other = all.get(en);
      assert.equal(other, undefined, `${en} in ${t.id} and ${other}`);
      all.set(en, t.id);
      const n = words(en).length;
      assert.ok(n >= 2 && n <= 4, en);
      // Exactly one theme noun, of this theme.
      const nouns = words(en).filter((w) => nounsOf.has(w));
      assert.deepEqual(
        nouns.map((w) => nounsOf.get(w)),
        [t.id],
        en,
      );
      assert.ok(zh.length >= 2 && /[\u3400-\u9fff]/u.test(zh), zh);
    }
  }
});

test('names read like track names: title case, no chord names, never the prompt', () => {
  const chord = /\b[A-G][#b♭♯]?(?:m|maj|min|dim|aug|sus|add)?\d*\b|\bmajor\b|\bminor\b|\bsection\b/iu;
  const prompt = 'Lo-fi hip hop with a gentle electric piano and soft drum beats, warm and relaxed';
  for (const t of THEMES) {
    for (let id = 0; id < themeSize(t); id++) {
      const { en } = nameAt(t, id);
      assert.ok(!chord.test(en), en);
      assert.match(
        en,
        /^[A-Z][A-Za-z]*(?: (?:on|by|over|at|across|in|under|the|for|of|to|through|and|[A-Z][A-Za-z]*))+$/u,
      );
    }
  }
  for (let index = 0; index < 200; index++)
    assert.notEqual(trackName({ seed: 5, index, prompt }).name, prompt);
});

test('the mood picks the theme, English or Chinese; Chinese moods carry a Chinese subtitle', () => {
  assert.equal(themeOf('rainy day slow jazz').id, 'rain');
  assert.equal(themeOf('late night drive, neon').id, 'night');
  assert.equal(themeOf('coffee shop jazz').id, 'coffee');
  assert.equal(themeOf('study beats for the library').id, 'study');
  assert.equal(themeOf('train window, city at dusk').id, 'city', 'train is no rain');
  assert.equal(themeOf('brainy beats').id, 'home', 'brain is no rain');
  assert.equal(themeOf('下雨天的咖啡馆').id, 'rain');
  assert.equal(themeOf('深夜 城市 霓虹').id, 'night');
  assert.equal(themeOf('Lo-fi hip hop with a gentle electric piano').id, 'home');
  const zh = trackName({ seed: 3, index: 4, prompt: '下雨天 钢琴 放松' });
  assert.match(zh.name, /^[A-Za-z ]+$/u, 'English name');
  assert.match(zh.subtitle ?? '', /[\u3400-\u9fff]/u);
  assert.equal(trackName({ seed: 3, index: 4, prompt: 'rainy piano' }).subtitle, undefined);
  // Drawn from the mood: a rain mood's names all hold a rain word.
  const rain = new Set((THEMES[0]?.nouns ?? []).map((n) => n[0]));
  for (let index = 0; index < 50; index++) {
    const { name } = trackName({ seed: 9, index, prompt: 'rainy day' });
    assert.ok(
      name.split(' ').some((w) => rain.has(w)),
      name,
    );
  }
});

test('deterministic from seed and track number; a day of tracks never repeats a name, across moods', () => {
  const moods = ['rainy day', 'late night neon', 'coffee shop', '下雨天', 'Lo-fi hip hop', 'snowy winter'];
  for (const seed of [1, 42, 987654321]) {
    const seen = new Map<string, number>();
    // A day of one-minute tracks (1440) plus mood changes, the mood switching back and forth.
    for (let index = 0; index < NAME_WINDOW; index++) {
      const prompt = moods[Math.floor(index / 7) % moods.length] as string;
      const { name } = trackName({ seed, index, prompt });
      assert.deepEqual(trackName({ seed, index, prompt }).name, name, 'deterministic');
      const before = seen.get(name);
      assert.equal(before, undefined, `seed ${seed}: ${name} at tracks ${before} and ${index}`);
      seen.set(name, index);
    }
  }
  // Within one mood the nouns take turns: twelve tracks in a row never share one.
  const rain = new Set((THEMES[0]?.nouns ?? []).map((n) => n[0]));
  const nounOf = (name: string) => name.split(' ').find((w) => rain.has(w));
  for (let start = 0; start < 300; start += 12) {
    const nouns = Array.from({ length: 12 }, (_, i) =>
      nounOf(trackName({ seed: 77, index: start + i, prompt: 'rainy day' }).name),
    );
    assert.equal(new Set(nouns).size, 12, nouns.join(' '));
  }
  // And the rest of the name changes from one track to the next, most of the time.
  const names = Array.from(
    { length: 300 },
    (_, index) => trackName({ seed: 77, index, prompt: 'rainy day' }).name,
  );
  const rest = names.map((n) => n.replace(new RegExp(`\\b(${[...rain].join('|')})\\b`, 'u'), '_'));
  let same = 0;
  for (let i = 1; i < rest.length; i++) if (rest[i] === rest[i - 1]) same++;
  assert.ok(same <= 6, `${same} of 299 neighbours share everything but the noun`);
  const a = Array.from({ length: 20 }, (_, index) => trackName({ seed: 1, index, prompt: 'rain' }).name);
  const b = Array.from({ length: 20 }, (_, index) => trackName({ seed: 2, index, prompt: 'rain' }).name);
  assert.notDeepEqual(a, b, 'another station names its tracks differently');
});
