// Cover art: a calm picture drawn from a segment's title and mood, the same picture every time.
// Mood words pick the palette and motifs (rain, stars, snow); the title seeds the shapes. No text is
// drawn, so nothing the owner typed ever reaches the SVG markup.

interface Palette {
  sky: [string, string, string];
  glow: string;
  blobs: [string, string];
  hills: [string, string, string];
  motif: 'none' | 'rain' | 'stars' | 'snow';
}

type Theme = { words: RegExp; palette: Palette };

const THEMES: Theme[] = [
  {
    words: /rain|storm|drizzle|monsoon|雨/i,
    palette: {
      sky: ['#3d4a63', '#5d6b84', '#8a8fa3'],
      glow: '#c9d3e6',
      blobs: ['#7c8db0', '#a59ab8'],
      hills: ['#34405a', '#2a334a', '#1f2638'],
      motif: 'rain',
    },
  },
  {
    words: /sleep|dream|lullab|睡|梦/i,
    palette: {
      sky: ['#1c1838', '#2f2657', '#5a4479'],
      glow: '#e9dcc3',
      blobs: ['#5b4a8c', '#8a5f8f'],
      hills: ['#261f45', '#1d1836', '#141128'],
      motif: 'stars',
    },
  },
  {
    words: /snow|winter|frost|雪|冬/i,
    palette: {
      sky: ['#8fa7c4', '#b9c8da', '#e3e6ee'],
      glow: '#fff6e6',
      blobs: ['#c9d6e8', '#e8d8e0'],
      hills: ['#7d93ae', '#627891', '#4b5f77'],
      motif: 'snow',
    },
  },
  {
    words: /night|midnight|late|study|moon|star|夜|学习|月/i,
    palette: {
      sky: ['#1b1f3b', '#3a335e', '#7b5a7e'],
      glow: '#f5d9a6',
      blobs: ['#5f4b8b', '#b0708a'],
      hills: ['#2a2546', '#201c37', '#16132a'],
      motif: 'stars',
    },
  },
  {
    words: /caf[eé]|coffee|jazz|bar|piano|咖啡|爵士|钢琴/i,
    palette: {
      sky: ['#4a2f2a', '#8a5a40', '#d69a62'],
      glow: '#ffd9a0',
      blobs: ['#b8734a', '#e0a872'],
      hills: ['#5a3a2e', '#43291f', '#2e1c16'],
      motif: 'none',
    },
  },
  {
    words: /autumn|fall|forest|leaf|wood|秋|森林|树/i,
    palette: {
      sky: ['#5c3b2e', '#a8643c', '#e3a25f'],
      glow: '#ffe0a3',
      blobs: ['#c0703d', '#8f8a4a'],
      hills: ['#4f4a2c', '#3b3822', '#2a2818'],
      motif: 'none',
    },
  },
  {
    words: /sun|morning|summer|beach|sea|ocean|早|晨|阳光|夏|海/i,
    palette: {
      sky: ['#f2b48a', '#f7cf9c', '#fbe8c6'],
      glow: '#fff3d6',
      blobs: ['#f19d7a', '#f6c07f'],
      hills: ['#d58a6e', '#b86f5c', '#8f5449'],
      motif: 'none',
    },
  },
];

/** A warm dusk for moods that name nothing above; a few variants so stations differ. */
const DUSKS: Palette[] = [
  {
    sky: ['#3b2740', '#8c4f5e', '#e39a74'],
    glow: '#ffd6a1',
    blobs: ['#c46a6a', '#e8a477'],
    hills: ['#4a2c3f', '#361f30', '#241522'],
    motif: 'none',
  },
  {
    sky: ['#2d2a45', '#6c4d6e', '#d7927a'],
    glow: '#ffe1b0',
    blobs: ['#9a5f86', '#e0a07e'],
    hills: ['#3a2d4a', '#2a2138', '#1c1628'],
    motif: 'stars',
  },
  {
    sky: ['#324049', '#6f7a6a', '#d9b48a'],
    glow: '#fff0cf',
    blobs: ['#a7946c', '#d8a57a'],
    hills: ['#3a4640', '#2c3631', '#1f2723'],
    motif: 'none',
  },
];

