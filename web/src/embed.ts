// The embed player (/embed/:id?size=compact|card&theme=light|dark|transparent): a small player for
// other people's pages. It never starts on its own; the first tap plays.
import { $, h, stationIdFromPath } from './lib/dom.ts';
import { LiveFeed } from './lib/live.ts';
import { mountPlayer } from './lib/now-playing.ts';
import { RadioPlayer } from './lib/player.ts';

const SIZES = ['compact', 'card'] as const;
const THEMES = ['light', 'dark', 'transparent'] as const;

const q = new URLSearchParams(location.search);
const pick = <T extends string>(value: string | null, allowed: readonly T[], fallback: T): T =>
  allowed.includes(value as T) ? (value as T) : fallback;
const size = pick(q.get('size'), SIZES, 'card');
const theme = pick(q.get('theme'), THEMES, 'dark');
document.body.classList.add(`size-${size}`, `theme-${theme}`);

const stationId = stationIdFromPath() ?? 'lofi';
const feed = new LiveFeed(stationId);
const audio = h('audio', { preload: 'none' });
const player = new RadioPlayer(stationId, audio);
const ui = mountPlayer(feed, player, { volume: size === 'card' });
const link = h(
  'a',
  { class: 'open', href: `/stations/${encodeURIComponent(stationId)}`, target: '_blank', rel: 'noopener' },
  stationId,
);
feed.subscribe((s) => {
  if (link.textContent !== s.name) link.textContent = s.name;
});
$('#app').replaceChildren(
  h('div', { class: 'embed-frame' }, ui.root, h('p', { class: 'station-link' }, link), audio),
);
