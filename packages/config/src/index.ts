// The only module that reads the environment. Every service calls loadConfig() once at boot; a bad
// value stops start-up with a message naming the variable, instead of surfacing later as dead air.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { type IcecastPush, icecastPushFrom } from './icecast.ts';
import { type StoreConfig, storeFrom } from './store.ts';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable} ${message}`);
    this.name = 'ConfigError';
  }
}

export interface Config {
  host: string;
  port: number;
  /** Bearer token for control endpoints; undefined only for processes that never check it. */
  adminToken: string | undefined;
  redisUrl: string | undefined;
  dataDir: string;
  queuePrefix: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Generated-but-unplayed audio each station keeps ahead of its playhead. */
  lookaheadSeconds: number;
  segmentSeconds: number;
  overlapSeconds: number;
  // Tracks — begin
  /** Default range of a track's length (TRACK_SECONDS, e.g. 120-240); a station may set its own. */
  trackSecondsMin: number;
  trackSecondsMax: number;
  // Tracks — end
  /** Played segments kept in the store before they are removed. */
  retainSegments: number;
  /** Keep played segments' files in the store for good (only the index forgets them). */
  archive: boolean;
  workers: number;
  defaultPrompt: string;
  publicUrl: string | undefined;
  /** Control requests (mood, station changes) per client IP per minute; creation gets a sixth. */
  rateLimitPerMinute: number;
  // Icecast push (icecast.ts) — begin
  /** Push to an Icecast 2 server as its source client; undefined: no push. */
  icecastPush: IcecastPush | undefined;
  // Icecast push — end
  // Embed framing (web pages) — begin
  /** CSP frame-ancestors of the embed player: '*' or space-separated origins ('self', https://a.example). */
  embedFrameAncestors: string;
  // Embed framing — end
  // Streamer replicas — begin
  /** This streamer's name in playout leases (REPLICA_ID; default host name, pid and a random tag). */
  replicaId: string;
  /** How the other replicas reach this one to relay its stations (REPLICA_URL; default from the listen address). */
  replicaUrl: string | undefined;
  /** A replica that stops renewing a station's lease loses it after this long (ms). */
  leaseTtlMs: number;
  // Streamer replicas — end
  // Segment store (store.ts) — begin
  /** Where segments live: the DATA_DIR folder, or an S3-compatible bucket (STORE_URL=s3://…). */
  store: StoreConfig;
  // Segment store — end
  // Metrics ports (scheduler, worker) — begin
  /** The scheduler's Prometheus /metrics port; 0: no metrics server. */
  schedulerMetricsPort: number;
  /** The Python worker's /metrics port (read there too; here so the supervisor can hand out ports). */
  workerMetricsPort: number;
  /** Address the scheduler's and workers' metrics servers listen on. */
  metricsHost: string;
  // Metrics ports — end
}

type Env = Readonly<Record<string, string | undefined>>;

function read(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function flag(env: Env, name: string, def: boolean): boolean {
  const raw = read(env, name)?.toLowerCase();
  if (raw === undefined) return def;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `must be 1/true/yes/on or 0/false/no/off (got ${JSON.stringify(raw)})`);
}

function number(env: Env, name: string, def: number, min: number, max: number, integer: boolean): number {
  const raw = read(env, name);
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    const kind = integer ? 'an integer' : 'a number';
    throw new ConfigError(name, `must be ${kind} from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return n;
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL (got ${JSON.stringify(raw)})`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')} (got ${parsed.protocol})`);
  }
  return raw;
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], def: T): T {
  const raw = read(env, name);
  if (raw === undefined) return def;
  if (!(values as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${values.join(', ')} (got ${JSON.stringify(raw)})`);
  }
  return raw as T;
}

function pattern(env: Env, name: string, re: RegExp, def: string, what: string): string {
  const raw = read(env, name);
  if (raw === undefined) return def;
  if (!re.test(raw)) throw new ConfigError(name, `must be ${what} (got ${JSON.stringify(raw)})`);
  return raw;
}

export const DEFAULT_PROMPT =
  'Lo-fi hip hop with a gentle electric piano and soft drum beats, warm and relaxed, vinyl crackle';

export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const adminToken = read(env, 'ADMIN_TOKEN');
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError('ADMIN_TOKEN', 'must be at least 16 characters');
  }
  const segmentSeconds = number(env, 'SEGMENT_SECONDS', 8, 2, 60, false);
  const overlapSeconds = number(env, 'OVERLAP_SECONDS', 1.5, 0.05, 10, false);
  if (overlapSeconds * 2 > segmentSeconds) {
    throw new ConfigError('OVERLAP_SECONDS', `must be at most half of SEGMENT_SECONDS (${segmentSeconds})`);
  }
  const track = trackSeconds(env, 'TRACK_SECONDS');
  return {
    host: pattern(env, 'HOST', /^[A-Za-z0-9.:-]+$/, '127.0.0.1', 'a host name or IP address'),
    port: number(env, 'PORT', 8000, 0, 65535, true),
    adminToken,
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    dataDir: path.resolve(cwd, read(env, 'DATA_DIR') ?? './data'),
    queuePrefix: pattern(env, 'QUEUE_PREFIX', /^[A-Za-z0-9_-]{1,64}$/, 'lofi', 'letters, digits, _ or -'),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace'], 'info'),
    lookaheadSeconds: number(env, 'LOOKAHEAD_SECONDS', 60, 10, 3600, false),
    segmentSeconds,
    overlapSeconds,
    // Tracks — begin
    trackSecondsMin: track.min,
    trackSecondsMax: track.max,
    // Tracks — end
    retainSegments: number(env, 'RETAIN_SEGMENTS', 30, 2, 1_000_000, true),
    archive: flag(env, 'ARCHIVE', false),
    workers: number(env, 'WORKERS', 1, 0, 64, true),
    defaultPrompt: read(env, 'DEFAULT_PROMPT') ?? DEFAULT_PROMPT,
    publicUrl: url(env, 'PUBLIC_URL', ['http:', 'https:']),
    rateLimitPerMinute: number(env, 'RATE_LIMIT_PER_MINUTE', 60, 1, 100_000, true),
    // Icecast push: 'lofi' is the default station's id (DEFAULT_STATION in the streamer's app.ts).
    icecastPush: icecastPushFrom(env, 'lofi'),
    // Embed framing (web pages) — begin
    embedFrameAncestors: frameAncestors(env, 'EMBED_FRAME_ANCESTORS'),
    // Embed framing — end
    // Streamer replicas — begin
    replicaId: pattern(
      env,
      'REPLICA_ID',
      /^[A-Za-z0-9._-]{1,64}$/,
      defaultReplicaId(),
      'letters, digits, ., _ or -',
    ),
    replicaUrl: url(env, 'REPLICA_URL', ['http:', 'https:']),
    leaseTtlMs: number(env, 'LEASE_TTL_MS', 2500, 500, 60_000, true),
    // Streamer replicas — end
    // Segment store (store.ts) — begin
    store: storeFrom(env, path.resolve(cwd, read(env, 'DATA_DIR') ?? './data')),
    // Segment store — end
    // Metrics ports (scheduler, worker) — begin
    schedulerMetricsPort: number(env, 'SCHEDULER_METRICS_PORT', 9464, 0, 65535, true),
    workerMetricsPort: number(env, 'WORKER_METRICS_PORT', 9465, 0, 65535, true),
    metricsHost: pattern(env, 'METRICS_HOST', /^[A-Za-z0-9.:-]+$/, '127.0.0.1', 'a host name or IP address'),
    // Metrics ports — end
  };
}

// Streamer replicas — begin
function defaultReplicaId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9.-]/g, '-')
      .slice(0, 40) || 'streamer';
  return `${host}-${process.pid}-${randomBytes(2).toString('hex')}`;
}
// Streamer replicas — end

// Tracks — begin
/**
 * Bounds of any track length: long enough to be a tune, short enough to stay a radio's. The
 * minimum keeps a day under 1440 tracks, inside the window in which names never repeat.
 */
export const TRACK_SECONDS_BOUNDS = { min: 60, max: 1200 } as const;

/** TRACK_SECONDS: a range 'MIN-MAX' (each track draws its length from it) or one fixed length. */
function trackSeconds(env: Env, name: string): { min: number; max: number } {
  const raw = read(env, name);
  if (raw === undefined) return { min: 120, max: 240 };
  const m = /^(\d+(?:\.\d+)?)(?:\s*-\s*(\d+(?:\.\d+)?))?$/.exec(raw);
  const min = Number(m?.[1]);
  const max = m?.[2] === undefined ? min : Number(m[2]);
  const { min: lo, max: hi } = TRACK_SECONDS_BOUNDS;
  if (!m || min < lo || max > hi || min > max) {
    throw new ConfigError(
      name,
      `must be seconds MIN-MAX (or one number) from ${lo} to ${hi}, MIN <= MAX (got ${JSON.stringify(raw)})`,
    );
  }
  return { min, max };
}
// Tracks — end

// Embed framing (web pages) — begin
/** CSP source expressions allowed in frame-ancestors: '*', 'self', 'none', or scheme://host[:port]. */
const FRAME_SOURCE = /^(?:\*|'self'|'none'|https?:\/\/(?:\*\.)?[A-Za-z0-9.-]+(?::\d{1,5})?)$/;

function frameAncestors(env: Env, name: string): string {
  const v = read(env, name);
  if (v === undefined) return '*';
  const sources = v.split(/\s+/);
  const bad = sources.find((s) => !FRAME_SOURCE.test(s));
  if (bad !== undefined) {
    throw new ConfigError(
      name,
      `${JSON.stringify(bad)} is not *, 'self', 'none' or an origin like https://a.example`,
    );
  }
  return sources.join(' ');
}
// Embed framing — end

/** For services that cannot run without Redis: the message tells the operator what to set. */
export function requireRedisUrl(config: Config): string {
  if (!config.redisUrl) throw new ConfigError('REDIS_URL', 'must be set (npm start sets it for you)');
  return config.redisUrl;
}

export function requireAdminToken(config: Config): string {
  if (!config.adminToken) throw new ConfigError('ADMIN_TOKEN', 'must be set (npm start generates one)');
  return config.adminToken;
}

export { configOrExit, exitOnConfigError, onShutdown } from './boot.ts';
export type { IcecastPush } from './icecast.ts';
export type { S3Settings, StoreConfig } from './store.ts';
