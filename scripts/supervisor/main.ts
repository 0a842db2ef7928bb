// `npm start`'s supervisor: starts the stack, prints where to listen, restarts what crashes, and
// stops every child on Ctrl-C or SIGTERM.
import { exitOnConfigError, onShutdown } from '@lofi/config';
import pino from 'pino';
import type { SupervisedChild } from './child.ts';
import { type Stack, startStack, stopChildren } from './stack.ts';

const log = pino({ name: 'supervisor' });
// Ctrl-C or SIGTERM while the stack is still starting stops what already runs, and starts no more.
const children = new Map<string, SupervisedChild>();
const starting = new AbortController();
onShutdown(log, 'stopping every child', async () => {
  starting.abort(new Error('stopped while starting'));
  await stopChildren(children);
});
// startStack validates the configuration (and the port) before it starts any process.
const stack = await startStack({ log, children, signal: starting.signal }).catch((err: unknown) =>
  // Stopped while starting: the shutdown handler ends the process once the children are gone.
  starting.signal.aborted ? null : exitOnConfigError('npm start', err),
);
if (stack && !starting.signal.aborted) banner(stack);

function banner({ baseUrl, adminToken }: Stack): void {
  const generated = !process.env.ADMIN_TOKEN;
  process.stdout.write(
    [
      '',
      '  Endless Lo-Fi Radio is on air.',
      `  Listen:  ${baseUrl}/`,
      `  Stream:  ${baseUrl}/stations/lofi/stream.mp3`,
      generated
        ? `  Admin token (generated; set ADMIN_TOKEN to keep one): ${adminToken}`
        : '  Admin token: $ADMIN_TOKEN',
      `  Change the mood: curl -X PUT -H "authorization: Bearer ${generated ? adminToken : '$ADMIN_TOKEN'}" -H 'content-type: application/json' \\`,
      `                   -d '{"prompt":"rainy-day slow jazz"}' ${baseUrl}/api/stations/lofi/mood`,
      '',
      '',
    ].join('\n'),
  );
}
