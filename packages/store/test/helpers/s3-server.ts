// A real S3-protocol server for tests: moto's server (python-worker's dev extra) over HTTP on a
// free port. It is a separate process speaking S3 on a socket; the SDK and boto3 talk to it as to
// any S3-compatible endpoint.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { freePort, waitForPort } from '../../../../scripts/supervisor/redis.ts';
import { S3SegmentStore } from '../../src/index.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const VENV_BIN = path.join(REPO_ROOT, 'python-worker', '.venv', 'bin');
const MOTO = path.join(VENV_BIN, 'moto_server');

/** Credentials the test server accepts (moto accepts any). */
export const TEST_CREDENTIALS = { accessKeyId: 'test-key', secretAccessKey: 'test-secret' };

export interface TestS3 {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startS3(): Promise<TestS3> {
  if (!existsSync(MOTO)) {
    throw new Error(
      `no S3 test server: ${MOTO} is missing. Install the worker's dev extra: ` +
        "cd python-worker && .venv/bin/pip install -e '.[dev]' (npm test does this)",
    );
  }
  const port = await freePort();
  let output = '';
  const proc: ChildProcess = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (c: Buffer) => {
    output = (output + c.toString()).slice(-4000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const stop = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  const exited = new Promise<never>((_, reject) =>
    proc.once('exit', (code, signal) => reject(new Error(`moto_server exited (${code ?? signal})`))),
  );
  exited.catch(() => undefined);
  try {
    await Promise.race([waitForPort(port, 60_000), exited]);
  } catch (err) {
    await stop();
    throw new Error(`moto_server did not start on port ${port}: ${(err as Error).message}\n${output}`);
  }
  return { endpoint: `http://127.0.0.1:${port}`, stop };
}

/** A store on a fresh bucket of the test server. */
export async function s3Store(s3: TestS3, bucket: string, prefix = ''): Promise<S3SegmentStore> {
  const store = new S3SegmentStore({
    bucket,
    prefix,
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
  });
  await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
  return store;
}
