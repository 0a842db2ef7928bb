// The REST API as the pages use it. Tokens live in sessionStorage (gone when the tab closes) and
// travel only as a Bearer header to this origin.

/** A track as it went on air (the server's TrackEntry; the one on air also has its segment). */
export interface NowPlaying {
  /** Its first segment's seq: identifies the entry (and its cover). */
  seq: number;
  trackIndex: number | null;
  /** The track's name. */
  title: string;
  subtitle: string | null;
  artist: string;
  /** What other players show: `artist - title`. */
  streamTitle: string;
  prompt: string;
  promptVersion: number;
  backend: string;
  model: string;
  /** When its first audio was heard, on the stream clock (the clock of HLS PROGRAM-DATE-TIME). */
  startedAt: string;
  /** When the next track began; null while it plays. */
  endedAt: string | null;
  /** Seconds played (so far, for the one on air) when the server answered. */
  durationSeconds?: number;
  /** The segment on air, with its musical detail (chord, section). */
  segment?: { seq: number; detail: string; part: string | null; position: number | null };
}

export interface StationView {
  id: string;
  name: string;
  description: string;
  prompt: string;
  preset: string | null;
  promptVersion: number;
  backend: string;
  model: string | null;
  status: string;
  bufferedSeconds: number;
  lookaheadSeconds: number;
  segmentSeconds: number;
  overlapSeconds: number;
  params: { topK: number; topP: number; temperature: number; cfgCoef: number };
  /** Who players show as the artist of its tracks (the artist setting, else the name). */
  artist: string;
  /** The range each track's length is drawn from, in seconds. */
  trackSeconds: { min: number; max: number };
  generationRealtimeFactor: number | null;
  fallback: boolean;
  listeners: number | { total: number };
  underruns: number;
  nowPlaying: NowPlaying | null;
  streamUrl: string;
}

export interface Preset {
  id: string;
  name?: string;
  label?: string;
  prompt: string;
}

export interface MoodEntry {
  prompt: string;
  promptVersion?: number;
  preset?: string;
  at?: string;
  changedAt?: string;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'lofi.token';

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (t: string): void => sessionStorage.setItem(TOKEN_KEY, t),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

async function parse<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiFailure(res.status, err?.code ?? 'HTTP_ERROR', err?.message ?? `HTTP ${res.status}`);
  }
  return body as T;
}

export async function getJson<T>(url: string): Promise<T> {
  return parse<T>(await fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' }));
}

export async function send<T>(method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const t = token.get();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return parse<T>(
    await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
  );
}

export const listenerCount = (l: StationView['listeners'] | undefined): number =>
  typeof l === 'number' ? l : (l?.total ?? 0);

export const coverOf = (stationId: string, seq?: number): string =>
  `/api/stations/${encodeURIComponent(stationId)}/cover.svg${seq === undefined ? '' : `?seq=${seq}`}`;
