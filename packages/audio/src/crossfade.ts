// Crossfade gain law. Equal-power (cos/sin) keeps loudness steady when the two signals are
// unrelated (a mood change); but a head overlap re-renders the *same* bars as the tail it meets, and
// equal-power over two identical signals swells by 3 dB mid-fade. So the gains are normalised by the
// measured correlation r of the two overlapping regions:  a² + b² + 2·r·a·b = 1.
// r = 0 gives plain equal-power, r = 1 gives gains that sum to one (a seamless splice).

/** Pearson-style correlation at lag 0 over interleaved samples, clipped to [0, 1]. */
export function correlation(
  a: Float32Array,
  aStart: number,
  b: Float32Array,
  bStart: number,
  length: number,
): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  const n = Math.min(length, a.length - aStart, b.length - bStart);
  for (let i = 0; i < n; i++) {
    const x = a[aStart + i] ?? 0;
    const y = b[bStart + i] ?? 0;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  if (aa === 0 || bb === 0) return 0;
  return Math.max(0, Math.min(1, ab / Math.sqrt(aa * bb)));
}

/** Gains [out, in] at fade progress t in [0, 1] for signals of correlation r. */
export function crossfadeGains(t: number, r: number): [number, number] {
  const theta = (Math.PI / 2) * Math.max(0, Math.min(1, t));
  const a = Math.cos(theta);
  const b = Math.sin(theta);
  const norm = Math.sqrt(a * a + b * b + 2 * r * a * b);
  return [a / norm, b / norm];
}
