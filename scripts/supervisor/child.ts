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
}

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
      stdio: ['ignore', 'inherit', 'inherit'],
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

  /** SIGTERM to the whole group; SIGKILL after the grace period. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const p = this.proc;
    if (!p?.pid) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-(p.pid as number), sig);
      } catch {
        // already gone
      }
    };
    signal('SIGTERM');
    const timeout = setTimeout(() => signal('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timeout);
    // Anything the child left in its group goes too.
    signal('SIGKILL');
  }
}
