// The AudioCraft engine's Python environment, python-worker/.venv-audiocraft: AudioCraft 1.3.0 on
// its own pins (torch 2.1.0, numpy < 2, ...), beside the worker's main .venv, which has current
// torch/transformers. Created once; reinstalled only when the lock files or pyproject.toml change
// (a marker holds their hash). Plain Node, like setup.mjs.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './setup.mjs';

export const AC_VENV = path.join(ROOT, 'python-worker', '.venv-audiocraft');
export const AC_BIN = path.join(AC_VENV, 'bin');
const LOCKS = ['requirements-audiocraft.txt', 'requirements-audiocraft-dev.txt', 'pyproject.toml'].map((f) =>
  path.join(ROOT, 'python-worker', f),
);
const MARKER = path.join(AC_VENV, '.installed');

const say = (msg) => process.stderr.write(`[audiocraft-env] ${msg}\n`);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.status}`);
}

function lockHash() {
  const h = createHash('sha256');
  for (const f of LOCKS) h.update(readFileSync(f));
  return h.digest('hex');
}

/** Whether the environment exists and matches the lock files (no install is attempted). */
export function audioCraftEnvReady() {
  return existsSync(MARKER) && readFileSync(MARKER, 'utf8').trim() === lockHash();
}

/**
 * Creates or updates the environment. AudioCraft needs Python 3.11 (torch 2.1.0 has no wheels for
 * newer Pythons). Every package comes from the lock files with --no-deps, so pip never resolves
 * AudioCraft's pins; the worker itself is then installed editable, its deps checked against the
 * same pins (a dependency added to pyproject.toml later is resolved within them).
 */
export function ensureAudioCraftEnv() {
  const hash = lockHash();
  if (existsSync(MARKER) && readFileSync(MARKER, 'utf8').trim() === hash) return AC_BIN;
  const started = Date.now();
  if (!existsSync(path.join(AC_BIN, 'python'))) {
    if (spawnSync('python3.11', ['--version'], { stdio: 'ignore' }).status !== 0) {
      throw new Error(
        'the AudioCraft environment needs python3.11 (torch 2.1.0 has no wheels for other versions)',
      );
    }
    say('creating python-worker/.venv-audiocraft (AudioCraft 1.3.0, torch 2.1.0: a few GB, once)');
    run('python3.11', ['-m', 'venv', AC_VENV]);
  }
  const pip = path.join(AC_BIN, 'pip');
  const quiet = ['--quiet', '--disable-pip-version-check'];
  try {
    run(pip, ['install', ...quiet, '--no-deps', '-r', LOCKS[0], '-r', LOCKS[1]]);
    run(pip, ['install', ...quiet, '-c', LOCKS[0], '-c', LOCKS[1], '-e', './python-worker[dev]']);
    // The import a worker makes at start: fails here, not in the first job, on a broken install.
    run(path.join(AC_BIN, 'python'), ['-c', 'import audiocraft.models, lofi_worker.cli']);
  } catch (err) {
    rmSync(MARKER, { force: true });
    throw err;
  }
  writeFileSync(MARKER, hash);
  say(`ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return AC_BIN;
}

/**
 * Runs the AudioCraft-engine tests (python-worker/tests/test_audiocraft*.py) in this environment
 * and resolves to an exit code. Here every one of them must run: "no tests collected" (pytest's
 * exit 5) or any skip fails the suite, since a skip would mean the environment is broken.
 */
export function runAudioCraftTests({ quiet = false } = {}) {
  const tests = readdirSync(path.join(ROOT, 'python-worker', 'tests'))
    .filter((f) => /^test_audiocraft.*\.py$/.test(f))
    .sort()
    .map((f) => `tests/${f}`);
  return new Promise((resolve) => {
    const started = Date.now();
    const p = spawn(path.join(AC_BIN, 'pytest'), ['-q', '-rs', '-p', 'no:cacheprovider', ...tests], {
      cwd: path.join(ROOT, 'python-worker'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    const take = (d) => {
      buf += d;
      if (!quiet) process.stdout.write(d);
    };
    p.stdout.on('data', take);
    p.stderr.on('data', take);
    p.on('close', (code) => {
      if (quiet) process.stdout.write(buf);
      const summary = buf.trim().split('\n').at(-1) ?? '';
      let rc = code ?? 1;
      let why = '';
      if (tests.length === 0 || rc === 5) [rc, why] = [1, ': no AudioCraft tests ran'];
      else if (rc === 0 && /\bskipped\b/.test(summary))
        [rc, why] = [1, ': tests were skipped in the AudioCraft environment'];
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(
        `[test] pytest (audiocraft): ${rc === 0 ? 'ok' : `FAILED (exit ${rc})${why}`} in ${secs} s\n`,
      );
      resolve(rc);
    });
  });
}
