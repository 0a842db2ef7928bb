// A real Icecast 2 server (Debian's icecast2) for tests and the fan-out benchmark: its own
// icecast.xml in a temp folder, a free port, its own passwords. Icecast refuses to run as root, so
// as root it is told to change to `nobody` (<changeowner>) once it has opened its port and logs.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from '../../scripts/supervisor/redis.ts';

export interface TestIcecast {
  port: number;
  /** http://127.0.0.1:port */
  url: string;
  sourcePassword: string;
  adminPassword: string;
  dir: string;
  pid(): number | undefined;
  /** The mount's listener URL. */
  mountUrl(mount: string): string;
  /** Stops the server (SIGTERM, then SIGKILL); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  errorLog(): string;
}

const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Why Icecast cannot be used here, or null when it can. Installs Debian's icecast2 when missing and
 * this process may (root with apt-get, as in CI; `npm test` and `npm run bench` install it first).
 */
export function icecastUnavailable(): string | null {
  if (onPath('icecast2')) return null;
  if (!isRoot() || !onPath('apt-get') || process.env.LOFI_NO_APT === '1') {
    return 'icecast2 is not installed and this is not root with apt-get: "sudo apt-get install -y icecast2"';
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'icecast2'], {
    env,
    encoding: 'utf8',
  });
  if (install.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { env });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'icecast2'], { env });
  }
  return onPath('icecast2') ? null : `apt-get could not install icecast2: ${install.stderr.slice(-300)}`;
}

function configXml(o: { port: number; dir: string; source: string; admin: string; clients: number }): string {
  // Under changeowner Icecast writes its logs as nobody: the folder must let it.
  const owner = isRoot() ? '<changeowner><user>nobody</user><group>nogroup</group></changeowner>' : '';
  return `<icecast>
  <location>test</location>
  <admin>test@localhost</admin>
  <hostname>127.0.0.1</hostname>
  <limits>
    <clients>${o.clients}</clients>
    <sources>8</sources>
    <queue-size>1048576</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout>
    <burst-on-connect>1</burst-on-connect>
    <burst-size>65536</burst-size>
  </limits>
  <authentication>
    <source-password>${o.source}</source-password>
    <relay-password>${o.source}</relay-password>
    <admin-user>admin</admin-user>
    <admin-password>${o.admin}</admin-password>
  </authentication>
  <listen-socket><port>${o.port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>1</fileserve>
  <paths>
    <basedir>/usr/share/icecast2</basedir>
    <logdir>${o.dir}</logdir>
    <webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot>
  </paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>
  <security><chroot>0</chroot>${owner}</security>
</icecast>
`;
}

export async function startIcecast(opts: { clients?: number } = {}): Promise<TestIcecast> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'lofi-icecast-'));
  chmodSync(dir, 0o777);
  const sourcePassword = randomBytes(9).toString('base64url');
  const adminPassword = randomBytes(9).toString('base64url');
  const file = path.join(dir, 'icecast.xml');
  writeFileSync(
    file,
    configXml({ port, dir, source: sourcePassword, admin: adminPassword, clients: opts.clients ?? 100 }),
  );
  let proc: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    const p = spawn('icecast2', ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
    let stderr = '';
    p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    proc = p;
    try {
      await waitForPort(port, 15_000);
    } catch (err) {
      p.kill('SIGKILL');
      throw new Error(`icecast2 did not start: ${String(err)} ${stderr.slice(-500)}`);
    }
  };
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const p = proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
      const kill = setTimeout(() => p.kill('SIGKILL'), 5000);
      p.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      p.kill('SIGTERM');
    });
  await start();
  const url = `http://127.0.0.1:${port}`;
  return {
    port,
    url,
    sourcePassword,
    adminPassword,
    dir,
    pid: () => proc?.pid,
    mountUrl: (mount) => `${url}${mount}`,
    stop,
    start,
    errorLog: () => {
      try {
        return readFileSync(path.join(dir, 'error.log'), 'utf8');
      } catch {
        return '';
      }
    },
  };
}

export interface MountStatus {
  listenurl: string;
  listeners: number;
  title?: string;
  server_name?: string;
  server_description?: string;
  genre?: string;
}

/** Icecast's view of a mount (status-json.xsl), or null while it has no source. */
export async function icecastMount(ice: TestIcecast, mount: string): Promise<MountStatus | null> {
  const res = await fetch(`${ice.url}/status-json.xsl`);
  const body = (await res.json()) as { icestats: { source?: MountStatus | MountStatus[] } };
  const raw = body.icestats.source;
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  return list.find((x) => x.listenurl.endsWith(mount)) ?? null;
}
