// Where segments live. STORE_URL unset (or `file:`): the local folder DATA_DIR. STORE_URL=
// s3://bucket/optional/prefix: an S3-compatible bucket, with S3_ENDPOINT (a non-AWS server),
// S3_REGION, S3_ACCESS_KEY_ID + S3_SECRET_ACCESS_KEY (or the AWS SDK's default chain) and
// S3_FORCE_PATH_STYLE (default: on when S3_ENDPOINT is set). python-worker/src/lofi_worker/config.py
// reads the same variables with the same meaning: workers and streamers must agree on them.
// Error messages never repeat the secret key.
import { ConfigError } from './index.ts';

/** An S3-compatible bucket as the store: what @lofi/store's S3 adapter is built from. */
export interface S3Settings {
  bucket: string;
  /** Prepended to every key: '' or 'some/prefix/' (with the trailing slash). */
  prefix: string;
  /** An S3-compatible server (MinIO, Ceph, R2…); undefined: AWS itself. */
  endpoint: string | undefined;
  region: string;
  /** bucket in the path (http://host/bucket/key) rather than the host name; most non-AWS servers need it. */
  forcePathStyle: boolean;
  /** undefined: the SDK's default chain (environment, profile, instance role). */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
}

export type StoreConfig = { kind: 'local'; root: string } | ({ kind: 's3' } & S3Settings);

type Env = Readonly<Record<string, string | undefined>>;

const read = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v ? v : undefined;
};

// S3's rules for new buckets: 3-63 lower-case letters, digits, dots and hyphens.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_PART = /^[A-Za-z0-9._-]{1,128}$/;
const REGION = /^[a-z0-9-]{1,64}$/;

export function storeFrom(env: Env, dataDir: string): StoreConfig {
  const raw = read(env, 'STORE_URL');
  if (raw === undefined || raw === 'file:' || raw === 'file://') return { kind: 'local', root: dataDir };
  if (raw.startsWith('file:')) {
    throw new ConfigError(
      'STORE_URL',
      `file: takes no path; set DATA_DIR for the folder (got ${JSON.stringify(raw)})`,
    );
  }
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(raw);
  if (!m) {
    throw new ConfigError('STORE_URL', `must be file: or s3://bucket[/prefix] (got ${JSON.stringify(raw)})`);
  }
  const bucket = m[1] ?? '';
  if (!BUCKET.test(bucket)) {
    throw new ConfigError('STORE_URL', `bucket must be 3-63 of a-z 0-9 . - (got ${JSON.stringify(bucket)})`);
  }
  const parts = (m[2] ?? '').split('/').filter((p) => p !== '');
  const bad = parts.find((p) => !PREFIX_PART.test(p) || p === '.' || p === '..');
  if (bad !== undefined) {
    throw new ConfigError('STORE_URL', `prefix parts must be A-Z a-z 0-9 . _ - (got ${JSON.stringify(bad)})`);
  }
  const endpoint = s3Endpoint(env);
  const region = read(env, 'S3_REGION') ?? 'us-east-1';
  if (!REGION.test(region)) {
    throw new ConfigError(
      'S3_REGION',
      `must be a region name like us-east-1 (got ${JSON.stringify(region)})`,
    );
  }
  return {
    kind: 's3',
    bucket,
    prefix: parts.length ? `${parts.join('/')}/` : '',
    endpoint,
    region,
    forcePathStyle: pathStyle(env, endpoint !== undefined),
    credentials: credentials(env),
  };
}

function s3Endpoint(env: Env): string | undefined {
  const raw = read(env, 'S3_ENDPOINT');
  if (raw === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError('S3_ENDPOINT', `must be a URL like http://minio:9000 (got ${JSON.stringify(raw)})`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfigError('S3_ENDPOINT', `must use http: or https: (got ${u.protocol})`);
  }
  if (u.username || u.password) {
    throw new ConfigError(
      'S3_ENDPOINT',
      'must not carry credentials: use S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY',
    );
  }
  if (u.search || u.hash) throw new ConfigError('S3_ENDPOINT', 'must not have a query or fragment');
  return raw.replace(/\/+$/, '');
}

function pathStyle(env: Env, def: boolean): boolean {
  const raw = read(env, 'S3_FORCE_PATH_STYLE')?.toLowerCase();
  if (raw === undefined) return def;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(
    'S3_FORCE_PATH_STYLE',
    `must be 1/true/yes/on or 0/false/no/off (got ${JSON.stringify(raw)})`,
  );
}

function credentials(env: Env): { accessKeyId: string; secretAccessKey: string } | undefined {
  const accessKeyId = read(env, 'S3_ACCESS_KEY_ID');
  const secretAccessKey = read(env, 'S3_SECRET_ACCESS_KEY');
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (accessKeyId === undefined)
    throw new ConfigError('S3_ACCESS_KEY_ID', 'must be set with S3_SECRET_ACCESS_KEY');
  if (secretAccessKey === undefined) {
    throw new ConfigError('S3_SECRET_ACCESS_KEY', 'must be set with S3_ACCESS_KEY_ID');
  }
  return { accessKeyId, secretAccessKey };
}
