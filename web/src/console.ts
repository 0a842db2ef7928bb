// The owner console: /admin (all stations) and /stations/:id/admin (one). Signs in with the admin
// token or a station's key (kept in sessionStorage, sent as a Bearer header); everything it does
// goes through the REST API.

import { embedPanel } from './console/embed-panel.ts';
import { historyPanels, moodPanel } from './console/mood-panel.ts';
import { paramsPanel } from './console/params-panel.ts';
import { statsPanel } from './console/stats-panel.ts';
import { ApiFailure, coverOf, getJson, listenerCount, type StationView, send, token } from './lib/api.ts';
import { $, h, setText, stationIdFromPath } from './lib/dom.ts';

const app = $('#app');
const stationId = stationIdFromPath();

function header(): HTMLElement {
  const signOut = h('button', { type: 'button', class: 'link' }, 'Sign out');
  signOut.addEventListener('click', () => {
    token.clear();
    location.reload();
  });
  return h(
    'header',
    { class: 'top' },
    h(
      'a',
      { class: 'brand', href: '/' },
      h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
      'Owner console',
    ),
    h(
      'nav',
      { 'aria-label': 'Console' },
      stationId ? h('a', { href: `/stations/${encodeURIComponent(stationId)}` }, 'Listen page') : null,
      h('a', { href: '/admin' }, 'All stations'),
      h('a', { href: '/docs' }, 'API docs'),
      token.get() ? signOut : null,
    ),
  );
}

/** Checks a token against one station without changing anything. */
async function verify(id: string): Promise<void> {
  await send('GET', `/api/stations/${encodeURIComponent(id)}/access`);
}

function signIn(onDone: () => void): HTMLElement {
  const input = h('input', {
    id: 'token',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    spellcheck: 'false',
    placeholder: 'admin token or sk_…',
  });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    { id: 'sign-in', class: 'panel sign-in' },
    h('h1', {}, 'Sign in'),
    h(
      'p',
      { class: 'hint' },
      'Use the admin token printed by npm start, or the key you got when the station was created. It is kept only in this tab.',
    ),
    h('label', { for: 'token' }, 'Admin token or station key'),
    input,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    error,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    token.set(input.value.trim());
    const check = stationId ? verify(stationId) : Promise.resolve();
    check.then(onDone, (err: unknown) => {
      token.clear();
      setText(
        error,
        err instanceof ApiFailure && err.status === 401 ? 'That token is not accepted here.' : String(err),
      );
    });
  });
  return form;
}

async function stationsOverview(): Promise<void> {
  const list = h('ul', { class: 'console-stations' });
  app.replaceChildren(
    header(),
    h(
      'main',
      { class: 'console-main' },
      h('section', { class: 'panel wide' }, h('h1', {}, 'Stations'), list),
    ),
  );
  const stations = await getJson<StationView[]>('/api/stations');
  list.replaceChildren(
    ...stations.map((s) =>
      h(
        'li',
        {},
        h('img', { src: coverOf(s.id, s.nowPlaying?.seq), alt: '', width: 56, height: 56 }),
        h(
          'div',
          {},
          h('a', { href: `/stations/${encodeURIComponent(s.id)}/admin` }, s.name),
          h('p', { class: 'h-mood' }, s.prompt),
        ),
        h(
          'p',
          { class: 'stat-line' },
          `${s.status} · ${s.bufferedSeconds} s ahead · ${listenerCount(s.listeners)} listening`,
        ),
      ),
    ),
  );
}

async function stationConsole(id: string): Promise<void> {
  const view = await getJson<StationView>(`/api/stations/${encodeURIComponent(id)}`);
  const stats = statsPanel(id);
  const mood = moodPanel(id, () => stats.refresh());
  const histories = historyPanels(id);
  app.replaceChildren(
    header(),
    h(
      'main',
      { class: 'console-main' },
      h('h1', { class: 'console-title' }, view.name),
      h(
        'div',
        { class: 'console-grid' },
        stats.root,
        mood.root,
        histories.root,
        embedPanel(id),
        paramsPanel(view),
      ),
    ),
  );
  mood.onChanged(() => histories.refresh());
}

function start(): void {
  if (!token.get()) {
    app.replaceChildren(header(), h('main', { class: 'console-main narrow' }, signIn(start)));
    $('#token').focus();
    return;
  }
  const run = stationId ? stationConsole(stationId) : stationsOverview();
  run.catch((err: unknown) => {
    app.replaceChildren(
      header(),
      h('main', { class: 'console-main' }, h('p', { class: 'error' }, String(err))),
    );
  });
}

start();
