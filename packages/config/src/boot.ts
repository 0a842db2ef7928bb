// What every process does at boot and at the end: validate its configuration once (a bad value
// ends the process with a line naming the variable), and stop gracefully on Ctrl-C or SIGTERM.
import { ConfigError } from './index.ts';

/** Runs `load`; on a ConfigError prints `<service>: <message>` and exits with status 2. */
export function configOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

interface InfoLog {
  info(obj: object, msg: string): void;
}

/** On the first SIGINT or SIGTERM: log, run `close`, exit 0 (1 if closing failed). */
export function onShutdown(log: InfoLog, what: string, close: () => Promise<void>): void {
  let closing = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (closing) return;
      closing = true;
      log.info({ signal }, what);
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
