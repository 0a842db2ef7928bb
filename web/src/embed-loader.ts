// embed.js: `<script src="https://radio.example/embed.js" data-station="lofi" async></script>`
// puts the embed player where the script tag is. Options: data-size (compact | card),
// data-theme (light | dark | transparent), data-width, data-height.
(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  if (!script) return;
  const origin = new URL(script.src).origin;
  const station = script.dataset.station ?? 'lofi';
  const size = script.dataset.size === 'compact' ? 'compact' : 'card';
  const theme = ['light', 'dark', 'transparent'].includes(script.dataset.theme ?? '')
    ? (script.dataset.theme as string)
    : 'dark';
  const frame = document.createElement('iframe');
  const q = new URLSearchParams({ size, theme });
  frame.src = `${origin}/embed/${encodeURIComponent(station)}?${q}`;
  frame.title = `Endless Lo-Fi Radio: ${station}`;
  frame.allow = 'autoplay; encrypted-media';
  frame.loading = 'lazy';
  frame.width = script.dataset.width ?? (size === 'compact' ? '100%' : '320');
  frame.height = script.dataset.height ?? (size === 'compact' ? '88' : '440');
  frame.style.border = '0';
  frame.style.maxWidth = '100%';
  frame.style.colorScheme = 'normal';
  if (theme === 'transparent') frame.setAttribute('allowtransparency', 'true');
  script.replaceWith(frame);
})();
