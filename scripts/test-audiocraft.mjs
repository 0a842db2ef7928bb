// `npm run test:audiocraft`: sets up python-worker/.venv-audiocraft (AudioCraft 1.3.0 on its own
// pins, once; a few GB) and runs the AudioCraft-engine tests there, printing pytest's summary.
import { ensureAudioCraftEnv, runAudioCraftTests } from './lib/audiocraft-env.mjs';

ensureAudioCraftEnv();
process.exit(await runAudioCraftTests());
