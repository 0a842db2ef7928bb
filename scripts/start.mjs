// `npm start`: set up what is missing, then run the whole station under the supervisor.
import { setup } from './lib/setup.mjs';

setup({ needRedis: !process.env.REDIS_URL });
// AudioCraft engine: the worker runs from its own environment (created once, a few GB).
if (process.env.MUSICGEN_ENGINE?.trim() === 'audiocraft') {
  const { ensureAudioCraftEnv } = await import('./lib/audiocraft-env.mjs');
  ensureAudioCraftEnv();
}
const { register } = await import('tsx/esm/api');
register();
await import('./supervisor/main.ts');
