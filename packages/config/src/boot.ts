// What every process does at boot and at the end: validate its configuration once (a bad value
// ends the process with a line naming the variable), and stop gracefully on Ctrl-C or SIGTERM.
import { ConfigError } from './index.ts';

/** A ConfigError ends the process with `<service>: <message>` and status 2; anything else is rethrown. */
export function exitOnConfigError(service: string, err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`${service}: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

/** Runs `load`, ending the process as above when the configuration is bad. */
export function configOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    return exitOnConfigError(service, err);
  }
}

interface InfoLog {
  info(obj: object, msg: string): void;
}

/** Longest a graceful close may take: closing waits on Redis, which may be the thing that is gone. */
export const SHUTDOWN_GRACE_MS = 8000;
/**
 * The same when the supervisor is gone: its private Redis went with it (redis.ts), so a close
 * still waiting after this only waits on Redis's reconnect attempts (with an external Redis the
 * close takes well under a second); nobody waits for this process any more.
 */
export const ORPHAN_GRACE_MS = 3000;

/**
 * On the first SIGINT or SIGTERM: log, run `close`, exit 0 (1 if closing failed, 1 as well if it
 * has not finished within SHUTDOWN_GRACE_MS, so a process never outlives its supervisor's stop).
 */
export function onShutdown(log: InfoLog, what: string, close: () => Promise<void>): void {
  let closing = false;
  const shutdown = (signal: string, graceMs = SHUTDOWN_GRACE_MS) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, what);
    setTimeout(() => process.exit(1), graceMs).unref();
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => shutdown(signal));
  // A supervisor killed with SIGKILL cannot stop its children: they notice they were re-parented
  // and stop themselves, instead of running on as orphans.
  // The supervisor's pid comes in the environment, so a process whose supervisor died while it was
  // still starting notices too; without it, the parent at start.
  const parent = Number(process.env.LOFI_SUPERVISOR_PID) || process.ppid;
  if (parent > 1) {
    setInterval(() => {
      if (process.ppid !== parent) shutdown('parent exited', ORPHAN_GRACE_MS);
    }, 2000).unref();
  }
}
