import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

/** Cross-service nudges over Redis pub/sub. They only speed things up: every consumer also polls. */
export type RadioEvent =
  | { type: 'segment'; stationId: string; seq: number }
  | { type: 'mood'; stationId: string; promptVersion: number }
  | { type: 'station'; stationId: string };

export async function publish(redis: Redis, keys: Keys, event: RadioEvent): Promise<void> {
  await redis.publish(keys.events(), JSON.stringify(event));
}

/** Subscribes on a dedicated connection (a subscribed ioredis connection can do nothing else). */
export async function subscribe(sub: Redis, keys: Keys, onEvent: (e: RadioEvent) => void): Promise<void> {
  sub.on('message', (channel: string, message: string) => {
    if (channel !== keys.events()) return;
    try {
      onEvent(JSON.parse(message) as RadioEvent);
    } catch {
      // A malformed event is ignored: polling covers for it.
    }
  });
  await sub.subscribe(keys.events());
}
