// Prompt drift: within one mood, each segment gets a slightly different reading of the prompt
// (energy, which instrument leads, where it sits in the form), so an hour has shape instead of
// one texture repeated. Pure and deterministic: the same station, mood and seq always drift the
// same way, so a scheduler restart re-creates identical jobs. With a track, the drift follows the
// track's arc instead (eases in, builds, winds down into the next track), which is what MusicGen
// hears: the text is its only notion of form.
import type { Drift, Track } from '@lofi/contracts';

export interface DriftInput {
  prompt: string;
  /** The station's base seed. */
  seed: number;
  promptVersion: number;
  /** Segments since this mood's chain began (0 for its first segment). */
  index: number;
  /** The segment's track: its arc shapes energy and section, and each track has its own leads. */
  track?: Pick<Track, 'index' | 'position' | 'segments' | 'part'>;
}

type Emphasis = Drift['emphasis'];

/** About six minutes at 8 s segments: long enough to feel like a set, not a loop. */
const ARC_SEGMENTS = 45;
/** Segments between changes of the leading instrument (a phrase of about half a minute). */
const PHRASE_SEGMENTS = 4;
const INTRO_SEGMENTS = 2;
const MAX_PROMPT = 500;

/** Words that say an instrument belongs to the mood; it then leads more often. */
const MENTIONS: Record<Emphasis, RegExp> = {
  keys: /electric piano|rhodes|wurli|keys|synth|键盘|电钢琴/iu,
  piano: /(?<!electric )piano|钢琴/iu,
  guitar: /guitar|吉他/iu,
  pads: /pad|ambient|dream|ethereal|atmospher|氛围|梦/iu,
  bass: /bass|贝斯/iu,
  drums: /drum|beat|percussion|groove|鼓|节奏/iu,
};

const LEADS: Record<Emphasis, string> = {
  keys: 'soft electric piano in front',
  piano: 'warm piano leading',
  guitar: 'mellow guitar leading',
  pads: 'dreamy pads in front',
  bass: 'round bass up front',
  drums: 'dusty drums up front',
};

const SECTIONS: Record<Drift['section'], string> = {
  intro: 'intro, instruments easing in',
  groove: 'settled groove',
  lift: 'a gentle lift',
  breakdown: 'breakdown, drums pulled back',
  variation: 'a variation on the theme',
};

/** A small integer hash (xorshift-multiply), so drift needs no shared random state. */
function hash(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return (h >>> 0) / 2 ** 32;
}

function energyWords(e: number): string {
  if (e < 0.3) return 'sparse and hushed';
  if (e < 0.45) return 'laid-back';
  if (e < 0.6) return 'steady and warm';
  if (e < 0.75) return 'a little more lively';
  return 'fuller, with gentle momentum';
}

function pickEmphasis(prompt: string, r: number, previous: Emphasis | null): Emphasis {
  const all = Object.keys(MENTIONS) as Emphasis[];
  // Instruments the mood names lead three times as often; the lead usually changes each phrase.
  const weighted = all
    .filter((e) => e !== previous)
    .flatMap((e) => (MENTIONS[e].test(prompt) ? [e, e, e] : [e]));
  return weighted[Math.floor(r * weighted.length)] as Emphasis;
}

const OUTRO = 'outro, winding down into the next tune';

/** Energy over a track: eases in, builds to a peak about two thirds in, settles, winds down. */
function trackDrift(input: DriftInput & { track: NonNullable<DriftInput['track']> }): Drift {
  const { prompt, seed, track } = input;
  const n = Math.max(1, track.segments);
  const t = n <= 1 ? 0.5 : track.position / (n - 1);
  const phrase = Math.floor(track.position / PHRASE_SEGMENTS);
  const peak = 0.55 + 0.2 * hash(seed, track.index, 4);
  const wobble = (hash(seed, track.index, 2, phrase) - 0.5) * 0.12;
  let energy: number;
  let section: Drift['section'];
  let words: string;
  if (track.part === 'intro') {
    energy = 0.3 + 0.08 * track.position;
    section = 'intro';
    words = SECTIONS.intro;
  } else if (track.part === 'outro') {
    energy = 0.25;
    section = 'breakdown';
    words = OUTRO;
  } else {
    // A smooth hill: low after the intro, highest near two thirds, easing before the outro.
    const hill = t <= 0.67 ? Math.sin((Math.PI / 2) * (t / 0.67)) : 1 - 0.9 * (t - 0.67);
    energy = 0.4 + (peak - 0.4) * hill + wobble;
    if (energy > 0.68) section = 'lift';
    else if (phrase % 4 === 3) section = 'variation';
    else if (energy < 0.42 && t > 0.3) section = 'breakdown';
    else section = 'groove';
    words = SECTIONS[section];
  }
  energy = Math.round(Math.min(0.9, Math.max(0.15, energy)) * 1000) / 1000;
  const previous = phrase > 0 ? pickEmphasis(prompt, hash(seed, track.index, 3, phrase - 1), null) : null;
  const emphasis = pickEmphasis(prompt, hash(seed, track.index, 3, phrase), previous);
  return {
    prompt: withSuffix(prompt, `, ${energyWords(energy)}, ${LEADS[emphasis]}, ${words}`),
    energy,
    emphasis,
    section,
  };
}

function withSuffix(prompt: string, suffix: string): string {
  const base = prompt.trim().replace(/[\s.,;]+$/u, '');
  return `${[...base].slice(0, MAX_PROMPT - suffix.length).join('')}${suffix}`;
}

export function driftFor(input: DriftInput): Drift {
  if (input.track) return trackDrift({ ...input, track: input.track });
  const { prompt, seed, promptVersion, index } = input;
  const k = Math.max(0, Math.floor(index));
  const phrase = Math.floor(k / PHRASE_SEGMENTS);
  const phase = hash(seed, promptVersion, 1) * 2 * Math.PI;
  const wobble = (hash(seed, promptVersion, 2, phrase) - 0.5) * 0.2;
  let energy = 0.5 + 0.25 * Math.sin((2 * Math.PI * k) / ARC_SEGMENTS + phase) + wobble;
  let section: Drift['section'];
  if (k < INTRO_SEGMENTS) {
    energy = 0.3 + 0.1 * k;
    section = 'intro';
  } else {
    // Out of the intro the arc is joined gradually, not with a jump to wherever its phase is.
    const settle = Math.min(1, (k - INTRO_SEGMENTS + 1) / 4);
    energy = 0.45 + (energy - 0.45) * settle;
    if (energy < 0.35) section = 'breakdown';
    else if (energy > 0.7) section = 'lift';
    else if (phrase % 5 === 4) section = 'variation';
    else section = 'groove';
  }
  energy = Math.round(Math.min(0.9, Math.max(0.15, energy)) * 1000) / 1000;

  const previous = phrase > 0 ? pickEmphasis(prompt, hash(seed, promptVersion, 3, phrase - 1), null) : null;
  const emphasis = pickEmphasis(prompt, hash(seed, promptVersion, 3, phrase), previous);

  const suffix = `, ${energyWords(energy)}, ${LEADS[emphasis]}, ${SECTIONS[section]}`;
  return { prompt: withSuffix(prompt, suffix), energy, emphasis, section };
}
