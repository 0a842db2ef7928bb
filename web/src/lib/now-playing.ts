// The player block shared by the station page and the embed: cover, play/stop, the track's title
// (a live region) and artist, mood, listeners, volume. Shows what the listener hears: the track
// whose start on the stream clock has passed at the player's position.
import { coverOf, type NowPlaying } from './api.ts';
import { h, setText } from './dom.ts';
import { icon } from './icons.ts';
import { heardEntry, type LiveFeed, type LiveState } from './live.ts';
import type { PlayerState, RadioPlayer } from './player.ts';

export interface PlayerUi {
  root: HTMLElement;
  cover: HTMLImageElement;
  /** Called with the entry heard now whenever it changes. */
  onHeard(fn: (np: NowPlaying | null, s: LiveState) => void): void;
}

const STATE_TEXT: Record<PlayerState, string> = {
  stopped: 'Tap play to listen',
  loading: 'Tuning in…',
  playing: 'Live',
  blocked: 'Your browser wants a tap first: press play',
  error: 'The stream is unreachable; retrying…',
};

export function mountPlayer(feed: LiveFeed, player: RadioPlayer, opts: { volume: boolean }): PlayerUi {
  const cover = h('img', { class: 'cover', alt: '', width: 512, height: 512, decoding: 'async' });
  const button = h('button', { class: 'play', type: 'button', 'aria-label': 'Play' }, icon('play'));
  const title = h('p', { class: 'title', id: 'now-title', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const artist = h('p', { class: 'artist', id: 'now-artist' });
  const mood = h('p', { class: 'mood', id: 'now-mood' });
  const state = h('span', { class: 'state', id: 'player-state' }, STATE_TEXT.stopped);
  const listeners = h('span', { class: 'listeners', id: 'listeners' });
  const volume = h('input', {
    type: 'range',
    min: 0,
    max: 1,
    step: 0.01,
    class: 'volume',
    'aria-label': 'Volume',
    value: String(player.volume),
  });
  volume.addEventListener('input', () => {
    player.volume = Number(volume.value);
  });
  button.addEventListener('click', () => void player.toggle());

  const meta = h(
    'div',
    { class: 'meta' },
    title,
    artist,
    mood,
    h('p', { class: 'status' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), state, listeners),
  );
  const controls = h(
    'div',
    { class: 'controls' },
    button,
    opts.volume ? h('label', { class: 'vol' }, icon('volume'), volume) : null,
  );
  const root = h('div', { class: 'player', 'data-state': 'stopped' }, cover, meta, controls);

  const heardSubs: Array<(np: NowPlaying | null, s: LiveState) => void> = [];
  let shownSeq: number | null = null;
  let shownKey = '';

  const render = (): void => {
    const s = feed.state;
    const heard = heardEntry(s.history, player.heardAt()) ?? s.nowPlaying;
    setText(title, heard ? trackName(heard) : s.nowPlaying ? '' : 'Warming up…');
    // The artist line only when it is not the station's name, which the page shows already.
    setText(artist, heard?.artist ?? '');
    artist.hidden = !heard?.artist || heard.artist === s.name;
    setText(mood, heard?.prompt ?? s.prompt);
    setText(listeners, s.listeners === 1 ? ' · 1 listening' : ` · ${s.listeners} listening`);
    const key = heard ? `${heard.seq}` : `station:${s.prompt}`;
    if (key !== shownKey) {
      shownKey = key;
      cover.src = coverOf(s.stationId, heard?.seq);
      cover.alt = heard ? `Cover art for “${heard.title}”` : 'Cover art';
    }
    if ((heard?.seq ?? null) !== shownSeq) {
      shownSeq = heard?.seq ?? null;
      for (const fn of heardSubs) fn(heard, s);
      updateMediaSession(heard, s);
    }
  };

  const onState = (ps: PlayerState): void => {
    root.dataset.state = ps;
    setText(state, STATE_TEXT[ps]);
    const playing = ps === 'playing' || ps === 'loading';
    button.replaceChildren(icon(ps === 'loading' ? 'spinner' : playing ? 'stop' : 'play'));
    button.setAttribute('aria-label', playing ? `Stop ${feed.state.name}` : `Play ${feed.state.name}`);
    button.setAttribute('aria-pressed', playing ? 'true' : 'false');
    render();
  };
  player.on(onState);
  feed.subscribe(() => {
    // The station's name arrives with the first poll: the button's name follows.
    onState(player.state);
  });
  window.setInterval(render, 1000);
  return { root, cover, onHeard: (fn) => heardSubs.push(fn) };
}

/** The track's name, with its second-language name after it when it has one. */
export const trackName = (np: NowPlaying): string =>
  np.subtitle ? `${np.title} · ${np.subtitle}` : np.title;

function updateMediaSession(np: NowPlaying | null, s: LiveState): void {
  if (!('mediaSession' in navigator) || typeof MediaMetadata === 'undefined') return;
  navigator.mediaSession.metadata = new MediaMetadata({
    title: np ? trackName(np) : s.name,
    artist: np?.artist || s.name,
    album: np?.prompt ?? s.prompt,
    artwork: [
      {
        src: new URL(coverOf(s.stationId, np?.seq), location.href).href,
        sizes: '512x512',
        type: 'image/svg+xml',
      },
    ],
  });
}
