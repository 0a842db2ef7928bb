// `npm start`: set up what is missing, then run the whole station under the supervisor.
import { setup } from './lib/setup.mjs';

setup({ needRedis: !process.env.REDIS_URL });
const { register } = await import('tsx/esm/api');
register();
await import('./supervisor/main.ts');
