// A supervised child process: started in its own process group (so its ffmpeg or Python children
// go with it), restarted with backoff when it dies, stopped with SIGTERM then SIGKILL.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Logger } from 'pino';

export interface ChildSpec {
  name: string;
  cmd: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /**
   * Standard input is a pipe from the supervisor that is never written: the child sees EOF when
   * the supervisor is gone, however it died (SIGKILL included). Redis's watcher uses it (redis.ts).
   */
  parentPipe?: boolean;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
}

/**
 * A service's stop takes well under a second (the streamer's HLS flush and lease release, a
 * worker's grace for the job in hand): past this it is stuck, and `npm start`'s whole stop must
 * stay under 3 s.
 */
export const STOP_GRACE_MS = 2500;

export class SupervisedChild {
  private proc: ChildProcess | null = null;
  private stopping = false;
  private restarts = 0;
  private startedAt = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly spec: ChildSpec,
    private readonly log: Logger,
  ) {}

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  start(): void {
    this.stopping = false;
    this.startedAt = Date.now();
    const p = spawn(this.spec.cmd, this.spec.args, {
      cwd: this.spec.cwd,
      // Children compare their parent with this, so one whose supervisor died while it was still
      // starting stops too (its parent is already init by the time it looks).
      env: { ...this.spec.env, LOFI_SUPERVISOR_PID: String(process.pid) },
      stdio: [this.spec.parentPipe ? 'pipe' : 'ignore', 'inherit', 'inherit'],
      detached: true,
    });
    this.proc = p;
    this.log.info({ child: this.spec.name, pid: p.pid }, 'child started');
    p.on('exit', (code, signal) => {
      if (this.proc !== p) return;
      this.proc = null;
      if (this.stopping) return;
      // A child that ran a while before dying gets a fresh backoff.
      if (Date.now() - this.startedAt > 60_000) this.restarts = 0;
      const delay = Math.min(30_000, 500 * 2 ** this.restarts++);
      this.log.error({ child: this.spec.name, code, signal, restartInMs: delay }, 'child exited; restarting');
      this.timer = setTimeout(() => this.start(), delay);
    });
  }

  /** Sends a signal to the whole group without stopping supervision (a crash, as far as it knows). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    const pid = this.proc?.pid;
    if (pid) process.kill(-pid, signal);
  }

  /** SIGTERM to the whole group; SIGKILL after the grace period. Logs how long it took. */
  async stop(graceMs = this.spec.stopGraceMs ?? STOP_GRACE_MS): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const p = this.proc;
    if (!p?.pid) return;
    const started = performance.now();
    let killed = false;
    const exited = new Promise<void>((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) resolve();
      else p.once('exit', () => resolve());
    });
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-(p.pid as number), sig);
      } catch {
        // already gone
      }
    };
    signal('SIGTERM');
    const timeout = setTimeout(() => {
      killed = true;
      signal('SIGKILL');
    }, graceMs);
    await exited;
    clearTimeout(timeout);
    // Anything the child left in its group goes too.
    signal('SIGKILL');
    const ms = Math.round(performance.now() - started);
    const fields = { child: this.spec.name, pid: p.pid, ms, code: p.exitCode, signal: p.signalCode };
    if (killed) this.log.warn({ ...fields, graceMs }, 'child stopped with SIGKILL after its grace');
    else this.log.info(fields, 'child stopped');
  }
}
