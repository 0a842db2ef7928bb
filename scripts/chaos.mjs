// `npm run chaos`: the long form of the chaos suite (all workers gone for two minutes, an hour of
// soak with 200 listeners), then one table of what listeners noticed in docs/CHAOS.md.
// `CHAOS_FULL=0 npm run chaos` runs the short form that `npm test` runs in CI.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, setup } from './lib/setup.mjs';

setup({ needRedis: true });
mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
const report = path.join(ROOT, '.tmp/chaos.jsonl');
rmSync(report, { force: true });
const full = process.env.CHAOS_FULL ?? '1';
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', 'test/chaos/chaos.test.ts'], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, CHAOS_FULL: full, CHAOS_REPORT: report },
});
const rows = existsSync(report)
  ? readFileSync(report, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  : [];
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const header = `Machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; ${new Date().toISOString().slice(0, 10)}; ${full === '1' ? 'long form' : 'short form'}; suite ${run.status === 0 ? 'passed' : 'FAILED'}`;
const table = [
  '| fault | window (s) | silence (s) | stall (s) | listeners lost | jobs lost | jobs duplicated | what happened |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${r.seconds} | ${r.silenceSeconds} | ${r.stallSeconds} | ${r.listenersLost} | ${r.jobsLost} | ${r.jobsDuplicated} | ${r.notes.replace(/\|/g, '/')} |`,
  ),
].join('\n');
process.stdout.write(`\n${header}\n\n${table}\n`);
const file = path.join(ROOT, 'docs/CHAOS.md');
const start = '<!-- chaos:begin -->';
const end = '<!-- chaos:end -->';
const doc = readFileSync(file, 'utf8');
const i = doc.indexOf(start);
const j = doc.indexOf(end);
if (i >= 0 && j > i)
  writeFileSync(file, `${doc.slice(0, i + start.length)}\n${header}\n\n${table}\n${doc.slice(j)}`);
process.exit(run.status ?? 1);
