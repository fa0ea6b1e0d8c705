/**
 * The search page's script (runs in the browser; compiled by tsc like the rest, served as /assets/app.js).
 * Talks to the same JSON API applications use. Highlights arrive as offsets and are inserted as text
 * nodes around <mark> elements, so no document text is ever parsed as HTML.
 */
export {};

type Span = [number, number];
interface ApiHit {
  rank: number;
  id: string;
  score: number;
  title?: string;
  snippet?: string;
  highlights?: { title?: Span[]; snippet?: Span[] };
  snippetCut?: { start: boolean; end: boolean };
}
interface SearchResponse {
  mode: string;
  k: number;
  tookMs: number;
  hits: ApiHit[];
}
interface Health {
  status: string;
  modes: string[];
  defaultMode: string;
  indexes: Record<string, number>;
  documents: number | null;
  evalReport: boolean;
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing #${id}`);
  return el as T;
};

const form = $<HTMLFormElement>('search-form');
const input = $<HTMLInputElement>('q');
const kSelect = $<HTMLSelectElement>('k');
const statusLine = $<HTMLParagraphElement>('status');
const results = $<HTMLOListElement>('results');
const info = $<HTMLParagraphElement>('service-info');

let health: Health | undefined;
let searchSeq = 0;

/** Appends `text` to `parent`, wrapping the spans in <mark>. */
function appendMarked(parent: HTMLElement, text: string, spans: Span[] = []): void {
  let at = 0;
  for (const [s, e] of spans) {
    if (s < at || e > text.length) continue;
    parent.append(text.slice(at, s));
    const mark = document.createElement('mark');
    mark.textContent = text.slice(s, e);
    parent.append(mark);
    at = e;
  }
  parent.append(text.slice(at));
}

function selectedMode(): string {
  const checked = form.querySelector<HTMLInputElement>('input[name="mode"]:checked');
  return checked?.value ?? health?.defaultMode ?? 'dense';
}

function setStatus(text: string, isError = false): void {
  statusLine.textContent = text;
  statusLine.classList.toggle('error', isError);
}

async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { message?: string };
    return body.message ?? `${res.status} ${res.statusText}`;
  } catch {
    return `${res.status} ${res.statusText}`;
  }
}

function renderHit(hit: ApiHit): HTMLLIElement {
  const li = document.createElement('li');
  li.className = 'hit';
  li.dataset.id = hit.id;
  const h = document.createElement('h2');
  const open = document.createElement('button');
  open.type = 'button';
  open.className = 'open';
  open.setAttribute('aria-expanded', 'false');
  appendMarked(open, hit.title || hit.id, hit.title ? hit.highlights?.title : []);
  h.append(open);
  const meta = document.createElement('p');
  meta.className = 'meta';
  meta.textContent = `score ${hit.score.toFixed(4)} · id ${hit.id}`;
  const snippet = document.createElement('p');
  snippet.className = 'snippet';
  if (hit.snippetCut?.start) snippet.append('… ');
  appendMarked(snippet, hit.snippet ?? '', hit.highlights?.snippet);
  if (hit.snippetCut?.end) snippet.append(' …');
  const full = document.createElement('p');
  full.className = 'full';
  full.hidden = true;
  full.id = `full-${hit.rank}`;
  open.setAttribute('aria-controls', full.id);
  open.addEventListener('click', () => void toggleFull(hit.id, open, full, snippet));
  li.append(h, meta, snippet, full);
  return li;
}

async function toggleFull(id: string, button: HTMLButtonElement, full: HTMLElement, snippet: HTMLElement): Promise<void> {
  const expand = button.getAttribute('aria-expanded') !== 'true';
  if (expand && !full.textContent) {
    const res = await fetch(`/documents/${encodeURIComponent(id)}`);
    full.textContent = res.ok ? ((await res.json()) as { text: string }).text : await errorMessage(res);
  }
  button.setAttribute('aria-expanded', String(expand));
  full.hidden = !expand;
  snippet.hidden = expand;
}

