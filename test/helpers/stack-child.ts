// Starts a test stack and prints its processes' pids as one JSON line, then waits: the orphan
// test kills this process with SIGKILL and checks that the stack's processes stop by themselves.
import { testStack, waitFor } from './stack.ts';

const stack = await testStack();
await waitFor(
  'the stack to play',
  async () => (await fetch(`${stack.baseUrl}/healthz`)).status === 200,
  90_000,
);
const pids = Object.fromEntries([...stack.children].map(([name, c]) => [name, c.pid]));
process.stdout.write(`PIDS ${JSON.stringify(pids)}\n`);
setInterval(() => undefined, 1 << 30);
