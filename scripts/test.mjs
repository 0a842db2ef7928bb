// `npm test`: set up what is missing, then lint, typecheck and run every test, TypeScript and
// Python, against real servers the tests start themselves. Node and Python suites run side by side.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ensureChromium, ensureCompose, ROOT, setup, VENV_BIN } from './lib/setup.mjs';

setup({ needRedis: true, needIcecast: true });
// Web pages — begin: the browser for test/e2e/pages.test.ts
ensureChromium();
// Web pages — end
const compose = ensureCompose();
// AudioCraft engine — begin: its own Python environment (python-worker/.venv-audiocraft, once)
const { ensureAudioCraftEnv, runAudioCraftTests } = await import('./lib/audiocraft-env.mjs');
ensureAudioCraftEnv();
// AudioCraft engine — end

const SKIP = new Set(['node_modules', '.git', 'data', 'python-worker', '.tmp']);
function findTests(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findTests(p, out);
    else if (e.name.endsWith('.test.ts')) out.push(path.relative(ROOT, p));
  }
  return out.sort();
}

/** Runs a command; resolves to its exit code. Output is buffered when `quiet` so suites don't interleave. */
function run(name, cmd, args, { cwd = ROOT, quiet = false, limitMinutes = 40, env = process.env } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const p = spawn(cmd, args, {
      cwd,
      stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
      env,
    });
    // A suite that hangs (a leaked handle) fails here instead of eating CI's whole time budget.
    const watchdog = setTimeout(() => {
      process.stdout.write(`[test] ${name}: still running after ${limitMinutes} min; killing it\n`);
      p.kill('SIGKILL');
    }, limitMinutes * 60_000);
    let buf = '';
    if (quiet) {
      p.stdout.on('data', (d) => (buf += d));
      p.stderr.on('data', (d) => (buf += d));
    }
    p.on('close', (code) => {
      clearTimeout(watchdog);
      if (quiet) process.stdout.write(buf);
      process.stdout.write(
        `[test] ${name}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
      );
      resolve(code ?? 1);
    });
  });
}

const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);
const py = (name) => path.join(VENV_BIN, name);
const worker = path.join(ROOT, 'python-worker');

const lint = [
  await run('biome', bin('biome'), ['check', '.']),
  await run('tsc', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']),
  // Web pages (DOM types) — begin
  await run('tsc web', bin('tsc'), ['-p', 'web/tsconfig.json', '--noEmit']),
  // Web pages — end
  await run('ruff check', py('ruff'), ['check', '.'], { cwd: worker }),
  await run('ruff format', py('ruff'), ['format', '--check', '.'], { cwd: worker }),
  await run('mypy', py('mypy'), ['src', 'tests'], { cwd: worker }),
  await composeConfig(),
];

/**
 * docker-compose.yml with every profile, validated by Compose itself (no engine needed). CI must
 * have Compose (set-up installs it); elsewhere a missing one is reported and skipped.
 */
async function composeConfig() {
  if (!compose) {
    process.stdout.write('[test] compose config: no docker compose here\n');
    return process.env.CI ? 1 : 0;
  }
  const [cmd, ...pre] = compose;
  const profiles = ['gpu', 'icecast', 'monitoring', 's3', 'replicas'].flatMap((p) => ['--profile', p]);
  // The file refuses to run without an admin token; any will do for checking its structure.
  const env = { ...process.env, ADMIN_TOKEN: process.env.ADMIN_TOKEN ?? 'compose-config-check-token' };
  return run('compose config', cmd, [...pre, ...profiles, 'config', '--quiet'], { env });
}

// `*.alone.test.ts` files load the machine on purpose (busy processes on every core): run
// together with the other suites they would starve those, and the others would load them past what
// they measure. They run after everything else, one at a time.
const all = findTests(ROOT);
const alone = all.filter((f) => f.endsWith('.alone.test.ts'));
const files = all.filter((f) => !alone.includes(f));
const [nodeCode, [pyCode, audioCraftCode]] = await Promise.all([
  // Two files at a time: the end-to-end suites each run whole stations (twenty in one of them) on
  // a 2-core CI machine, and more at once starve the playouts they are measuring.
  run('node tests', process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files]),
  run('pytest', py('pytest'), ['-q', '-p', 'no:cacheprovider'], { cwd: worker, quiet: true }).then(
    // AudioCraft engine — begin: its tests in its environment after the main pytest (not a third
    // CPU-heavy suite at once); any skip or no test fails
    async (code) => [code, await runAudioCraftTests({ quiet: true })],
    // AudioCraft engine — end
  ),
]);

const aloneCode =
  alone.length === 0
    ? 0
    : await run('node tests (alone)', process.execPath, [
        '--import',
        'tsx',
        '--test',
        '--test-concurrency=1',
        ...alone,
      ]);

const failed = [...lint, nodeCode, pyCode, audioCraftCode, aloneCode].some((c) => c !== 0);
process.exit(failed ? 1 : 0);
