// First-run set-up shared by `npm start` and `npm test`, in plain Node (it runs before any npm
// package is installed): system packages, npm packages, the worker's Python environment.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const VENV = path.join(ROOT, 'python-worker', '.venv');
export const VENV_BIN = path.join(VENV, 'bin');

const say = (msg) => process.stderr.write(`[setup] ${msg}\n`);

export function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.status}`);
}

/** redis-server (unless an external REDIS_URL is used), ffmpeg and ffprobe. */
export function ensureSystemPackages({ needRedis }) {
  const wanted = [];
  if (needRedis && !onPath('redis-server')) wanted.push(['redis-server', 'redis-server']);
  if (!onPath('ffmpeg') || !onPath('ffprobe')) wanted.push(['ffmpeg', 'ffmpeg']);
  if (wanted.length === 0) return;
  const pkgs = [...new Set(wanted.map(([, p]) => p))];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get') || process.env.LOFI_NO_APT === '1') {
    say(
      `missing ${wanted.map(([c]) => c).join(', ')}: install them first, e.g. "sudo apt-get install -y ${pkgs.join(' ')}"`,
    );
    process.exit(1);
  }
  say(`installing ${pkgs.join(' ')} from the system's packages`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env });
}

/**
 * A Debian package some tests need, installed when root with apt and missing. Optional: without it
 * those tests skip (or, for CI-only checks, the caller decides). Returns whether it is there now.
 */
function ensureOptionalPackage({ present, pkg, purpose, without }) {
  if (present()) return true;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get') || process.env.LOFI_NO_APT === '1') {
    say(`${pkg} is missing, so ${without}: "sudo apt-get install -y ${pkg}"`);
    return false;
  }
  say(`installing ${pkg} from the system packages (${purpose})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], { stdio: 'inherit', env });
  if (install().status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    if (install().status !== 0) say(`apt-get could not install ${pkg}: ${without}`);
  }
  return present();
}

/** Debian's icecast2: tests of the Icecast push and the fan-out benchmark. */
export function ensureIcecast() {
  ensureOptionalPackage({
    present: () => onPath('icecast2'),
    pkg: 'icecast2',
    purpose: 'tests of the Icecast push',
    without: 'the Icecast tests will skip',
  });
}

/** Debian's chromium: browser tests of the web pages. */
export function ensureChromium() {
  ensureOptionalPackage({
    present: () => existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'),
    pkg: 'chromium',
    purpose: 'browser tests of the web pages',
    without: 'the web page tests will skip',
  });
}

/**
 * A Docker Compose that can validate docker-compose.yml (no engine needed): the `docker compose`
 * plugin, or Debian's docker-compose. Returns the command to run, or null.
 */
export function ensureCompose() {
  const plugin = () => spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;
  if (onPath('docker') && plugin()) return ['docker', 'compose'];
  const ok = ensureOptionalPackage({
    present: () => onPath('docker-compose'),
    pkg: 'docker-compose',
    purpose: 'validating docker-compose.yml',
    without: 'docker-compose.yml cannot be validated',
  });
  return ok ? ['docker-compose'] : null;
}

/** npm packages, when node_modules is missing or older than the lock file. */
export function ensureNodeModules() {
  const marker = path.join(ROOT, 'node_modules', '.package-lock.json');
  const lock = path.join(ROOT, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  say('installing npm packages');
  run('npm', [process.env.CI ? 'ci' : 'install', '--no-audit', '--no-fund']);
}

function findPython() {
  for (const cmd of ['python3.11', 'python3.12', 'python3.13', 'python3']) {
    if (!onPath(cmd)) continue;
    const v = execFileSync(cmd, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
      encoding: 'utf8',
    }).trim();
    const [major, minor] = v.split('.').map(Number);
    if (major === 3 && minor >= 11) return cmd;
  }
  say('Python 3.11 or newer is needed for the worker: install python3 (and python3-venv)');
  process.exit(1);
}

/**
 * The worker's optional extras. `musicgen` (torch + transformers, GBs) is installed for tests and
 * benchmarks, and for `npm start` only when a MusicGen worker is configured (any MUSICGEN_* variable).
 */
function wantedExtras() {
  const entry = path.basename(process.argv[1] ?? '');
  const musicgen = entry !== 'start.mjs' || Object.keys(process.env).some((k) => k.startsWith('MUSICGEN_'));
  return musicgen ? ['dev', 'musicgen'] : ['dev'];
}

/** The worker's virtual environment, rebuilt when pyproject.toml changes or an extra is missing. */
export function ensurePythonEnv() {
  const pyproject = path.join(ROOT, 'python-worker', 'pyproject.toml');
  const marker = path.join(VENV, '.installed');
  const hash = createHash('sha256').update(readFileSync(pyproject)).digest('hex');
  const extras = wantedExtras();
  // Marker: "<pyproject hash> <extras,...>"; an install with more extras satisfies fewer.
  const [doneHash, doneExtras = 'dev'] = existsSync(marker)
    ? readFileSync(marker, 'utf8').trim().split(' ')
    : [];
  const done = doneExtras.split(',');
  if (doneHash === hash && extras.every((e) => done.includes(e))) return;
  if (!existsSync(path.join(VENV_BIN, 'python'))) {
    say("creating the worker's Python environment (python-worker/.venv)");
    const py = findPython();
    const r = spawnSync(py, ['-m', 'venv', VENV], { stdio: 'inherit' });
    if (r.status !== 0) {
      say('python -m venv failed: on Debian/Ubuntu install python3-venv');
      process.exit(1);
    }
  }
  say(`installing the worker's Python packages (${extras.join(', ')})`);
  run(path.join(VENV_BIN, 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '-e',
    `./python-worker[${extras.join(',')}]`,
  ]);
  writeFileSync(marker, `${hash} ${extras.join(',')}`);
}

export function setup({ needRedis, needIcecast = false }) {
  ensureSystemPackages({ needRedis });
  if (needIcecast) ensureIcecast();
  ensureNodeModules();
  ensurePythonEnv();
}
