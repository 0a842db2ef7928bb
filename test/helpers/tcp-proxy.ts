// A TCP proxy in its own process between two parts of a test (a follower replica and its leader),
// to be frozen with SIGSTOP: a network black hole, not a refusal (tcp-proxy-process.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../scripts/supervisor/redis.ts';
import { ROOT } from '../../scripts/supervisor/stack.ts';

export interface TcpProxy {
  port: number;
  url: string;
  proc: ChildProcess;
  /** Freezes the proxy (SIGSTOP): connections still open, nothing passes. */
  freeze(): void;
  thaw(): void;
  kill(): void;
}

export async function startTcpProxy(targetPort: number, port?: number): Promise<TcpProxy> {
  const listen = port ?? (await freePort());
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(import.meta.dirname, 'tcp-proxy-process.ts'),
      String(listen),
      String(targetPort),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`tcp proxy exited (${code}) before listening`)));
  });
  const signal = (s: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(s);
  };
  return {
    port: listen,
    url: `http://127.0.0.1:${listen}`,
    proc,
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    kill: () => {
      signal('SIGCONT');
      signal('SIGKILL');
    },
  };
}
