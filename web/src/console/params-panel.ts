// Station parameters within the API's bounds; only changed fields are sent.
import { ApiFailure, type StationView, send } from '../lib/api.ts';
import { h, setText } from '../lib/dom.ts';

interface Field {
  key: string;
  label: string;
  kind: 'text' | 'number' | 'select';
  min?: number;
  max?: number;
  step?: number;
  options?: string[];
  get: (v: StationView) => string;
}

/** The bounds of PATCH /api/stations/:id, repeated so the browser can say no before the server does. */
const FIELDS: Field[] = [
  { key: 'name', label: 'Name', kind: 'text', get: (v) => v.name },
  { key: 'description', label: 'Description', kind: 'text', get: (v) => v.description },
  {
    key: 'backend',
    label: 'Backend',
    kind: 'select',
    options: ['procedural', 'musicgen'],
    get: (v) => v.backend,
  },
  { key: 'model', label: 'Model (Hugging Face id)', kind: 'text', get: (v) => v.model ?? '' },
  { key: 'artist', label: 'Artist (players show “artist - track”)', kind: 'text', get: (v) => v.artist },
  {
    key: 'trackSecondsMin',
    label: 'Track length from (s)',
    kind: 'number',
    min: 60,
    max: 1200,
    step: 1,
    get: (v) => String(v.trackSeconds.min),
  },
  {
    key: 'trackSecondsMax',
    label: 'Track length to (s)',
    kind: 'number',
    min: 60,
    max: 1200,
    step: 1,
    get: (v) => String(v.trackSeconds.max),
  },
  {
    key: 'lookaheadSeconds',
    label: 'Lookahead (s)',
    kind: 'number',
    min: 10,
    max: 3600,
    step: 1,
    get: (v) => String(v.lookaheadSeconds),
  },
  {
    key: 'segmentSeconds',
    label: 'Segment (s)',
    kind: 'number',
    min: 2,
    max: 60,
    step: 0.5,
    get: (v) => String(v.segmentSeconds),
  },
  {
    key: 'overlapSeconds',
    label: 'Crossfade (s)',
    kind: 'number',
    min: 0.05,
    max: 10,
    step: 0.05,
    get: (v) => String(v.overlapSeconds),
  },
  {
    key: 'topK',
    label: 'top-k',
    kind: 'number',
    min: 0,
    max: 2048,
    step: 1,
    get: (v) => String(v.params.topK),
  },
  {
    key: 'topP',
    label: 'top-p',
    kind: 'number',
    min: 0,
    max: 1,
    step: 0.01,
    get: (v) => String(v.params.topP),
  },
  {
    key: 'temperature',
    label: 'Temperature',
    kind: 'number',
    min: 0.01,
    max: 4,
    step: 0.01,
    get: (v) => String(v.params.temperature),
  },
  {
    key: 'cfgCoef',
    label: 'Guidance (cfg)',
    kind: 'number',
    min: 0,
    max: 20,
    step: 0.1,
    get: (v) => String(v.params.cfgCoef),
  },
];

export function paramsPanel(initial: StationView): HTMLElement {
  let current = initial;
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const rows = FIELDS.map((f) => {
    const id = `param-${f.key}`;
    const input =
      f.kind === 'select'
        ? h('select', { id }, ...(f.options ?? []).map((o) => h('option', { value: o }, o)))
        : h('input', {
            id,
            type: f.kind,
            min: f.min,
            max: f.max,
            step: f.step,
            maxlength: f.key === 'description' ? 500 : f.key === 'name' || f.key === 'artist' ? 100 : 200,
          });
    input.value = f.get(current);
    inputs.set(f.key, input);
    return h('div', { class: 'field' }, h('label', { for: id }, f.label), input);
  });
  const result = h('p', { class: 'result', role: 'status' });
  const form = h(
    'form',
    { id: 'params-form', class: 'params' },
    ...rows,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Save'), result),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const patch: Record<string, string | number> = {};
    for (const f of FIELDS) {
      const value = inputs.get(f.key)?.value ?? '';
      if (value === f.get(current)) continue;
      patch[f.key] = f.kind === 'number' ? Number(value) : value;
    }
    if (Object.keys(patch).length === 0) {
      setText(result, 'Nothing changed.');
      return;
    }
    send<StationView>('PATCH', `/api/stations/${encodeURIComponent(current.id)}`, patch).then(
      (v) => {
        current = v;
        setText(result, `Saved: ${Object.keys(patch).join(', ')}.`);
      },
      (err: unknown) => setText(result, err instanceof ApiFailure ? err.message : String(err)),
    );
  });
  return h(
    'section',
    { class: 'panel params-panel', 'aria-labelledby': 'params-h' },
    h('h2', { id: 'params-h' }, 'Parameters'),
    h(
      'p',
      { class: 'hint' },
      'Changes apply from the next segment the workers render; artist and track length from the next track.',
    ),
    form,
  );
}
