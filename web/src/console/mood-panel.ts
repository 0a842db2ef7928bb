// Setting the mood (free text or a preset) and the station's mood and play histories.

import { ApiFailure, getJson, type MoodEntry, type NowPlaying, type Preset, send } from '../lib/api.ts';
import { ago, clock, h, setText } from '../lib/dom.ts';

const CHINESE_HINT = ['雨天', '咖啡馆', '爵士', '放松', '学习', '睡眠'];

export function moodPanel(
  stationId: string,
  afterChange: () => void,
): { root: HTMLElement; onChanged: (fn: () => void) => void } {
  const subs: Array<() => void> = [];
  const url = `/api/stations/${encodeURIComponent(stationId)}/mood`;
  const input = h('textarea', {
    id: 'mood-input',
    rows: 3,
    maxlength: 500,
    required: true,
    placeholder: 'rainy-day slow jazz with soft piano',
  });
  const result = h('p', { class: 'result', role: 'status', id: 'mood-result' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Set mood');
  const presets = h('div', { class: 'presets', role: 'group', 'aria-label': 'Presets' });
  const form = h(
    'form',
    { id: 'mood-form' },
    h('label', { for: 'mood-input' }, 'Describe the mood'),
    input,
    h(
      'p',
      { class: 'hint' },
      'English or Chinese mood words: ',
      ...CHINESE_HINT.flatMap((w, i) => {
        const b = h('button', { type: 'button', class: 'word' }, w);
        b.addEventListener('click', () => {
          input.value = input.value ? `${input.value} ${w}` : w;
          input.focus();
        });
        return i === 0 ? [b] : [' ', b];
      }),
    ),
    h('div', { class: 'row' }, submit, result),
  );

  const put = async (body: { prompt: string } | { preset: string }, what: string): Promise<void> => {
    submit.disabled = true;
    setText(result, 'Sending…');
    try {
      await send('PUT', url, body);
      setText(result, `Mood set: ${what}. You will hear it within seconds.`);
      afterChange();
      for (const fn of subs) fn();
    } catch (err) {
      setText(result, err instanceof ApiFailure ? err.message : String(err));
    } finally {
      submit.disabled = false;
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const prompt = input.value.trim();
    if (prompt) void put({ prompt }, `“${prompt}”`);
  });
  void getJson<{ presets: Preset[] }>('/api/presets').then(({ presets: list }) => {
    presets.replaceChildren(
      ...list.map((p) => {
        const b = h('button', { type: 'button', class: 'chip', title: p.prompt }, p.name ?? p.label ?? p.id);
        b.addEventListener('click', () => void put({ preset: p.id }, p.name ?? p.id));
        return b;
      }),
    );
  });
  const root = h(
    'section',
    { class: 'panel mood-panel', 'aria-labelledby': 'mood-h' },
    h('h2', { id: 'mood-h' }, 'Mood'),
    form,
    h('h3', {}, 'Presets'),
    presets,
  );
  return { root, onChanged: (fn) => subs.push(fn) };
}

export function historyPanels(stationId: string): { root: HTMLElement; refresh: () => void } {
  const id = encodeURIComponent(stationId);
  const moods = h('ol', { class: 'mood-history' });
  const played = h('ol', { class: 'history compact', id: 'played-tracks' });
  const segments = h('ol', { class: 'history compact segments', id: 'played-segments' });
  const refresh = async (): Promise<void> => {
    try {
      const [m, p] = await Promise.all([
        getJson<{ moods: MoodEntry[] }>(`/api/stations/${id}/moods`),
        getJson<{
          history: NowPlaying[];
          segments?: Array<{ seq: number; detail: string; startedAt: string }>;
        }>(`/api/stations/${id}/history`),
      ]);
      moods.replaceChildren(
        ...m.moods.slice(0, 8).map((e) => {
          const at = e.at ?? e.changedAt;
          return h(
            'li',
            {},
            h('span', { class: 'h-mood' }, e.prompt),
            at ? h('time', { datetime: at }, ago(at)) : null,
          );
        }),
      );
      played.replaceChildren(
        ...p.history
          .slice(0, 8)
          .map((i) =>
            h(
              'li',
              {},
              h('span', { class: 'h-title' }, i.title),
              h(
                'span',
                { class: 'h-when' },
                h('time', { datetime: i.startedAt }, ago(i.startedAt)),
                h('span', { class: 'h-len' }, clock(i.durationSeconds ?? 0)),
              ),
            ),
          ),
      );
      // The segments are the unit of generation: their musical detail is for the curious.
      segments.replaceChildren(
        ...(p.segments ?? [])
          .slice(0, 6)
          .map((g) =>
            h(
              'li',
              {},
              h('span', { class: 'h-detail' }, `#${g.seq} ${g.detail}`),
              h('time', { datetime: g.startedAt }, ago(g.startedAt)),
            ),
          ),
      );
    } catch {
      // Shown again at the next refresh.
    }
  };
  void refresh();
  window.setInterval(() => void refresh(), 10_000);
  const root = h(
    'section',
    { class: 'panel histories' },
    h('h2', {}, 'Mood history'),
    moods,
    h('h2', {}, 'Recently played tracks'),
    played,
    h('h3', {}, 'Latest segments'),
    segments,
  );
  return { root, refresh: () => void refresh() };
}
