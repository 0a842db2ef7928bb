// Page shells and the security headers that go with them. The shells carry no data: the scripts
// fetch it and set it as text.
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface Shell {
  title: string;
  js: string;
  css: string;
  bodyClass: string;
  /** Where a browser without JavaScript can still listen. */
  streamUrl?: string;
}

export function shell(o: Shell): string {
  const noscript = o.streamUrl
    ? `<noscript><p class="noscript">This player needs JavaScript. The stream plays in any player: <a href="${esc(o.streamUrl)}">${esc(o.streamUrl)}</a></p></noscript>`
    : '<noscript><p class="noscript">This page needs JavaScript.</p></noscript>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="dark light">
<meta name="theme-color" content="#17131a">
<title>${esc(o.title)}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${esc(o.css)}">
<script type="module" src="${esc(o.js)}"></script>
</head><body class="${esc(o.bodyClass)}"><div id="app"></div>${noscript}</body></html>`;
}

export const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><defs><radialGradient id="g" cx="35%" cy="35%"><stop offset="0" stop-color="#ffe2b0"/><stop offset=".55" stop-color="#f2a65a"/><stop offset="1" stop-color="#e98a6b"/></radialGradient></defs><circle cx="16" cy="16" r="14" fill="url(#g)"/></svg>`;

/** Our pages' policy: scripts, styles and media from here only; hls.js needs blob: for its worker and MSE. */
export function contentSecurityPolicy(frameAncestors: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}
