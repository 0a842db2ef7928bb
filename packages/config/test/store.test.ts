import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/index.ts';

test('no STORE_URL, or file:, is the DATA_DIR folder', () => {
  assert.deepEqual(loadConfig({}, '/srv').store, { kind: 'local', root: '/srv/data' });
  assert.deepEqual(loadConfig({ STORE_URL: 'file:', DATA_DIR: '/var/lofi' }, '/srv').store, {
    kind: 'local',
    root: '/var/lofi',
  });
  // S3 settings alone do not switch the store: STORE_URL does.
  assert.equal(loadConfig({ S3_ENDPOINT: 'http://minio:9000' }).store.kind, 'local');
});

test('s3:// with an endpoint: path style by default, explicit credentials', () => {
  const c = loadConfig({
    STORE_URL: 's3://lofi-segments/radio/prod/',
    S3_ENDPOINT: 'http://minio:9000/',
    S3_ACCESS_KEY_ID: 'AKIA1',
    S3_SECRET_ACCESS_KEY: 'secretkey',
  });
  assert.deepEqual(c.store, {
    kind: 's3',
    bucket: 'lofi-segments',
    prefix: 'radio/prod/',
    endpoint: 'http://minio:9000',
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'secretkey' },
  });
});

test('s3:// on AWS: virtual-hosted style, the default credential chain, no prefix', () => {
  const c = loadConfig({ STORE_URL: 's3://my.bucket', S3_REGION: 'eu-west-3' });
  assert.deepEqual(c.store, {
    kind: 's3',
    bucket: 'my.bucket',
    prefix: '',
    endpoint: undefined,
    region: 'eu-west-3',
    forcePathStyle: false,
    credentials: undefined,
  });
  const forced = loadConfig({
    STORE_URL: 's3://b12',
    S3_ENDPOINT: 'https://s3.example',
    S3_FORCE_PATH_STYLE: '0',
  });
  assert.equal(forced.store.kind === 's3' && forced.store.forcePathStyle, false);
});

test('bad store settings name the variable and never echo the secret', () => {
  const bad: Array<[Record<string, string>, string]> = [
    [{ STORE_URL: 'http://bucket' }, 'STORE_URL'],
    [{ STORE_URL: 'file:///srv/data' }, 'STORE_URL'],
    [{ STORE_URL: 's3://' }, 'STORE_URL'],
    [{ STORE_URL: 's3://Upper_Case' }, 'STORE_URL'],
    [{ STORE_URL: 's3://bucket/../x' }, 'STORE_URL'],
    [{ STORE_URL: 's3://bucket/a b' }, 'STORE_URL'],
    [{ STORE_URL: 's3://bucket', S3_ENDPOINT: 'minio:9000' }, 'S3_ENDPOINT'],
    [{ STORE_URL: 's3://bucket', S3_ENDPOINT: 'ftp://minio' }, 'S3_ENDPOINT'],
    [{ STORE_URL: 's3://bucket', S3_ENDPOINT: 'http://k:secretkey@minio' }, 'S3_ENDPOINT'],
    [{ STORE_URL: 's3://bucket', S3_REGION: 'Europe West' }, 'S3_REGION'],
    [{ STORE_URL: 's3://bucket', S3_FORCE_PATH_STYLE: 'maybe' }, 'S3_FORCE_PATH_STYLE'],
    [{ STORE_URL: 's3://bucket', S3_SECRET_ACCESS_KEY: 'secretkey' }, 'S3_ACCESS_KEY_ID'],
    [{ STORE_URL: 's3://bucket', S3_ACCESS_KEY_ID: 'AKIA1' }, 'S3_SECRET_ACCESS_KEY'],
  ];
  for (const [env, name] of bad) {
    assert.throws(
      () => loadConfig(env),
      (e: unknown) => e instanceof ConfigError && e.variable === name && !e.message.includes('secretkey'),
      JSON.stringify(env),
    );
  }
});
