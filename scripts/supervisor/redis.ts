// The private Redis of `npm start` (and of the tests): AOF on, so stations and the job chain survive
// a restart; bound to loopback; its files in DATA_DIR/redis. It goes when its supervisor goes,
// however that dies (SIGKILL included): Redis cannot watch its parent itself.
import { spawnSync } from 'node:child_process';
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

/**
 * How Redis learns that its supervisor died:
 * - `pdeathsig`: started through util-linux's `setpriv --pdeathsig TERM`, which asks the kernel
 *   (prctl PR_SET_PDEATHSIG, kept across exec) to send it SIGTERM when its parent dies. The
 *   signal comes when the parent's spawning *thread* ends: Node spawns on its main thread, which
 *   lives as long as the process. No extra process; Redis keeps its own pid.
 * - `pipe`: where setpriv is missing or too old (before util-linux 2.33: Alpine without the
 *   setpriv package, Ubuntu 18.04), a POSIX sh watcher is Redis's parent and reads the stdin pipe
 *   from the supervisor (ChildSpec.parentPipe): EOF means the supervisor is gone, and it stops
 *   Redis with SIGTERM.
 * Either way Redis flushes its AOF and exits. The stale-pid check (stopStaleRedis) stays for what
 * neither covers (a supervisor killed in the instant between fork and prctl).
 */
export type RedisWatch = 'pdeathsig' | 'pipe';

let pdeathsigWorks: boolean | undefined;
export function defaultRedisWatch(): RedisWatch {
  pdeathsigWorks ??=
    spawnSync('setpriv', ['--pdeathsig', 'TERM', '--', 'true'], { stdio: 'ignore' }).status === 0;
  return pdeathsigWorks ? 'pdeathsig' : 'pipe';
}

// $0: redis-server; "$@": its arguments. fd 3 keeps the supervisor's pipe for the watcher, since
// sh gives an asynchronous list /dev/null as its stdin. SIGTERM to the group (a normal stop)
// reaches Redis too; sh ignores it (trap) and waits, so the supervisor sees the exit only once
// Redis has flushed its AOF and is gone.
const PIPE_WATCHER = [
  'exec 3<&0',
  '"$0" "$@" </dev/null 3<&- &',
  'r=$!',
  '(read _ <&3; kill -TERM "$r" 2>/dev/null) &',
  'w=$!',
  'exec 3<&-',
  'trap \'kill -TERM "$r" 2>/dev/null\' TERM INT',
  's=0',
  'while kill -0 "$r" 2>/dev/null; do wait "$r"; s=$?; done',
  'kill "$w" 2>/dev/null',
  'exit "$s"',
].join('\n');

export function redisSpec(
  dataDir: string,
  port: number,
  persist: boolean,
  watch: RedisWatch = defaultRedisWatch(),
): ChildSpec {
  const dir = path.join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const server = [
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
  ];
  const watched =
    watch === 'pdeathsig'
      ? { cmd: 'setpriv', args: ['--pdeathsig', 'TERM', '--', 'redis-server', ...server] }
      : { cmd: 'sh', args: ['-c', PIPE_WATCHER, 'redis-server', ...server], parentPipe: true };
  // Its stop flushes the AOF: more time than a service's, and never near it in practice.
  return { name: 'redis', ...watched, env: process.env, cwd: dir, stopGraceMs: 5000 };
}

/** The pid Redis wrote (with the `pipe` watcher the supervised pid is the watcher's). */
export function redisPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(pidFile(dataDir), 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
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
