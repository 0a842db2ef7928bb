import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Backend } from '@lofi/contracts';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

export interface Station {
  id: string;
  name: string;
  prompt: string;
  /** The preset the mood came from ('' for a free-text mood). */
  preset: string;
  /** Bumped on every mood change; jobs and segments carry it. */
  promptVersion: number;
  backend: Backend;
  /** Model of the backend, a Hugging Face repo id such as facebook/musicgen-medium ('' = the worker's default). */
  model: string;
  /** Base seed of the station's music; the same station and seed render the same music. */
  seed: number;
  segmentSeconds: number;
  overlapSeconds: number;
  lookaheadSeconds: number;
  description: string;
  /** Who players show as the artist of the station's tracks ('' = the station's name). */
  artist: string;
  /** Each track's length is drawn from this range (seconds), whole segments. */
  trackSecondsMin: number;
  trackSecondsMax: number;
  /** Generation parameters (MusicGen's; the procedural backend ignores them). */
  topK: number;
  topP: number;
  temperature: number;
  cfgCoef: number;
  createdAt: string;
  updatedAt: string;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();
/** 192 random bits; only the hash is ever stored. */
const newOwnerKey = (): string => `sk_${randomBytes(24).toString('base64url')}`;

/** What an owner may change after creation (the mood has its own endpoint). */
export type StationPatch = Partial<
  Pick<
    Station,
    | 'name'
    | 'description'
    | 'backend'
    | 'model'
    | 'segmentSeconds'
    | 'overlapSeconds'
    | 'lookaheadSeconds'
    | 'artist'
    | 'trackSecondsMin'
    | 'trackSecondsMax'
    | 'topK'
    | 'topP'
    | 'temperature'
    | 'cfgCoef'
  >
>;

/** AudioCraft's defaults for MusicGen. */
export const GENERATION_DEFAULTS = { topK: 250, topP: 0, temperature: 1, cfgCoef: 3 } as const;

export type NewStation = Pick<Station, 'id' | 'name' | 'prompt'> &
  Partial<Omit<Station, 'id' | 'name' | 'prompt' | 'promptVersion' | 'createdAt' | 'updatedAt'>>;

export interface MoodEntry {
  prompt: string;
  preset?: string;
  promptVersion: number;
  at: string;
}

export interface StationDefaults {
  segmentSeconds: number;
  overlapSeconds: number;
  lookaheadSeconds: number;
  /** TRACK_SECONDS; absent: 120-240 s. */
  trackSecondsMin?: number;
  trackSecondsMax?: number;
}

/** The track length range of stations that never set one and of configs without TRACK_SECONDS. */
export const TRACK_SECONDS_DEFAULT = { min: 120, max: 240 } as const;

const NUMERIC = [
  'promptVersion',
  'seed',
  'segmentSeconds',
  'overlapSeconds',
  'lookaheadSeconds',
  'trackSecondsMin',
  'trackSecondsMax',
  'topK',
  'topP',
  'temperature',
  'cfgCoef',
] as const;

function decode(h: Record<string, string>, defaults: StationDefaults): Station | null {
  if (!h.id) return null;
  // The owner key's hash never leaves the repository.
  const { keyHash: _secret, ...fields } = h;
  // Stations stored before a field existed get its default.
  const s = {
    description: '',
    preset: '',
    model: '',
    artist: '',
    trackSecondsMin: defaults.trackSecondsMin ?? TRACK_SECONDS_DEFAULT.min,
    trackSecondsMax: defaults.trackSecondsMax ?? TRACK_SECONDS_DEFAULT.max,
    ...GENERATION_DEFAULTS,
    ...fields,
  } as unknown as Station;
  const numbers = s as unknown as Record<string, number>;
  for (const k of NUMERIC) numbers[k] = Number(numbers[k]);
  return s;
}

/** Stations live in Redis hashes (AOF-persisted), one per station, plus a set of ids. */
export class StationRepo {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly defaults: StationDefaults,
  ) {}

  async get(id: string): Promise<Station | null> {
    return decode(await this.redis.hgetall(this.keys.station(id)), this.defaults);
  }

  async list(): Promise<Station[]> {
    const ids = (await this.redis.smembers(this.keys.stations())).sort();
    const all = await Promise.all(ids.map((id) => this.get(id)));
    return all.filter((s): s is Station => s !== null);
  }

