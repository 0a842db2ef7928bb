// `npm start`'s supervisor: starts the stack, prints where to listen, restarts what crashes, and
// stops every child on Ctrl-C or SIGTERM.
import { exitOnConfigError, onShutdown } from '@lofi/config';
import pino from 'pino';
import { startStack } from './stack.ts';

const log = pino({ name: 'supervisor' });
// startStack validates the configuration (and the port) before it starts any process.
const stack = await startStack({ log }).catch((err: unknown) => exitOnConfigError('npm start', err));

const { baseUrl, adminToken } = stack;
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

onShutdown(log, 'stopping every child', () => stack.stop());