/** FNV-1a: a stable seed from text (not for security). */
function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (const ch of text) {
    h ^= ch.codePointAt(0) ?? 0;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** mulberry32: a small deterministic PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function paletteFor(mood: string, seed: number): Palette {
  for (const t of THEMES) if (t.words.test(mood)) return t.palette;
  return DUSKS[seed % DUSKS.length] as Palette;
}

const f = (n: number): string => n.toFixed(1);

/** A smooth ridge across the picture, closed at the bottom. */
function ridge(r: () => number, baseY: number, amp: number): string {
  const waves = [1 + r() * 1.5, 2.5 + r() * 2, 5 + r() * 3];
  const phases = waves.map(() => r() * Math.PI * 2);
  const pts: string[] = [];
  for (let x = 0; x <= 512; x += 16) {
    let y = baseY;
    waves.forEach((w, i) => {
      y += (Math.sin((x / 512) * Math.PI * w + (phases[i] ?? 0)) * amp) / (i + 1);
    });
    pts.push(`${f(x)},${f(y)}`);
  }
  return `M0,512 L${pts.join(' L')} L512,512 Z`;
}

/** The SVG for a title and mood. Deterministic: the same inputs give the same bytes. */
export function renderCover(title: string, mood: string): string {
  const seed = seedOf(`${title}\n${mood}`);
  const r = rng(seed);
  const p = paletteFor(mood, seedOf(mood));
  const glowX = 110 + r() * 292;
  const glowY = 110 + r() * 120;
  const glowR = 46 + r() * 30;
  const blobs = p.blobs
    .map((c, i) => {
      const x = r() * 512;
      const y = 60 + r() * 260;
      const rad = 90 + r() * 90;
      return `<circle cx="${f(x)}" cy="${f(y)}" r="${f(rad)}" fill="${c}" opacity="${(0.35 + i * 0.1).toFixed(2)}" filter="url(#soft)"/>`;
    })
    .join('');
  const hills = p.hills
    .map((c, i) => `<path d="${ridge(r, 330 + i * 55, 34 - i * 6)}" fill="${c}"/>`)
    .join('');
  let motif = '';
  if (p.motif === 'stars') {
    for (let i = 0; i < 40; i++) {
      const rad = 0.6 + r() * 1.4;
      motif += `<circle cx="${f(r() * 512)}" cy="${f(r() * 300)}" r="${f(rad)}" fill="#fff8e8" opacity="${(0.3 + r() * 0.6).toFixed(2)}"/>`;
    }
  } else if (p.motif === 'rain') {
    for (let i = 0; i < 70; i++) {
      const x = r() * 560;
      const y = r() * 512;
      const len = 14 + r() * 22;
      motif += `<line x1="${f(x)}" y1="${f(y)}" x2="${f(x - len * 0.25)}" y2="${f(y + len)}"/>`;
    }
    motif = `<g stroke="#dfe7f5" stroke-width="1.2" stroke-linecap="round" opacity="0.35">${motif}</g>`;
  } else if (p.motif === 'snow') {
    for (let i = 0; i < 60; i++) {
      motif += `<circle cx="${f(r() * 512)}" cy="${f(r() * 512)}" r="${f(1 + r() * 2.2)}" fill="#ffffff" opacity="${(0.4 + r() * 0.5).toFixed(2)}"/>`;
    }
  }
  return [
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" width="512" height="512">',
    '<defs>',
    `<linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${p.sky[0]}"/>`,
    `<stop offset="0.55" stop-color="${p.sky[1]}"/><stop offset="1" stop-color="${p.sky[2]}"/></linearGradient>`,
    `<radialGradient id="glow"><stop offset="0" stop-color="${p.glow}" stop-opacity="0.95"/>`,
    `<stop offset="0.45" stop-color="${p.glow}" stop-opacity="0.85"/><stop offset="1" stop-color="${p.glow}" stop-opacity="0"/></radialGradient>`,
    '<filter id="soft" x="-50%" y="-50%" width="200%" height="200%"><feGaussianBlur stdDeviation="40"/></filter>',
    '<filter id="grain"><feTurbulence type="fractalNoise" baseFrequency="0.85" numOctaves="2" stitchTiles="stitch"/>',
    '<feColorMatrix type="saturate" values="0"/></filter>',
    '</defs>',
    '<rect width="512" height="512" fill="url(#sky)"/>',
    blobs,
    `<circle cx="${f(glowX)}" cy="${f(glowY)}" r="${f(glowR * 2.6)}" fill="url(#glow)" opacity="0.55"/>`,
    `<circle cx="${f(glowX)}" cy="${f(glowY)}" r="${f(glowR)}" fill="${p.glow}" opacity="0.9"/>`,
    motif,
    hills,
    '<rect width="512" height="512" filter="url(#grain)" opacity="0.13" style="mix-blend-mode:overlay"/>',
    '</svg>',
  ].join('');
}
