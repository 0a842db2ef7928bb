// The listen pages: `/` lists the stations, `/stations/:id` plays one.
import { coverOf, getJson, listenerCount, type NowPlaying, type StationView } from './lib/api.ts';
import { $, ago, clock, h, setText, stationIdFromPath } from './lib/dom.ts';
import { LiveFeed, playedSeconds } from './lib/live.ts';
import { mountPlayer, trackName } from './lib/now-playing.ts';
import { RadioPlayer } from './lib/player.ts';

const app = $('#app');
const id = stationIdFromPath();
if (id) stationPage(id);
else void stationList();

function header(...extra: Array<Node | null>): HTMLElement {
  return h(
    'header',
    { class: 'top' },
    h(
      'a',
      { class: 'brand', href: '/' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
      'Endless Lo-Fi Radio',
    ),
    h('nav', { 'aria-label': 'Site' }, ...extra),
  );
}

async function stationList(): Promise<void> {
  const grid = h('ul', { class: 'stations', 'aria-label': 'Stations' });
  const note = h(
    'p',
    { class: 'lede' },
    'Music made a minute ahead of you, never the same twice. Pick a room.',
  );
  app.replaceChildren(
    header(h('a', { href: '/admin' }, 'Owner console')),
    h('main', { class: 'list-main' }, h('h1', {}, 'Stations'), note, grid),
  );
  const cards = new Map<
    string,
    { title: HTMLElement; mood: HTMLElement; img: HTMLImageElement; ears: HTMLElement }
  >();
  const refresh = async (): Promise<void> => {
    let stations: StationView[];
    try {
      stations = await getJson<StationView[]>('/api/stations');
    } catch {
      return;
    }
    for (const s of stations) {
      let c = cards.get(s.id);
      if (!c) {
        const img = h('img', { class: 'card-cover', alt: '', width: 512, height: 512, loading: 'lazy' });
        const title = h('p', { class: 'card-title' });
        const mood = h('p', { class: 'card-mood' });
        const ears = h('p', { class: 'card-ears' });
        const link = h(
          'a',
          { class: 'card', href: `/stations/${encodeURIComponent(s.id)}` },
          img,
          h('div', { class: 'card-body' }, h('h2', {}, s.name), title, mood, ears),
        );
        grid.append(h('li', {}, link));
        c = { title, mood, img, ears };
        cards.set(s.id, c);
      }
      setText(c.title, s.nowPlaying ? trackName(s.nowPlaying) : 'Warming up…');
      setText(c.mood, s.prompt);
      const n = listenerCount(s.listeners);
      setText(c.ears, n === 1 ? '1 listening' : `${n} listening`);
      const src = coverOf(s.id, s.nowPlaying?.seq);
      if (c.img.getAttribute('src') !== src) c.img.src = src;
    }
  };
  await refresh();
  window.setInterval(() => void refresh(), 10_000);
}

function stationPage(stationId: string): void {
  const feed = new LiveFeed(stationId);
  const audio = h('audio', { preload: 'none' });
  const player = new RadioPlayer(stationId, audio);
  const ui = mountPlayer(feed, player, { volume: true });
  const backdrop = h('div', { class: 'backdrop', 'aria-hidden': 'true' });
  const heading = h('h1', { class: 'station-name' }, stationId);
  const desc = h('p', { class: 'station-desc' });
  const history = h('ol', { class: 'history', 'aria-label': 'Recently played' });
  const base = `/stations/${encodeURIComponent(stationId)}`;

  app.replaceChildren(
    backdrop,
    header(h('a', { href: '/' }, 'All stations'), h('a', { href: `${base}/admin` }, 'Owner console')),
    h(
      'main',
      { class: 'station-main' },
      h('section', { class: 'hero', 'aria-labelledby': 'station-name' }, heading, desc, ui.root, audio),
      h(
        'section',
        { class: 'recent' },
        h('h2', {}, 'Recently played'),
        history,
        h(
          'p',
          { class: 'elsewhere' },
          'In another player: ',
          h('a', { href: `${base}/stream.mp3` }, 'MP3 stream'),
          ' · ',
          h('a', { href: `${base}/listen.m3u` }, 'playlist (.m3u)'),
          ' · ',
          h('a', { href: `/embed/${encodeURIComponent(stationId)}` }, 'embed player'),
        ),
      ),
    ),
  );
  heading.id = 'station-name';

  ui.onHeard((np) => {
    backdrop.style.backgroundImage = `url("${coverOf(stationId, np?.seq)}")`;
  });

  let historyKey = '';
  const renderHistory = (all: readonly NowPlaying[]): void => {
    // While playing, only what has reached the listener's ears: the server is a few seconds ahead.
    const at = player.heardAt();
    const items = at === null ? all : all.filter((i) => Date.parse(i.startedAt) <= at);
    const key = items.map((i) => `${i.seq}:${i.endedAt ?? ''}`).join(',');
    if (key === historyKey) {
      // Only the "n min ago" labels and the playing track's length move.
      history.querySelectorAll<HTMLTimeElement>('time').forEach((t) => {
        setText(t, ago(t.dateTime));
      });
      const on = items[0];
      const len = history.querySelector('.h-len');
      if (on && len && on.endedAt === null) setText(len, clock(playedSeconds(on)));
      return;
    }
    historyKey = key;
    history.replaceChildren(
      ...items
        .slice(0, 12)
        .map((i) =>
          h(
            'li',
            {},
            h('img', { src: coverOf(stationId, i.seq), alt: '', width: 48, height: 48, loading: 'lazy' }),
            h('div', {}, h('p', { class: 'h-title' }, trackName(i)), h('p', { class: 'h-mood' }, i.prompt)),
            h(
              'p',
              { class: 'h-when' },
              h('time', { datetime: i.startedAt }, ago(i.startedAt)),
              h('span', { class: 'h-len', title: 'Length' }, clock(playedSeconds(i))),
            ),
          ),
        ),
    );
  };

  feed.subscribe((s) => {
    setText(heading, s.name);
    setText(desc, s.description);
    document.title = `${s.name} · Endless Lo-Fi Radio`;
    renderHistory(s.history);
  });
  window.setInterval(() => renderHistory(feed.state.history), 2000);
  // Space anywhere outside a form control plays or stops, as in most players.
  document.addEventListener('keydown', (e) => {
    const t = e.target as HTMLElement | null;
    if (e.code !== 'Space' || !t || t.closest('button, input, textarea, select, a')) return;
    e.preventDefault();
    void player.toggle();
  });
}
