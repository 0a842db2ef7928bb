// Optional push of stations to an existing Icecast 2 server as its source client. Either one URL
// with the credentials in it (ICECAST_PUSH_URL=http://source:password@host:8000/lofi.mp3) or the
// parts (ICECAST_URL, ICECAST_MOUNT, ICECAST_SOURCE_USER, ICECAST_SOURCE_PASSWORD).
// ICECAST_PUSH_STATION names the station pushed (default: the default station, lofi), or `*` for
// every station, each to /<stationId>.mp3. Error messages never repeat the password.
import { ConfigError } from './index.ts';

export interface IcecastPush {
  /** `http(s)://host:port` of the server, without credentials or path. */
  server: string;
  user: string;
  password: string;
  /** The mount of `station`; unused when every station is pushed (each goes to /<id>.mp3). */
  mount: string;
  /** The station pushed, or '*' for all of them. */
  station: string;
  /** Ice-Public: whether Icecast may list the stream in its directory. */
  public: boolean;
}

const MOUNT = /^\/[A-Za-z0-9._~-]{1,100}$/;
const STATION = /^(\*|[A-Za-z0-9_-]{1,64})$/;

type Env = Readonly<Record<string, string | undefined>>;

const read = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v ? v : undefined;
};

function parseServer(name: string, raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(name, 'must be a URL like http://source:password@host:8000/lofi.mp3');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfigError(name, `must use http: or https: (got ${u.protocol})`);
  }
  if (u.search || u.hash) throw new ConfigError(name, 'must not have a query or fragment');
  return u;
}

export function icecastPushFrom(env: Env, defaultStation: string): IcecastPush | undefined {
  const pushUrl = read(env, 'ICECAST_PUSH_URL');
  const partsUrl = read(env, 'ICECAST_URL');
  if (!pushUrl && !partsUrl) return undefined;
  if (pushUrl && partsUrl)
    throw new ConfigError('ICECAST_PUSH_URL', 'and ICECAST_URL are exclusive: set one');
  const name = pushUrl ? 'ICECAST_PUSH_URL' : 'ICECAST_URL';
  const u = parseServer(name, (pushUrl ?? partsUrl) as string);
  const user = decodeURIComponent(u.username) || read(env, 'ICECAST_SOURCE_USER') || 'source';
  const password = decodeURIComponent(u.password) || read(env, 'ICECAST_SOURCE_PASSWORD');
  if (!password) {
    throw new ConfigError(
      pushUrl ? name : 'ICECAST_SOURCE_PASSWORD',
      pushUrl ? 'must carry the source password (http://source:password@host:port/mount)' : 'must be set',
    );
  }
  const station = read(env, 'ICECAST_PUSH_STATION') ?? defaultStation;
  if (!STATION.test(station)) {
    throw new ConfigError(
      'ICECAST_PUSH_STATION',
      `must be a station id or * (got ${JSON.stringify(station)})`,
    );
  }
  const mountVar = pushUrl ? name : 'ICECAST_MOUNT';
  const given = pushUrl ? (u.pathname === '/' ? undefined : u.pathname) : read(env, 'ICECAST_MOUNT');
  if (given !== undefined && !MOUNT.test(given)) {
    throw new ConfigError(mountVar, `mount must be like /lofi.mp3 (got ${JSON.stringify(given)})`);
  }
  if (given !== undefined && station === '*') {
    throw new ConfigError(
      mountVar,
      'must not name a mount when ICECAST_PUSH_STATION=* (each station uses /<id>.mp3)',
    );
  }
  const pub = read(env, 'ICECAST_PUBLIC') ?? '0';
  if (pub !== '0' && pub !== '1')
    throw new ConfigError('ICECAST_PUBLIC', `must be 0 or 1 (got ${JSON.stringify(pub)})`);
  return {
    server: `${u.protocol}//${u.host}`,
    user,
    password,
    mount: given ?? `/${station === '*' ? defaultStation : station}.mp3`,
    station,
    public: pub === '1',
  };
}
