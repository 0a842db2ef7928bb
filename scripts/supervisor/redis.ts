// The private Redis of `npm start` (and of the tests): AOF on, so stations and the job chain survive
// a restart; bound to loopback; its files in DATA_DIR/redis.
import { mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { ChildSpec } from './child.ts';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export function redisSpec(dataDir: string, port: number, persist: boolean): ChildSpec {
  const dir = path.join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  return {
    name: 'redis',
    cmd: 'redis-server',
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      persist ? 'yes' : 'no',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
      '--loglevel',
      'warning',
      '--pidfile',
      pidFile(dataDir),
    ],
    env: process.env,
    cwd: dir,
  };
}

const pidFile = (dataDir: string): string => path.join(dataDir, 'redis', 'redis.pid');

/**
 * Stops a Redis left running on this DATA_DIR by a supervisor that was killed (SIGKILL leaves no
 * chance to stop it): two servers must never share one AOF. SIGTERM lets it flush the AOF first.
 */
export async function stopStaleRedis(dataDir: string, timeoutMs = 10_000): Promise<number | null> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(dataDir), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) return null;
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server')) return null;
  } catch {
    return null; // no pid file, or no such process
  }
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(pid, 'SIGKILL');
  return pid;
}

/** True when nothing listens on host:port yet. */
export function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** Resolves once something accepts connections on the port. */
export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
}
