// `npm start`'s supervisor: starts the stack, prints where to listen, restarts what crashes, and
// stops every child on Ctrl-C or SIGTERM.
import { ConfigError } from '@lofi/config';
import pino from 'pino';
import { startStack } from './stack.ts';

const log = pino({ name: 'supervisor' });
let stack: Awaited<ReturnType<typeof startStack>>;
try {
  stack = await startStack({ log });
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`npm start: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

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

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'stopping every child');
    void stack.stop().then(() => process.exit(0));
  });
}
