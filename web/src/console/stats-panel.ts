// On air: what plays, how far generation is ahead, how fast it renders, who listens.
import { coverOf, getJson, listenerCount, type StationView } from '../lib/api.ts';
import { clock, h, setText } from '../lib/dom.ts';

const REFRESH_MS = 3000;

function stat(label: string, id: string): [HTMLElement, HTMLElement] {
  const value = h('dd', { id });
  return [h('div', { class: 'stat' }, h('dt', {}, label), value), value];
}

export function statsPanel(stationId: string): { root: HTMLElement; refresh: () => void } {
  const cover = h('img', { class: 'console-cover', alt: '', width: 96, height: 96 });
  const title = h('p', { class: 'title', 'aria-live': 'polite' });
  const mood = h('p', { class: 'mood' });
  const detail = h('p', { class: 'detail', id: 'segment-detail' });
  const [bufferEl, buffer] = stat('Buffer ahead', 'stat-buffer');
  const [speedEl, speed] = stat('Generation speed', 'stat-speed');
  const [statusEl, status] = stat('Status', 'stat-status');
  const [earsEl, ears] = stat('Listeners', 'stat-listeners');
  const [underrunsEl, underruns] = stat('Underruns', 'stat-underruns');
  const meter = h('div', {
    class: 'meter',
    role: 'meter',
    'aria-label': 'Buffer filled',
    'aria-valuemin': 0,
  });
  const bar = h('span', {});
  meter.append(bar);
  const fallback = h(
    'p',
    { class: 'warning', hidden: true },
    'The station’s own backend keeps failing: the procedural fallback is playing.',
  );
  const root = h(
    'section',
    { class: 'panel on-air', 'aria-labelledby': 'on-air-h' },
    h('h2', { id: 'on-air-h' }, 'On air'),
    h('div', { class: 'on-air-head' }, cover, h('div', {}, title, mood, detail)),
    meter,
    h('dl', { class: 'stats' }, bufferEl, speedEl, statusEl, earsEl, underrunsEl),
    fallback,
  );

  let coverSeq: number | undefined | null = null;
  const refresh = async (): Promise<void> => {
    let v: StationView;
    try {
      v = await getJson<StationView>(`/api/stations/${encodeURIComponent(stationId)}`);
      // Every kind of listener (MP3 and HLS) where the server counts them apart.
      const counts = await getJson<{ total: number }>(
        `/api/stations/${encodeURIComponent(stationId)}/listeners`,
      ).catch(() => null);
      if (counts) v.listeners = counts.total;
    } catch {
      return;
    }
    const np = v.nowPlaying;
    setText(title, np ? `${np.title}${np.subtitle ? ` · ${np.subtitle}` : ''}` : 'Warming up…');
    // The segment on air: where it sits in the track's arc, and its chord and section.
    const seg = np?.segment;
    setText(
      detail,
      np && seg
        ? `${np.artist ? `${np.artist} · ` : ''}${clock(np.durationSeconds ?? 0)} in · ${seg.part ?? 'segment'} · ${seg.detail}`
        : '',
    );
    setText(mood, v.nowPlaying?.prompt ?? v.prompt);
    setText(buffer, `${v.bufferedSeconds.toFixed(1)} s of ${v.lookaheadSeconds} s`);
    const rtf = v.generationRealtimeFactor;
    setText(speed, rtf ? `${rtf.toFixed(1)}× real time` : '—');
    setText(status, v.status);
    setText(ears, String(listenerCount(v.listeners)));
    setText(underruns, String(v.underruns));
    const fill = Math.min(1, v.bufferedSeconds / Math.max(1, v.lookaheadSeconds));
    bar.style.width = `${(fill * 100).toFixed(1)}%`;
    meter.setAttribute('aria-valuemax', String(v.lookaheadSeconds));
    meter.setAttribute('aria-valuenow', String(v.bufferedSeconds));
    meter.dataset.low = String(v.bufferedSeconds < v.segmentSeconds * 2);
    fallback.hidden = !v.fallback;
    if (v.nowPlaying?.seq !== coverSeq) {
      coverSeq = v.nowPlaying?.seq;
      cover.src = coverOf(stationId, coverSeq);
    }
  };
  void refresh();
  window.setInterval(() => void refresh(), REFRESH_MS);
  return { root, refresh: () => void refresh() };
}
