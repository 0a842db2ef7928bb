import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Preset {
  id: string;
  name: string;
  prompt: string;
}

const file = fileURLToPath(new URL('../presets/presets.json', import.meta.url));

/** The station presets, from the one data file. */
export const PRESETS: readonly Preset[] = (JSON.parse(readFileSync(file, 'utf8')) as { presets: Preset[] })
  .presets;

export function presetById(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}
