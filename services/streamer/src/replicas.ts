// What a replica can learn about another from the network: whether anything listens at its URL.
import net from 'node:net';

/**
 * True only when the host answers that nothing listens on the port (ECONNREFUSED): the process
 * behind a URL is gone. Timeouts and other errors prove nothing (a slow network), so they are false.
 */
export function refusesConnections(url: string, timeoutMs = 1000): Promise<boolean> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve(false);
  }
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const host = target.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (refused: boolean) => {
      socket.destroy();
      resolve(refused);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(false));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED'));
  });
}

/** The URL other replicas use to reach this one, when the operator did not set REPLICA_URL. */
export function defaultReplicaUrl(host: string, port: number, hostname: string): string {
  const reachable = host === '0.0.0.0' || host === '::' ? hostname : host;
  const h = reachable.includes(':') ? `[${reachable}]` : reachable;
  return `http://${h}:${port}`;
}
