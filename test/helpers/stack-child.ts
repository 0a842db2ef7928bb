// Starts a test stack and prints its processes' pids as one JSON line, then waits: the orphan
// test kills this process with SIGKILL and checks that the stack's processes stop by themselves.
import { testStack, waitFor } from './stack.ts';

// DATA_DIR from the environment, so the test can find this stack's Redis afterwards.
const stack = await testStack(process.env.DATA_DIR ? { DATA_DIR: process.env.DATA_DIR } : {});
await waitFor(
  'the stack to play',
  async () => (await fetch(`${stack.baseUrl}/healthz`)).status === 200,
  90_000,
);
const pids = Object.fromEntries([...stack.children].map(([name, c]) => [name, c.pid]));
process.stdout.write(`PIDS ${JSON.stringify(pids)}\n`);
setInterval(() => undefined, 1 << 30);
