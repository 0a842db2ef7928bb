// Measures what a listener would notice: silence runs and their length. Used by the tests that record
// the live stream and by the benchmarks, on mono PCM.

export interface AudioAnalysis {
  seconds: number;
  /** Longest run of windows below the silence threshold, in seconds. */
  longestSilenceSeconds: number;
  rmsDbfs: number;
}

export function analyse(
  mono: Float32Array,
  sampleRate: number,
  silenceDbfs = -60,
  windowSeconds = 0.05,
): AudioAnalysis {
  const win = Math.max(1, Math.round(sampleRate * windowSeconds));
  const threshold = 10 ** (silenceDbfs / 20);
  let run = 0;
  let longest = 0;
  let total = 0;
  for (let start = 0; start < mono.length; start += win) {
    const end = Math.min(mono.length, start + win);
    let sum = 0;
    for (let i = start; i < end; i++) {
      const v = mono[i] ?? 0;
      sum += v * v;
    }
    total += sum;
    const rms = Math.sqrt(sum / (end - start));
    if (rms < threshold) {
      run += end - start;
      longest = Math.max(longest, run);
    } else run = 0;
  }
  const rms = Math.sqrt(total / Math.max(1, mono.length));
  return {
    seconds: mono.length / sampleRate,
    longestSilenceSeconds: longest / sampleRate,
    rmsDbfs: rms > 0 ? 20 * Math.log10(rms) : -Infinity,
  };
}