async function search(): Promise<void> {
  const query = input.value.trim();
  if (!query) {
    setStatus('Type a query first.', true);
    return;
  }
  const mode = selectedMode();
  const k = Number(kSelect.value);
  const seq = ++searchSeq;
  const url = new URL(location.href);
  url.searchParams.set('q', query);
  url.searchParams.set('mode', mode);
  history.replaceState(null, '', url);
  setStatus('Searching…');
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch('/search', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, k, mode, fields: ['title', 'snippet', 'highlights'] }),
    });
  } catch (e) {
    if (seq === searchSeq) setStatus(`The service did not answer: ${(e as Error).message}`, true);
    return;
  }
  if (seq !== searchSeq) return; // a newer search is on its way
  if (!res.ok) {
    setStatus(await errorMessage(res), true);
    return;
  }
  const body = (await res.json()) as SearchResponse;
  if (seq !== searchSeq) return;
  const roundTrip = performance.now() - started;
  results.replaceChildren(...body.hits.map(renderHit));
  const n = body.hits.length;
  setStatus(`${n} result${n === 1 ? '' : 's'} (${body.mode}) · server ${body.tookMs.toFixed(1)} ms · round trip ${roundTrip.toFixed(0)} ms`);
  results.setAttribute('data-state', 'done');
}

function showView(view: 'search' | 'eval'): void {
  $('search-view').hidden = view !== 'search';
  $('eval-view').hidden = view !== 'eval';
  for (const name of ['search', 'eval'] as const) {
    const tab = $(`tab-${name}`);
    if (name === view) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  if (view === 'eval') {
    const frame = $<HTMLIFrameElement>('eval-frame');
    const status = $('eval-status');
    if (health?.evalReport) {
      if (!frame.src) frame.src = '/eval';
      frame.hidden = false;
      status.textContent = '';
    } else {
      status.textContent = 'No evaluation report loaded: start the service with --eval-report FILE (written by densekit eval).';
    }
  } else {
    input.focus();
  }
}

async function init(): Promise<void> {
  const res = await fetch('/health');
  health = (await res.json()) as Health;
  const modes = health.modes;
  form.querySelectorAll<HTMLInputElement>('input[name="mode"]').forEach((radio) => {
    const available = modes.includes(radio.value);
    radio.disabled = !available;
    radio.closest('label')!.title = available ? '' : 'not available: the service has no index for this mode';
  });
  const params = new URLSearchParams(location.search);
  const wanted = params.get('mode');
  const mode = wanted && health.modes.includes(wanted) ? wanted : health.defaultMode;
  const radio = form.querySelector<HTMLInputElement>(`input[name="mode"][value="${mode}"]`);
  if (radio) radio.checked = true;
  const sizes = Object.entries(health.indexes).map(([name, n]) => `${name}: ${n.toLocaleString()} documents`);
  info.textContent = sizes.join(' · ');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void search();
  });
  form.addEventListener('change', (e) => {
    if ((e.target as HTMLElement).matches('input[name="mode"], select') && input.value.trim()) void search();
  });
  document.addEventListener('keydown', (e) => {
    const target = e.target as HTMLElement;
    const typing = target.isContentEditable || target instanceof HTMLTextAreaElement ||
      (target instanceof HTMLInputElement && ['text', 'search'].includes(target.type));
    if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      input.focus();
    }
  });
  window.addEventListener('hashchange', () => showView(location.hash === '#eval' ? 'eval' : 'search'));
  showView(location.hash === '#eval' ? 'eval' : 'search');
  const q = params.get('q');
  if (q) {
    input.value = q;
    await search();
  }
  document.body.dataset.ready = 'true';
}

init().catch((e: unknown) => setStatus(`Could not start: ${(e as Error).message}`, true));
