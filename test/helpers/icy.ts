// Reads the first StreamTitle from an ICY stream with `icecast-parser`, a real third-party client.
import { Parser } from 'icecast-parser';

export function icyTitle(url: string, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const parser = new Parser({ url, autoUpdate: false, keepListen: false, notifyOnChangeOnly: false });
    const timer = setTimeout(
      () => reject(new Error(`no ICY metadata from ${url} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    parser.on('metadata', (m) => {
      clearTimeout(timer);
      resolve(m.get('StreamTitle') ?? '');
    });
    parser.on('empty', () => {
      clearTimeout(timer);
      reject(new Error(`${url} sent no icy-metaint`));
    });
    parser.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
