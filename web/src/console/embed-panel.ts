// The embed snippet, as an iframe or as one script tag, with a live preview of the chosen look.
import { h } from '../lib/dom.ts';

const SIZE = { compact: { w: '100%', h: 88 }, card: { w: '320', h: 440 } } as const;

export function embedSnippets(
  origin: string,
  stationId: string,
  size: keyof typeof SIZE,
  theme: string,
): { iframe: string; script: string; src: string } {
  const q = new URLSearchParams({ size, theme });
  const src = `${origin}/embed/${encodeURIComponent(stationId)}?${q}`;
  const d = SIZE[size];
  return {
    src,
    iframe: `<iframe src="${src}" width="${d.w}" height="${d.h}" style="border:0;max-width:100%" allow="autoplay" loading="lazy" title="Endless Lo-Fi Radio"></iframe>`,
    script: `<script src="${origin}/embed.js" data-station="${stationId}" data-size="${size}" data-theme="${theme}" async></script>`,
  };
}

function copyRow(label: string, id: string): { row: HTMLElement; area: HTMLTextAreaElement } {
  const area = h('textarea', { id, readonly: true, rows: 3, spellcheck: 'false' });
  const button = h('button', { type: 'button', class: 'secondary' }, 'Copy');
  button.addEventListener('click', () => {
    area.select();
    const done = (): void => {
      button.textContent = 'Copied';
      window.setTimeout(() => {
        button.textContent = 'Copy';
      }, 1500);
    };
    if (navigator.clipboard)
      navigator.clipboard.writeText(area.value).then(done, () => document.execCommand('copy'));
    else if (document.execCommand('copy')) done();
  });
  return { row: h('div', { class: 'copy-row' }, h('label', { for: id }, label), area, button), area };
}

export function embedPanel(stationId: string): HTMLElement {
  const sizeSel = h(
    'select',
    { id: 'embed-size' },
    h('option', { value: 'card' }, 'Card'),
    h('option', { value: 'compact' }, 'Compact bar'),
  );
  const themeSel = h(
    'select',
    { id: 'embed-theme' },
    h('option', { value: 'dark' }, 'Dark'),
    h('option', { value: 'light' }, 'Light'),
    h('option', { value: 'transparent' }, 'Transparent'),
  );
  const iframeRow = copyRow('Iframe', 'embed-iframe');
  const scriptRow = copyRow('One line of script', 'embed-script');
  const preview = h('iframe', { class: 'preview', title: 'Embed preview', loading: 'lazy' });
  const stage = h('div', { class: 'preview-stage' }, preview);
  const update = (): void => {
    const size = sizeSel.value === 'compact' ? 'compact' : 'card';
    const s = embedSnippets(location.origin, stationId, size, themeSel.value);
    iframeRow.area.value = s.iframe;
    scriptRow.area.value = s.script;
    preview.src = s.src;
    preview.width = SIZE[size].w;
    preview.height = String(SIZE[size].h);
    stage.dataset.theme = themeSel.value;
  };
  sizeSel.addEventListener('change', update);
  themeSel.addEventListener('change', update);
  update();
  return h(
    'section',
    { class: 'panel embed-panel', 'aria-labelledby': 'embed-h' },
    h('h2', { id: 'embed-h' }, 'Embed'),
    h('div', { class: 'row' }, h('label', {}, 'Size ', sizeSel), h('label', {}, 'Theme ', themeSel)),
    iframeRow.row,
    scriptRow.row,
    h('h3', {}, 'Preview'),
    stage,
  );
}
