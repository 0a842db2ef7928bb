import type { FastifyInstance } from 'fastify';

// A plain listen page until the full web UI lands: no scripts from elsewhere, nothing user-supplied
// interpolated into the HTML (titles arrive as JSON and are set as text).
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Endless Lo-Fi Radio</title>
<style>
body{margin:0;min-height:100vh;display:grid;place-items:center;font:16px/1.5 system-ui,sans-serif;
background:radial-gradient(circle at 30% 20%,#3b2f4a,#14121c 70%);color:#f3ece2}
main{max-width:34rem;padding:2rem;text-align:center}h1{font-weight:600;letter-spacing:.02em}
#title{font-size:1.2rem;min-height:1.5em}#mood{opacity:.7}audio{width:100%;margin-top:1.5rem}
</style></head><body><main>
<h1>Endless Lo-Fi Radio</h1><p id="title" aria-live="polite">Tuning in…</p><p id="mood"></p>
<audio controls preload="none" src="/stations/lofi/stream.mp3"></audio>
</main><script>
async function poll(){try{const r=await fetch('/api/stations/lofi');const s=await r.json();
document.getElementById('title').textContent=(s.nowPlaying&&s.nowPlaying.title)||'Warming up…';
document.getElementById('mood').textContent=s.prompt||'';}catch(e){}}
poll();setInterval(poll,5000);
</script></body></html>`;

export function registerPages(app: FastifyInstance): void {
  app.get('/', async (_req, reply) =>
    reply
      .header(
        'content-security-policy',
        "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'; media-src 'self'",
      )
      .type('text/html; charset=utf-8')
      .send(PAGE),
  );
}