  /** Creates the station unless it exists; returns the stored one either way. */
  async ensure(input: NewStation): Promise<Station> {
    const now = new Date().toISOString();
    const station: Omit<Station, 'trackSecondsMin' | 'trackSecondsMax'> & Partial<Station> = {
      backend: 'procedural',
      model: '',
      preset: '',
      description: '',
      artist: '',
      ...GENERATION_DEFAULTS,
      seed: randomInt(0, 2 ** 31),
      // Only the station defaults: the object passed in may be the whole service config.
      segmentSeconds: this.defaults.segmentSeconds,
      overlapSeconds: this.defaults.overlapSeconds,
      lookaheadSeconds: this.defaults.lookaheadSeconds,
      ...input,
      promptVersion: 0,
      createdAt: now,
      updatedAt: now,
    };
    const key = this.keys.station(input.id);
    // A track range not set for the station is not stored: the TRACK_SECONDS default keeps applying.
    const fields = Object.entries(station).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
    // HSETNX on `id` makes creation atomic: two processes booting at once create one station.
    const created = await this.redis.hsetnx(key, 'id', station.id);
    if (created) {
      await this.redis
        .multi()
        .hset(key, ...fields)
        .sadd(this.keys.stations(), station.id)
        .exec();
      await this.redis.rpush(
        this.keys.moods(station.id),
        JSON.stringify({
          prompt: station.prompt,
          ...(station.preset ? { preset: station.preset } : {}),
          promptVersion: 0,
          at: now,
        } satisfies MoodEntry),
      );
    }
    const stored = await this.get(input.id);
    if (!stored) throw new Error(`station ${input.id} vanished while being created`);
    return stored;
  }

  /**
   * Creates a new station with an owner key; resolves to null when the id is taken. The key is
   * returned once and only its hash is stored.
   */
  async create(input: NewStation): Promise<{ station: Station; key: string } | null> {
    if (await this.redis.exists(this.keys.station(input.id))) return null;
    const station = await this.ensure(input);
    const key = newOwnerKey();
    // HSETNX: of two racing creators only one sets the key; the other learns the id is taken.
    const won = await this.redis.hsetnx(this.keys.station(input.id), 'keyHash', sha256(key).toString('hex'));
    return won ? { station, key } : null;
  }

  /** Replaces the owner key (the old one stops working at once); resolves to the new key, or null. */
  async rotateKey(id: string): Promise<string | null> {
    const key = this.keys.station(id);
    if (!(await this.redis.exists(key))) return null;
    const ownerKey = newOwnerKey();
    await this.redis.hset(
      key,
      'keyHash',
      sha256(ownerKey).toString('hex'),
      'updatedAt',
      new Date().toISOString(),
    );
    return ownerKey;
  }

  /** Constant-time check of a station owner's key. */
  async checkKey(id: string, key: string): Promise<boolean> {
    const stored = await this.redis.hget(this.keys.station(id), 'keyHash');
    if (!stored) return false;
    return timingSafeEqual(Buffer.from(stored, 'hex'), sha256(key));
  }

  /** Removes the station and everything the services keep about it in Redis. */
  async remove(id: string): Promise<boolean> {
    const removed = await this.redis.srem(this.keys.stations(), id);
    await this.redis.del(
      this.keys.station(id),
      this.keys.segments(id),
      this.keys.chain(id),
      this.keys.playhead(id),
      this.keys.moods(id),
    );
    return removed === 1;
  }

  /** The station's moods, newest first. */
  async moods(id: string): Promise<MoodEntry[]> {
    const raw = await this.redis.lrange(this.keys.moods(id), 0, -1);
    return raw.map((r) => JSON.parse(r) as MoodEntry).reverse();
  }

  /** Applies a validated patch; resolves to the updated station, or null when there is none. */
  async update(id: string, patch: StationPatch): Promise<Station | null> {
    const key = this.keys.station(id);
    if (!(await this.redis.exists(key))) return null;
    const fields = Object.entries(patch).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
    await this.redis.hset(key, ...fields, 'updatedAt', new Date().toISOString());
    return this.get(id);
  }

  /**
   * Sets a new mood (from a preset, or free text with preset '') and bumps the prompt version
   * atomically; returns the updated station.
   */
  async setMood(id: string, prompt: string, preset = ''): Promise<Station | null> {
    const key = this.keys.station(id);
    if (!(await this.redis.exists(key))) return null;
    const now = new Date().toISOString();
    const [[, version]] = (await this.redis
      .multi()
      .hincrby(key, 'promptVersion', 1)
      .hset(key, 'prompt', prompt, 'preset', preset, 'updatedAt', now)
      .exec()) as [[Error | null, number]];
    await this.redis
      .multi()
      .rpush(
        this.keys.moods(id),
        JSON.stringify({
          prompt,
          ...(preset ? { preset } : {}),
          promptVersion: version,
          at: now,
        } satisfies MoodEntry),
      )
      .ltrim(this.keys.moods(id), -100, -1)
      .exec();
    return this.get(id);
  }
}
