// seedgate console: a small single-page app over the gateway's own API
// (/v1/jobs, /v1/files, /v1/models). Plain ES modules, no build step, no
// dependencies. Routes live in the URL hash: #/ (tasks), #/tasks/ID, #/new
// (playground), #/admin, #/ops (operations, ops.js).

import { opsView } from './ops.js';

const KEY = 'seedgate.key';
const DIALECTS = ['jobs', 'ark', 'videos', 'seedance', 'responses', 'openai'];
const STATUSES = ['processing', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired'];

const state = {
  key: sessionStorage.getItem(KEY) || '',
  open: false, // the gateway needs no key
  models: [],
  sse: 'unknown', // does GET /v1/jobs/{id}/events exist? unknown | yes | no
};

// ---------- small helpers ----------

const $ = (sel, root = document) => root.querySelector(sel);

// h builds an element; strings become text nodes (never HTML).
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'style') el.style.cssText = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  append(el, children);
  return el;
}
function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

function toast(msg, ms = 3500) {
  if (msg instanceof Error) {
    if (msg.name === 'AbortError') return; // the view was left: nothing to say
    msg = msg.message;
  }
  const t = $('#toast');
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, ms);
}

function relTime(unix) {
  if (!unix) return '';
  const s = Math.round(Date.now() / 1000 - unix);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(unix * 1000).toLocaleDateString();
}
const fullTime = (unix) => (unix ? new Date(unix * 1000).toLocaleString() : '');
function clock(seconds) {
  seconds = Math.max(0, Math.floor(seconds));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

// The task's own state: queued/running while the job is "processing".
const phase = (job) => (job.status === 'processing' ? (job.output?.status || 'queued') : job.status);
const isDone = (job) => job && job.status && job.status !== 'processing';
const videoOf = (job) => job.output?.videos?.[0];

// ---------- API ----------

class APIError extends Error {
  constructor(status, body, requestId) {
    const e = body?.error || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.field = e.field || '';
    this.requestId = e.request_id || requestId || '';
  }
}

function authHeaders(extra = {}) {
  const hd = { ...extra };
  if (state.key) hd.Authorization = `Bearer ${state.key}`;
  return hd;
}

async function api(path, { method = 'GET', body, form, signal } = {}) {
  const headers = authHeaders({ Accept: 'application/json' });
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const r = await fetch(path, { method, headers, body: payload, signal });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!r.ok) {
    const err = new APIError(r.status, data, r.headers.get('X-Request-Id'));
    if (r.status === 401 && !path.startsWith('/admin/')) signOut('Your key was not accepted. Sign in again.');
    throw err;
  }
  return data;
}

// eventJob turns one SSE event's data into the job: the job object itself, one
// under "job", or (any other event) a fresh GET.
async function eventJob(id, data, signal) {
  try {
    const v = JSON.parse(data);
    if (v && v.id === id && v.status) return v;
    if (v && v.job && v.job.id === id && v.job.status) return v.job;
  } catch { /* not JSON: just a hint */ }
  return api(`/v1/jobs/${encodeURIComponent(id)}`, { signal });
}

// streamJob follows GET /v1/jobs/{id}/events (read with fetch, which can send
// the Authorization header that EventSource cannot). It reports whether the job
// ended while streaming; false means fall back to polling.
async function streamJob(id, onJob, signal) {
  if (state.sse === 'no') return false;
  let r;
  try {
    r = await fetch(`/v1/jobs/${encodeURIComponent(id)}/events`, { headers: authHeaders({ Accept: 'text/event-stream' }), signal });
  } catch { return false; }
  const ct = r.headers.get('Content-Type') || '';
  if (!r.ok || !ct.startsWith('text/event-stream')) {
    if (r.status === 404 || r.status === 405) state.sse = 'no';
    try { await r.body?.cancel(); } catch { /* ignore */ }
    return false;
  }
  state.sse = 'yes';
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let data = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      buf += value;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        let line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line === '') {
          if (!data.length) continue;
          const job = await eventJob(id, data.join('\n'), signal);
          data = [];
          onJob(job);
          if (isDone(job)) return true;
        } else if (line.startsWith('data:')) {
          data.push(line.slice(5).replace(/^ /, ''));
        }
      }
    }
  } catch { return false; } finally {
    reader.cancel().catch(() => {});
  }
}

// watchJob reports the job's changes until it ends or signal aborts: over the
// event stream when the gateway has one, else by polling with backoff.
async function watchJob(id, onJob, signal) {
  for (let attempt = 0; attempt < 5 && !signal.aborted && state.sse !== 'no'; attempt++) {
    if (await streamJob(id, onJob, signal)) return;
    if (signal.aborted || state.sse === 'no') break;
    const job = await api(`/v1/jobs/${encodeURIComponent(id)}`, { signal }).catch(() => null);
    if (job) { onJob(job); if (isDone(job)) return; }
    await sleep(800 * (attempt + 1), signal);
  }
  let delay = 600;
  let last = '';
  while (!signal.aborted) {
    try {
      const job = await api(`/v1/jobs/${encodeURIComponent(id)}`, { signal });
      const sig = `${job.status}/${phase(job)}/${job.progress}`;
      delay = sig === last ? Math.min(delay * 1.4, 4000) : 600;
      last = sig;
      onJob(job);
      if (isDone(job)) return;
    } catch (e) {
      if (signal.aborted || e.status === 404 || e.status === 401) return;
      delay = Math.min(delay * 2, 8000);
    }
    await sleep(delay, signal);
  }
}

async function uploadImage(file, purpose, signal) {
  const form = new FormData();
  form.append('kind', 'image');
  form.append('purpose', purpose);
  form.append('file', file, file.name || `${purpose}.png`);
  return api('/v1/files/upload', { method: 'POST', form, signal });
}

// ---------- sign in ----------

function signOut(message) {
  sessionStorage.removeItem(KEY);
  state.key = '';
  showSignIn(message);
}

function showSignIn(message) {
  page.stop();
  $('#nav').hidden = true;
  $('#who').hidden = true;
  const err = h('div', { class: 'field-error', id: 'signin-error', role: 'alert' }, message || '');
  const input = h('input', { type: 'password', id: 'signin-key', autocomplete: 'current-password', placeholder: 'sk-…', required: true });
  const form = h('form', { class: 'panel', id: 'signin-form', onsubmit: async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    state.key = input.value.trim();
    try {
      await probe();
      sessionStorage.setItem(KEY, state.key);
      start();
    } catch (e) {
      state.key = '';
      err.textContent = e.status === 401 ? 'That key is not valid for this gateway.' : `The gateway did not answer: ${e.message}`;
    }
  } },
  h('h1', {}, 'Sign in'),
  h('p', {}, 'Enter an API key of this gateway. It is kept in this tab only (session storage) and sent as a Bearer token.'),
  h('div', { class: 'field' }, h('label', { for: 'signin-key' }, 'API key'), input, err),
  h('button', { class: 'btn wide', type: 'submit', id: 'signin-submit' }, 'Sign in'));
  $('#main').replaceChildren(h('div', { class: 'signin' }, form));
  input.focus();
}

// probe checks the key (or its absence) against the gateway and loads the model catalog.
async function probe() {
  const headers = authHeaders({ Accept: 'application/json' });
  const r = await fetch('/v1/models', { headers });
  const body = await r.json().catch(() => null);
  // 403: a key without the read scope (an admin-only key) still signs in.
  if (!r.ok && r.status !== 403) throw new APIError(r.status, body);
  state.models = r.ok ? body?.data || [] : [];
  state.catalog = r.ok ? { version: body?.catalog_version, source: body?.catalog_source || 'embedded' } : null;
  state.open = !state.key;
}

function start() {
  $('#nav').hidden = false;
  $('#who').hidden = false;
  $('#who-label').textContent = state.open ? 'open gateway' : `key …${state.key.slice(-4)}`;
  $('#signout').hidden = state.open;
  route();
}

// ---------- routing ----------

// page holds the current view's AbortController: leaving a view stops its watchers.
const page = {
  ctl: new AbortController(),
  stop() { this.ctl.abort(); this.ctl = new AbortController(); return this.ctl.signal; },
};

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query] = raw.split('?');
  return { path, params: new URLSearchParams(query || '') };
}

function route() {
  if (!state.open && !state.key) { showSignIn(); return; }
  const signal = page.stop();
  const { path, params } = parseHash();
  let view = 'tasks';
  if (path.startsWith('/tasks/')) view = 'task';
  else if (path === '/new') view = 'new';
  else if (path === '/admin') view = 'admin';
  else if (path === '/ops') view = 'ops';
  for (const a of document.querySelectorAll('#nav a[data-nav]')) {
    a.classList.toggle('active', a.dataset.nav === view || (view === 'task' && a.dataset.nav === 'tasks'));
  }
  const main = $('#main');
  main.replaceChildren(h('div', { class: 'loading' }, 'Loading…'));
  const views = {
    tasks: () => tasksView(main, params, signal),
    task: () => taskView(main, decodeURIComponent(path.slice('/tasks/'.length)), signal),
    new: () => playgroundView(main, params, signal),
    admin: () => adminView(main, signal),
    ops: () => opsView(main, signal, { h, api }),
  };
  views[view]().catch((e) => {
    if (signal.aborted) return;
    main.replaceChildren(h('div', { class: 'panel error-box' }, h('strong', {}, 'Something went wrong. '), e.message,
      e.requestId ? h('div', { class: 'small muted' }, `request ${e.requestId}`) : null));
  });
}

// ---------- task list ----------

function statusBadge(job) {
  const p = phase(job);
  return h('span', { class: `badge ${p}`, dataset: { status: p } }, p);
}

function thumb(job) {
  const box = h('div', { class: 'thumb' });
  const v = videoOf(job);
  const p = phase(job);
  if (job.status === 'succeeded' && job.output?.last_frame_url) {
    box.append(h('img', { src: job.output.last_frame_url, alt: '', loading: 'lazy' }));
  } else if (job.status === 'succeeded' && v) {
    box.append(h('video', { src: `${v.url}#t=0.5`, muted: true, preload: 'metadata', playsinline: true }));
  } else if (job.input?.first_frame_url && !isDone(job)) {
    box.append(h('img', { src: job.input.first_frame_url, alt: '', loading: 'lazy' }));
    box.append(h('div', { class: 'shade' }, `${job.progress || 0}%`));
  } else if (job.status === 'failed') {
    box.append(h('div', { class: 'placeholder failed' }, job.error?.upstream_code || job.error?.code || 'failed'));
  } else if (!isDone(job)) {
    box.append(h('div', { class: 'placeholder' }, `${job.progress || 0}%`));
  } else {
    box.append(h('div', { class: 'placeholder' }, p));
  }
  box.append(statusBadge(job));
  if (v) box.append(h('span', { class: 'dur' }, `${Math.round(v.duration)} s`));
  return box;
}

function card(job) {
  const el = h('a', { class: 'card', href: `#/tasks/${encodeURIComponent(job.id)}`, dataset: { id: job.id } });
  fillCard(el, job);
  return el;
}

function fillCard(el, job) {
  el.dataset.sig = `${job.status}/${phase(job)}/${job.progress}`;
  el.dataset.status = phase(job);
  const progress = isDone(job) ? null
    : h('div', { class: 'progress' }, h('span', { style: `width:${job.progress || 0}%` }));
  el.replaceChildren(
    thumb(job),
    h('div', { class: 'body' },
      h('p', { class: 'prompt', title: job.input?.prompt || '' }, job.input?.prompt || h('span', { class: 'muted' }, '(no prompt)')),
      progress,
      h('div', { class: 'meta' },
        h('span', { title: job.model }, job.model),
        h('span', { title: fullTime(job.created) }, `${job.dialect} · ${relTime(job.created)}`))));
}

function select(id, label, options, value) {
  return h('select', { id, 'aria-label': label },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
}

async function tasksView(main, params, signal) {
  const filters = {
    q: params.get('q') || '', status: params.get('status') || '', model: params.get('model') || '', dialect: params.get('dialect') || '',
  };
  const q = h('input', { type: 'search', id: 'f-q', placeholder: 'Search prompts…', value: filters.q, 'aria-label': 'Search prompts' });
  const status = select('f-status', 'Status', [['', 'All statuses'], ...STATUSES.map((s) => [s, s[0].toUpperCase() + s.slice(1)])], filters.status);
  const model = select('f-model', 'Model', [['', 'All models'], ...state.models.map((m) => [m.id, m.name])], filters.model);
  const dialect = select('f-dialect', 'API', [['', 'All APIs'], ...DIALECTS.map((d) => [d, d])], filters.dialect);
  const grid = h('div', { class: 'grid', id: 'task-grid' });
  const more = h('button', { class: 'btn ghost', type: 'button', id: 'more', hidden: true }, 'Load more');
  const count = h('p', { id: 'task-count' }, '');
  main.replaceChildren(
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', {}, 'Tasks'), count),
      h('a', { class: 'btn', href: '#/new' }, '+ New video')),
    h('div', { class: 'filters' }, h('div', { class: 'search' }, q), status, model, dialect),
    grid,
    h('div', { class: 'more' }, more));

  let next = '';
  let pages = 1;
  const cards = new Map();
  const query = (after) => {
    const u = new URLSearchParams({ limit: '24' });
    for (const [k, v] of Object.entries(filters)) if (v) u.set(k, v);
    if (after) u.set('after', after);
    return `/v1/jobs?${u}`;
  };
  const render = (list, appendPage) => {
    if (!appendPage) {
      // Keep the cards that exist (no thumbnail flicker), in the new order.
      const keep = new Set(list.data.map((j) => j.id));
      for (const [id, el] of cards) if (!keep.has(id)) { el.remove(); cards.delete(id); }
    }
    const frag = document.createDocumentFragment();
    for (const job of list.data) {
      let el = cards.get(job.id);
      if (!el) { el = card(job); cards.set(job.id, el); } else if (el.dataset.sig !== `${job.status}/${phase(job)}/${job.progress}`) fillCard(el, job);
      frag.append(el);
    }
    if (appendPage) grid.append(frag); else grid.replaceChildren(frag);
    if (!cards.size) {
      const any = Object.values(filters).some(Boolean);
      grid.replaceChildren(h('div', { class: 'empty', style: 'grid-column:1/-1' },
        h('strong', {}, any ? 'No task matches these filters.' : 'No tasks yet.'),
        any ? 'Clear a filter to see more.' : h('span', {}, 'Make one in the ', h('a', { href: '#/new' }, 'playground'), ', with the CLI, or through any of the APIs.')));
    }
    if (!appendPage) next = list.has_more ? list.next_after : next;
    more.hidden = !list.has_more;
    count.textContent = `${cards.size}${list.has_more ? '+' : ''} task${cards.size === 1 ? '' : 's'}`;
  };
  const load = async () => {
    const list = await api(query(''), { signal });
    render(list, false);
    next = list.has_more ? list.next_after : '';
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const list = await api(query(next), { signal });
      next = list.has_more ? list.next_after : '';
      pages++;
      render(list, true);
    } catch (e) { toast(e); } finally { more.disabled = false; }
  });
  const changed = () => {
    filters.q = q.value.trim();
    filters.status = status.value;
    filters.model = model.value;
    filters.dialect = dialect.value;
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) u.set(k, v);
    history.replaceState(null, '', `#/${u.toString() ? `?${u}` : ''}`);
    cards.clear();
    pages = 1;
    load().catch(toast);
  };
  let debounce;
  q.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(changed, 300); });
  for (const s of [status, model, dialect]) s.addEventListener('change', changed);

  await load();
  // Live: refresh the first page, often while something is processing.
  (async () => {
    while (!signal.aborted) {
      const busy = [...cards.values()].some((el) => el.dataset.status === 'queued' || el.dataset.status === 'running');
      await sleep(busy ? 1200 : 6000, signal);
      if (signal.aborted || document.hidden) continue;
      try {
        const list = await api(query(''), { signal });
        if (pages === 1) render(list, false);
        else {
          // More pages are shown: update what is there, put new jobs on top.
          for (const job of [...list.data].reverse()) {
            const el = cards.get(job.id);
            if (!el) { const c = card(job); cards.set(job.id, c); grid.prepend(c); } else if (el.dataset.sig !== `${job.status}/${phase(job)}/${job.progress}`) fillCard(el, job);
          }
        }
      } catch { /* try again later */ }
    }
  })();
}

// ---------- task page ----------

function kv(rows) {
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of rows) {
    if (v === undefined || v === null || v === '') continue;
    dl.append(h('dt', {}, k), h('dd', {}, v));
  }
  return dl;
}
const yesno = (b) => (b === undefined || b === null ? undefined : b ? 'yes' : 'no');

function copyButton(text) {
  return h('button', { class: 'copy', type: 'button', title: 'Copy', onclick: async () => {
    try { await navigator.clipboard.writeText(text); toast('Copied'); } catch { toast(text); }
  } }, 'copy');
}

// warningsBox lists what the gateway changed to fit the request to the model.
function warningsBox(job) {
  if (!job.warnings?.length) return null;
  return h('div', { class: 'warnings', id: 'job-warnings' }, h('strong', {}, 'Adjusted to fit the model'),
    h('ul', {}, job.warnings.map((w) => h('li', {}, w))));
}

function playerFor(job) {
  const v = videoOf(job);
  if (job.status === 'succeeded' && v) {
    return h('div', { class: 'player' }, h('video', {
      id: 'task-video', src: v.url, controls: true, playsinline: true, preload: 'auto',
      poster: job.output?.last_frame_url || undefined,
    }));
  }
  if (!isDone(job)) {
    const started = job.created || Date.now() / 1000;
    return h('div', { class: 'player waiting', id: 'task-wait' },
      h('div', { class: 'wait-box' },
        h('div', { class: 'pct', id: 'task-pct' }, `${job.progress || 0}%`),
        h('div', { class: 'progress big' }, h('span', { id: 'task-bar', style: `width:${job.progress || 0}%` })),
        h('div', { class: 'muted', id: 'task-phase' }, `${phase(job)} · ${clock(Date.now() / 1000 - started)}`)));
  }
  const e = job.error;
  return h('div', { class: 'player waiting' }, h('div', { class: 'wait-box' },
    h('div', { class: 'pct' }, job.status === 'failed' ? 'Failed' : job.status[0].toUpperCase() + job.status.slice(1)),
    e ? h('div', { class: 'muted' }, e.message) : null));
}

async function taskView(main, id, signal) {
  let job = await api(`/v1/jobs/${encodeURIComponent(id)}`, { signal });
  const render = () => {
    const inp = job.input || {};
    const out = job.output || {};
    const v = videoOf(job);
    const actions = h('div', { class: 'actions' },
      !isDone(job) ? h('button', { class: 'btn danger small', type: 'button', id: 'task-cancel', onclick: cancel }, 'Cancel') : null,
      v ? h('a', { class: 'btn ghost small', href: v.url, download: `${job.id}.mp4`, id: 'task-download' }, 'Download') : null,
      h('a', { class: 'btn ghost small', href: `#/new?from=${encodeURIComponent(job.id)}` }, 'Open in playground'));
    const frames = [];
    if (inp.first_frame_url) frames.push(['First frame (input)', inp.first_frame_url]);
    if (inp.last_frame_url) frames.push(['Last frame (input)', inp.last_frame_url]);
    for (const [i, u] of (inp.reference_image_urls || []).entries()) frames.push([`Reference ${i + 1}`, u]);
    if (out.last_frame_url) frames.push(['Last frame (output)', out.last_frame_url]);
    const params = [
      ['Resolution', out.resolution || inp.resolution], ['Ratio', out.ratio || inp.ratio || inp.aspect_ratio],
      ['Duration', inp.duration !== undefined ? (inp.duration === -1 ? 'model chooses' : `${inp.duration} s`) : inp.frames ? `${inp.frames} frames` : undefined],
      ['Seed', out.seed ?? inp.seed], ['Audio', yesno(inp.generate_audio)], ['Watermark', yesno(inp.watermark)],
      ['Camera fixed', yesno(inp.camera_fixed)], ['Last frame', yesno(inp.return_last_frame)],
      ['Service tier', inp.service_tier], ['Draft', yesno(inp.draft)], ['Callback', inp.callback_url],
    ];
    main.replaceChildren(
      h('div', { class: 'page-head' },
        h('div', {}, h('a', { href: '#/', class: 'small' }, '← Tasks'))),
      h('div', { class: 'split' },
        h('div', { class: 'stack' },
          h('div', { id: 'task-player' }, playerFor(job)),
          h('div', { class: 'panel' },
            h('div', { class: 'title-row' },
              h('div', {}, statusBadge(job), ' ', h('span', { class: 'mono small muted', id: 'task-id' }, job.id), copyButton(job.id)),
              actions),
            h('h1', { style: 'margin-top:.6rem', id: 'task-prompt' }, inp.prompt || '(no prompt)'),
            warningsBox(job),
            job.error ? h('div', { class: 'error-box', id: 'task-error' },
              h('strong', {}, job.error.code), job.error.upstream_code ? ` (${job.error.upstream_code})` : '', ': ', job.error.message) : null),
          frames.length ? h('div', { class: 'panel' }, h('h3', {}, 'Frames'),
            h('div', { class: 'frames', id: 'task-frames' }, frames.map(([label, src]) =>
              h('figure', {}, h('a', { href: src, target: '_blank', rel: 'noopener' }, h('img', { src, alt: label, loading: 'lazy' })), h('figcaption', {}, label))))) : null),
        h('div', { class: 'stack' },
          h('div', { class: 'panel' }, h('h3', {}, 'Task'), kv([
            ['Status', `${job.status}${job.status === 'processing' ? ` (${phase(job)}, ${job.progress}%)` : ''}`],
            ['Model', job.model], ['API', job.dialect], ['Created', fullTime(job.created)], ['Finished', fullTime(job.finished)],
            ['Run time', job.finished ? clock(job.finished - job.created) : undefined],
          ])),
          h('div', { class: 'panel' }, h('h3', {}, 'Parameters'), kv(params)),
          v ? h('div', { class: 'panel' }, h('h3', {}, 'Output'), kv([
            ['Video', `${v.width}×${v.height}, ${v.duration.toFixed(1)} s, ${v.fps} fps`], ['Audio track', yesno(v.has_audio)],
          ])) : null,
          job.usage ? h('div', { class: 'panel', id: 'task-usage' }, h('h3', {}, 'Usage'), kv([
            ['Completion tokens', job.usage.completion_tokens.toLocaleString()], ['Total tokens', job.usage.total_tokens.toLocaleString()],
          ])) : null,
          h('div', { class: 'panel', id: 'task-deliveries' }, h('h3', {}, 'Webhook deliveries'), h('div', { class: 'muted small' }, 'Loading…')),
          h('div', { class: 'panel' }, h('details', { class: 'raw' }, h('summary', {}, 'Raw JSON'), h('pre', {}, JSON.stringify(job, null, 2)))))));
    loadDeliveries(job, signal);
  };
  const cancel = async () => {
    try {
      job = await api(`/v1/jobs/${encodeURIComponent(job.id)}/cancel`, { method: 'POST', signal });
      toast('Cancelled');
      render();
    } catch (e) {
      toast(e.status === 409 ? 'It is already running: it can no longer be cancelled.' : e);
    }
  };
  render();
  if (!isDone(job)) {
    const tick = setInterval(() => {
      const ph = $('#task-phase');
      if (ph && !isDone(job)) ph.textContent = `${phase(job)} · ${clock(Date.now() / 1000 - job.created)}`;
    }, 1000);
    signal.addEventListener('abort', () => clearInterval(tick));
    await watchJob(job.id, (j) => {
      const before = job;
      job = j;
      if (isDone(j) || phase(before) !== phase(j)) { render(); return; }
      const pct = $('#task-pct');
      if (pct) pct.textContent = `${j.progress}%`;
      const bar = $('#task-bar');
      if (bar) bar.style.width = `${j.progress}%`;
    }, signal);
    clearInterval(tick);
  }
}

async function loadDeliveries(job, signal) {
  const box = $('#task-deliveries');
  const show = (...children) => { if (box) box.replaceChildren(h('h3', {}, 'Webhook deliveries'), ...children); };
  try {
    const res = await api(`/v1/jobs/${encodeURIComponent(job.id)}/deliveries`, { signal });
    const rows = Array.isArray(res) ? res : res?.data || res?.deliveries || [];
    if (!rows.length) {
      show(h('div', { class: 'muted small' }, job.input?.callback_url ? 'No delivery yet.' : 'This task has no callback_url: nothing is delivered.'));
      return;
    }
    if (!('state' in rows[0] && 'task_status' in rows[0])) { // an unknown shape: show it as it is
      show(h('div', { class: 'table-wrap' }, table(rows)));
      return;
    }
    const retry = async (d, btn) => {
      btn.disabled = true;
      try {
        await api(`/v1/jobs/${encodeURIComponent(job.id)}/deliveries/${encodeURIComponent(d.id)}/retry`, { method: 'POST', signal });
        toast('Sent again');
        loadDeliveries(job, signal);
      } catch (e) { toast(e); btn.disabled = false; }
    };
    const stateClass = { delivered: 'succeeded', failed: 'failed', gone: 'failed', pending: 'queued', skipped: 'cancelled' };
    show(h('p', { class: 'small muted', style: 'margin:0 0 .5rem' }, 'To ', h('span', { class: 'mono' }, rows[0].url)),
      h('div', { class: 'table-wrap' }, h('table', { class: 'list', id: 'deliveries-table' },
        h('thead', {}, h('tr', {}, ['Event', 'State', 'When', ''].map((x) => h('th', {}, x)))),
        h('tbody', {}, rows.map((d) => h('tr', {},
          h('td', {}, d.task_status),
          h('td', { title: d.last_error || '' }, h('span', { class: `badge ${stateClass[d.state] || ''}` }, d.state),
            h('div', { class: 'small muted' }, `${d.attempts} ${d.attempts === 1 ? 'try' : 'tries'}${d.last_status_code ? ` · HTTP ${d.last_status_code}` : d.last_error ? ' · error' : ''}`)),
          h('td', { title: fullTime(d.delivered_at || d.created) }, d.delivered_at ? relTime(d.delivered_at)
            : d.next_attempt_at ? `next ${new Date(d.next_attempt_at * 1000).toLocaleTimeString()}` : relTime(d.created)),
          h('td', {}, d.state !== 'pending' ? h('button', { class: 'btn ghost small', type: 'button', onclick: (ev) => retry(d, ev.currentTarget) }, 'Retry') : null)))))));
  } catch (e) {
    if (signal.aborted) return;
    if (e.status === 404) show(h('div', { class: 'muted small', id: 'deliveries-na' }, 'Not available on this gateway.'));
    else show(h('div', { class: 'muted small' }, e.message));
  }
}

// table renders objects as rows; preferred columns first, then other scalar fields, at most 7.
function table(rows, preferred = []) {
  const keys = [];
  const scalar = (v) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  for (const k of preferred) if (rows.some((r) => r[k] !== undefined && scalar(r[k]))) keys.push(k);
  for (const k of Object.keys(rows[0] || {})) if (!keys.includes(k) && scalar(rows[0][k])) keys.push(k);
  const cols = keys.slice(0, 7);
  const fmt = (k, v) => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number' && /(^|_)(created|updated|at|time)$|_at$/.test(k) && v > 1e9) return fullTime(v);
    return String(v);
  };
  return h('table', { class: 'list' },
    h('thead', {}, h('tr', {}, cols.map((k) => h('th', {}, k.replaceAll('_', ' '))))),
    h('tbody', {}, rows.map((r) => h('tr', {}, cols.map((k) => h('td', {}, fmt(k, r[k])))))));
}

// ---------- playground ----------

const FIELD_OF = {
  model: 'model', 'input.prompt': 'prompt', 'input.first_frame_url': 'first', 'input.last_frame_url': 'last',
  'input.resolution': 'resolution', 'input.aspect_ratio': 'ratio', 'input.ratio': 'ratio', 'input.duration': 'duration',
  'input.seed': 'seed', 'input.generate_audio': 'audio', 'input.watermark': 'watermark', 'input.camera_fixed': 'camera',
};

function dropZone(id, label) {
  const input = h('input', { type: 'file', id, accept: 'image/png,image/jpeg,image/webp,image/bmp,image/tiff,image/gif,image/heic,image/heif', 'aria-label': label });
  const text = h('span', { class: 'drop-text' }, label, h('br'), h('span', { class: 'hint' }, 'click or drop an image'));
  const zone = h('div', { class: 'drop', id: `${id}-zone` }, text, input);
  const field = h('div', { class: 'field' }, zone, h('div', { class: 'field-error' }));
  const dz = {
    field, input, file: null,
    set(file) {
      dz.file = file;
      for (const el of zone.querySelectorAll('img,.clear')) el.remove();
      text.hidden = !!file;
      if (!file) return;
      const img = h('img', { alt: `${label} preview`, id: `${id}-preview` });
      img.src = URL.createObjectURL(file);
      const clear = h('button', { class: 'clear', type: 'button', onclick: (ev) => { ev.preventDefault(); input.value = ''; dz.set(null); } }, '✕');
      zone.append(img, clear);
    },
    enable(on) {
      zone.classList.toggle('disabled', !on);
      input.disabled = !on;
      zone.title = on ? '' : 'this model does not take it';
      if (!on && dz.file) { input.value = ''; dz.set(null); }
    },
  };
  input.addEventListener('change', () => dz.set(input.files[0] || null));
  zone.addEventListener('dragover', (ev) => { ev.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('over');
    if (!input.disabled && ev.dataTransfer.files[0]) dz.set(ev.dataTransfer.files[0]);
  });
  return dz;
}

function toggle(id, label, checked) {
  const input = h('input', { type: 'checkbox', id, checked });
  const el = h('label', { class: 'toggle', for: id }, input, label);
  return { el, input, enable(on) { input.disabled = !on; el.classList.toggle('disabled', !on); if (!on) input.checked = false; } };
}

async function playgroundView(main, params, signal) {
  if (!state.models.length) await probe();
  let template = null;
  if (params.get('from')) template = await api(`/v1/jobs/${encodeURIComponent(params.get('from'))}`, { signal }).catch(() => null);
  const models = state.models;
  const fields = {};
  const field = (name, labelText, control, hint) => {
    const f = h('div', { class: 'field', dataset: { field: name } },
      h('label', { for: control.id }, labelText, hint ? h('span', { class: 'hint' }, ` ${hint}`) : null), control, h('div', { class: 'field-error' }));
    fields[name] = f;
    return f;
  };
  const defModel = models.find((m) => m.id === 'seedance-1-5-pro') || models[0];
  const model = h('select', { id: 'pg-model' }, models.map((m) => h('option', { value: m.id }, `${m.name} — ${m.id}`)));
  const tplModel = template && models.find((m) => m.id === template.model || m.aliases.includes(template.model) || template.model.startsWith(m.id));
  model.value = (tplModel || defModel).id;
  const prompt = h('textarea', { id: 'pg-prompt', placeholder: 'Describe the shot: subject, motion, camera, light…', rows: 4 }, template?.input?.prompt || '');
  const resolution = h('select', { id: 'pg-resolution' });
  const ratio = h('select', { id: 'pg-ratio' });
  const duration = h('select', { id: 'pg-duration' });
  const seed = h('input', { type: 'number', id: 'pg-seed', placeholder: 'random', min: -1, step: 1 });
  if (template?.input?.seed !== undefined && template.input.seed !== -1) seed.value = template.input.seed;
  const first = dropZone('pg-first-frame', 'First frame');
  const last = dropZone('pg-last-frame', 'Last frame');
  fields.first = first.field;
  fields.last = last.field;
  const audio = toggle('pg-audio', 'Audio', true);
  const watermark = toggle('pg-watermark', 'Watermark', !!template?.input?.watermark);
  const camera = toggle('pg-camera-fixed', 'Fixed camera', !!template?.input?.camera_fixed);
  const lastOut = toggle('pg-return-last-frame', 'Return last frame', true);
  fields.audio = audio.el;
  fields.watermark = watermark.el;
  fields.camera = camera.el;
  const note = h('p', { class: 'model-note', id: 'pg-model-note' });
  const submit = h('button', { class: 'btn wide', type: 'submit', id: 'pg-submit' }, 'Generate');
  const formError = h('div', { class: 'field-error', id: 'pg-error', role: 'alert' });
  const result = h('div', { id: 'pg-result' }, h('div', { class: 'result-empty' }, h('div', {},
    h('strong', {}, 'Your video appears here.'), h('br'), h('span', { class: 'small' }, 'Progress is shown live while it renders.'))));

  const opts = (sel, values, def, labels = {}) => {
    const keep = sel.value;
    sel.replaceChildren(...values.map((v) => h('option', { value: String(v) }, labels[v] || String(v))));
    sel.value = values.map(String).includes(keep) ? keep : String(def);
  };
  const applyModel = () => {
    const m = models.find((x) => x.id === model.value);
    if (!m) return;
    opts(resolution, m.resolutions, m.default_resolution);
    opts(ratio, m.ratios, m.default_ratio.text);
    const ds = [];
    if (m.durations.auto) ds.push(-1);
    for (let d = m.durations.min; d <= m.durations.max; d++) ds.push(d);
    opts(duration, ds, m.durations.default, Object.fromEntries(ds.map((d) => [d, d === -1 ? 'model chooses' : `${d} s`])));
    first.enable(m.inputs.first_frame);
    last.enable(m.inputs.last_frame);
    audio.enable(m.features.audio);
    if (m.features.audio && !audio.input.dataset.touched) audio.input.checked = true;
    camera.enable(m.features.camera_fixed);
    lastOut.enable(m.features.return_last_frame);
    if (m.features.return_last_frame && !lastOut.input.dataset.touched) lastOut.input.checked = true;
    const modes = { text: 'text', first_frame: 'first frame', first_last_frame: 'first + last frame', reference: 'reference images', draft_task: 'draft re-render' };
    note.textContent = `${m.name}: ${m.modes.map((x) => modes[x] || x).join(', ')} · ${m.durations.min}–${m.durations.max} s · up to ${m.resolutions[m.resolutions.length - 1]}${m.features.audio ? ' · audio' : ''}`;
  };
  for (const t of [audio, lastOut]) t.input.addEventListener('change', () => { t.input.dataset.touched = '1'; });
  model.addEventListener('change', applyModel);
  applyModel();
  if (template) {
    const ti = template.input || {};
    for (const [sel, v] of [[resolution, ti.resolution], [ratio, ti.ratio || ti.aspect_ratio], [duration, ti.duration]]) {
      if (v !== undefined && [...sel.options].some((o) => o.value === String(v))) sel.value = String(v);
    }
    if (ti.generate_audio !== undefined && !audio.input.disabled) audio.input.checked = ti.generate_audio;
  }

  const clearErrors = () => {
    formError.textContent = '';
    for (const f of Object.values(fields)) {
      f.classList.remove('invalid');
      const fe = f.querySelector('.field-error');
      if (fe) fe.textContent = '';
    }
  };
  const showError = (e, fieldName) => {
    const name = fieldName || FIELD_OF[e.field];
    const f = name && fields[name];
    if (f) {
      f.classList.add('invalid');
      const fe = f.querySelector('.field-error');
      if (fe) fe.textContent = e.message; else formError.textContent = e.message;
      f.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    } else {
      formError.textContent = e.message + (e.requestId ? ` (request ${e.requestId})` : '');
    }
  };

  const form = h('form', { class: 'panel', id: 'pg-form', novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    clearErrors();
    const m = models.find((x) => x.id === model.value);
    if (!prompt.value.trim() && !first.file) {
      showError({ message: m.inputs.text ? 'Write a prompt (or give a first frame).' : 'This model needs a first frame.' }, m.inputs.text ? 'prompt' : 'first');
      return;
    }
    submit.disabled = true;
    const progress = waitingPanel(result);
    try {
      const input = { prompt: prompt.value.trim(), resolution: resolution.value, ratio: ratio.value, duration: Number(duration.value), watermark: watermark.input.checked };
      if (!audio.input.disabled) input.generate_audio = audio.input.checked;
      if (!camera.input.disabled && camera.input.checked) input.camera_fixed = true;
      if (!lastOut.input.disabled) input.return_last_frame = lastOut.input.checked;
      if (seed.value !== '') input.seed = Number(seed.value);
      for (const [dz, key, purpose, name] of [[first, 'first_frame_url', 'first_frame', 'first'], [last, 'last_frame_url', 'last_frame', 'last']]) {
        if (!dz.file) continue;
        progress.say(`Uploading the ${purpose.replace('_', ' ')}…`);
        try {
          input[key] = (await uploadImage(dz.file, purpose, signal)).url;
        } catch (e) { showError(e, name); throw null; }
      }
      progress.say('Submitting…');
      const job = await api('/v1/jobs', { method: 'POST', body: { model: model.value, input }, signal });
      progress.job(job);
      await watchJob(job.id, progress.job, signal);
    } catch (e) {
      if (e && !signal.aborted) { showError(e); progress.fail(e); }
      if (!e) progress.reset();
    } finally {
      submit.disabled = false;
    }
  } },
  h('div', { class: 'drops' }, first.field, last.field),
  field('model', 'Model', model),
  note,
  field('prompt', 'Prompt', prompt),
  h('div', { class: 'fields' },
    field('resolution', 'Resolution', resolution), field('ratio', 'Ratio', ratio),
    field('duration', 'Duration', duration), field('seed', 'Seed', seed)),
  h('div', { class: 'toggles' }, audio.el, watermark.el, camera.el, lastOut.el),
  submit, formError);

  main.replaceChildren(
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Playground'),
      h('p', {}, template ? `Starting from ${template.id}.` : 'Try a model: frames are uploaded to the gateway, then the job runs.'))),
    h('div', { class: 'split' }, h('div', {}, form), h('div', { class: 'panel' }, h('h3', {}, 'Result'), result)));
}

// waitingPanel shows a job's live progress in box, then its video or error.
function waitingPanel(box) {
  const pct = h('div', { class: 'pct', id: 'pg-pct' }, '');
  const bar = h('span', { id: 'pg-bar', style: 'width:0%' });
  const status = h('div', { class: 'muted', id: 'pg-status' }, 'Starting…');
  const link = h('div', { class: 'small', style: 'margin-top:.5rem' });
  const started = Date.now();
  let current = null;
  let warned = false;
  box.replaceChildren(h('div', { class: 'player waiting', id: 'pg-progress' },
    h('div', { class: 'wait-box' }, pct, h('div', { class: 'progress big' }, bar), status, link)));
  const tick = setInterval(() => { if (current && !isDone(current)) status.textContent = `${phase(current)} · ${clock((Date.now() - started) / 1000)}`; }, 1000);
  return {
    say(text) { status.textContent = text; },
    reset() { clearInterval(tick); box.replaceChildren(h('div', { class: 'result-empty' }, 'Fix the form and try again.')); },
    job(job) {
      current = job;
      pct.textContent = `${job.progress || 0}%`;
      bar.style.width = `${job.progress || 0}%`;
      box.dataset.status = job.status;
      box.dataset.id = job.id;
      status.textContent = `${phase(job)} · ${clock((Date.now() - started) / 1000)}`;
      link.replaceChildren(h('a', { href: `#/tasks/${encodeURIComponent(job.id)}`, id: 'pg-task-link' }, job.id));
      if (!warned && job.warnings?.length) { warned = true; box.append(warningsBox(job)); }
      if (!isDone(job)) return;
      clearInterval(tick);
      const v = videoOf(job);
      if (job.status === 'succeeded' && v) {
        box.replaceChildren(
          h('div', { class: 'player' }, h('video', { id: 'pg-video', src: v.url, controls: true, autoplay: true, muted: true, loop: true, playsinline: true, poster: job.output?.last_frame_url || undefined })),
          h('div', { class: 'title-row', style: 'margin-top:.7rem' },
            h('div', {}, statusBadge(job), ' ', h('span', { class: 'small muted' }, `${v.width}×${v.height} · ${v.duration.toFixed(1)} s · ${clock((Date.now() - started) / 1000)}`)),
            h('div', { class: 'actions' },
              h('a', { class: 'btn ghost small', href: v.url, download: `${job.id}.mp4` }, 'Download'),
              h('a', { class: 'btn ghost small', href: `#/tasks/${encodeURIComponent(job.id)}`, id: 'pg-task-link' }, 'Details'))),
          warningsBox(job));
        box.dataset.status = job.status;
      } else {
        box.replaceChildren(h('div', { class: 'error-box', id: 'pg-failed' },
          h('strong', {}, job.status === 'failed' ? 'Failed' : job.status), ': ',
          job.error ? `${job.error.message}${job.error.upstream_code ? ` (${job.error.upstream_code})` : ''}` : '',
          ' ', h('a', { href: `#/tasks/${encodeURIComponent(job.id)}` }, 'details')));
      }
    },
    fail(e) {
      clearInterval(tick);
      box.replaceChildren(h('div', { class: 'error-box' }, h('strong', {}, e.code || 'error'), ': ', e.message));
    },
  };
}

// ---------- admin ----------

// The admin page: API keys, tenants and balances, usage and the audit log
// through the admin API (/admin/v1, admin keys only: others see a notice and
// their own tenant's usage), then the gateway's health and the model catalog.
// A tenant's admin key sees and manages its own tenant only, without balances
// and limits, which only a global admin sets.
async function adminView(main, signal) {
  const section = (id, title, desc) => h('div', { class: 'panel', id }, h('h2', {}, title), h('p', { class: 'muted small' }, desc), h('div', { class: 'body muted' }, 'Loading…'));
  const keys = section('admin-keys', 'API keys', 'Keys of this gateway: their tenants, scopes and limits. A new key is shown once; the gateway keeps only its hash.');
  const tenants = section('admin-tenants', 'Tenants and balances', 'Balances are reserved at submit and settled to the usage; a tenant without a balance is not limited by one.');
  const usage = section('admin-usage', 'Usage', 'Settled usage per model and day (UTC).');
  const audit = section('admin-audit', 'Audit log', 'Every change made through the admin API or `seedgate keys`.');
  const health = section('admin-health', 'Gateway', 'Readiness of the store and the media tools.');
  const catalog = section('admin-models', 'Models', 'The catalog requests are validated against.');
  main.replaceChildren(h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Admin'),
    h('p', {}, 'Keys, tenants and budgets need an admin key: a tenant\'s admin key manages that tenant, a global admin every tenant; everything else is read-only.'))),
  h('div', { class: 'split' }, h('div', { class: 'stack' }, keys, tenants, usage, audit), h('div', { class: 'stack' }, health, catalog)));
  const fill = (el, ...children) => { const b = $('.body', el); b.className = 'body'; b.replaceChildren(); append(b, children); };
  const notice = (el, e) => {
    const msg = e.status === 404 || e.status === 405 ? 'Not available on this gateway: its admin API is not there (it answers 404).'
      : e.status === 401 || e.status === 403 ? 'This key may not see it: sign in with an admin key.' : e.message;
    fill(el, h('div', { class: 'notice', dataset: { na: String(e.status) } }, msg));
  };
  const rows = (el, list, cols, empty = 'Nothing yet.') => fill(el, list.length ? h('div', { class: 'table-wrap' }, table(list, cols)) : h('span', {}, empty));
  const amount = (n, unit) => (n === null || n === undefined ? 'unlimited'
    : unit && unit.startsWith('micro-') ? `${(n / 1e6).toLocaleString(undefined, { maximumFractionDigits: 6 })} ${unit.slice(6)}` : `${n.toLocaleString()} ${unit || ''}`);
  const act = async (fn, done) => {
    try { await fn(); if (done) toast(done); } catch (e) { if (!signal.aborted) toast(`${e.code || 'error'}: ${e.message}`, 6000); }
  };

  // A new key or secret is shown here, above the keys, until the page is left.
  const reveal = h('div', { id: 'new-key' });
  const showSecret = (title, value) => reveal.replaceChildren(h('div', { class: 'warnings' }, h('strong', {}, title),
    h('div', { class: 'mono', style: 'word-break: break-all; margin-top: .3rem' }, value, ' ', copyButton(value))));

  let isAdmin = false;
  let me = { global: false, tenant: 'default' }; // the signed-in admin key (GET /admin/v1/me)
  const loadKeys = async () => {
    me = await api('/admin/v1/me', { signal });
    const res = await api('/admin/v1/keys', { signal });
    isAdmin = true;
    const list = res.data || [];
    const tbl = h('table', { class: 'list', id: 'keys-table' },
      h('thead', {}, h('tr', {}, ['Key', 'Tenant', 'Scopes', 'Limits', 'Status', 'Last used', ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, list.map((k) => h('tr', { dataset: { id: k.id, status: k.status } },
        h('td', {}, h('strong', {}, k.name || '(no name)'), h('br'), h('span', { class: 'mono small muted' }, k.id)),
        h('td', {}, k.tenant), h('td', {}, k.scopes.join(', ')),
        h('td', { class: 'small' }, `${k.rpm ?? 'tenant'} rpm · ${k.max_in_flight ?? 'tenant'} in flight`),
        h('td', {}, k.status), h('td', { class: 'small' }, k.last_used_at ? relTime(k.last_used_at) : 'never'),
        h('td', {}, k.status === 'revoked' ? '' : h('div', { class: 'actions' },
          h('button', { class: 'btn small ghost', type: 'button', onclick: () => act(async () => {
            const sec = await api(`/admin/v1/keys/${encodeURIComponent(k.id)}/webhook-secret/rotate`, { method: 'POST', signal });
            showSecret(`New webhook secret of ${k.id} (the old one signs too for a day)`, sec.secret);
          }) }, 'Rotate secret'),
          h('button', { class: 'btn small danger', type: 'button', onclick: () => {
            if (!confirm(`Revoke ${k.name || k.id}? Clients using it are refused within seconds.`)) return;
            act(async () => { await api(`/admin/v1/keys/${encodeURIComponent(k.id)}/revoke`, { method: 'POST', signal }); await refresh(); }, 'Key revoked');
          } }, 'Revoke')))))));
    const f = {
      name: h('input', { type: 'text', id: 'key-name', placeholder: 'my app' }),
      tenant: h('input', { type: 'text', id: 'key-tenant', placeholder: 'default' }),
      days: h('input', { type: 'number', id: 'key-days', min: '1', placeholder: 'never' }),
      rpm: h('input', { type: 'number', id: 'key-rpm', min: '0', placeholder: 'tenant' }),
      inflight: h('input', { type: 'number', id: 'key-inflight', min: '0', placeholder: 'tenant' }),
    };
    // A tenant admin makes keys of its own tenant, without limits of their own (those would override its tenant's).
    if (!me.global) { f.tenant.defaultValue = me.tenant; f.tenant.disabled = true; }
    const scopeNames = me.global ? ['read', 'submit', 'admin', 'global_admin'] : ['read', 'submit', 'admin'];
    const scope = (name, on) => h('label', { class: 'toggle' }, h('input', { type: 'checkbox', id: `key-scope-${name}`, checked: on }), name);
    const scopes = h('div', { class: 'toggles' }, scopeNames.map((n) => scope(n, n === 'read' || n === 'submit')));
    const field = (label, input) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
    const form = h('form', { id: 'key-form', onsubmit: (ev) => {
      ev.preventDefault();
      const body = { name: f.name.value, tenant: me.global ? f.tenant.value || 'default' : me.tenant,
        scopes: scopeNames.filter((s) => $(`#key-scope-${s}`, form).checked) };
      if (f.days.value) body.expires_in = Number(f.days.value) * 86400;
      if (me.global && f.rpm.value !== '') body.rpm = Number(f.rpm.value);
      if (me.global && f.inflight.value !== '') body.max_in_flight = Number(f.inflight.value);
      act(async () => {
        const k = await api('/admin/v1/keys', { method: 'POST', body, signal });
        await refresh();
        showSecret(`New key ${k.id} — copy it now, it is not shown again`, k.key);
        form.reset();
      }, 'Key created');
    } },
    h('h3', {}, 'New key'),
    h('div', { class: 'fields' }, field('Name', f.name), field('Tenant', f.tenant), field('Expires in (days)', f.days),
      me.global ? field('Requests / min', f.rpm) : null, me.global ? field('Tasks in flight', f.inflight) : null),
    scopes, h('button', { class: 'btn', type: 'submit', id: 'key-create' }, 'Create key'));
    const scopeNote = me.global ? null : h('p', { class: 'notice', id: 'tenant-admin' },
      `This key administers tenant ${me.tenant} only: its keys, usage and audit log. Balances and limits are set by a global admin.`);
    fill(keys, scopeNote, reveal, list.length ? h('div', { class: 'table-wrap' }, tbl) : h('p', {}, 'No stored keys yet.'), form);
  };

  const loadTenants = async () => {
    const res = await api('/admin/v1/tenants', { signal });
    const list = res.data || [];
    const tbl = h('table', { class: 'list', id: 'tenants-table' },
      h('thead', {}, h('tr', {}, ['Tenant', 'Balance', 'Requests / min', 'Tasks in flight'].map((x) => h('th', {}, x)))),
      h('tbody', {}, list.map((t) => h('tr', { dataset: { tenant: t.id } }, h('td', {}, t.id), h('td', { class: 'balance' }, amount(t.balance, t.unit)),
        h('td', {}, t.rpm ?? 'default'), h('td', {}, t.max_in_flight ?? 'default')))));
    const tenant = h('input', { type: 'text', id: 'topup-tenant', placeholder: 'default', required: true });
    const amt = h('input', { type: 'number', id: 'topup-amount', placeholder: (list[0]?.unit || 'tokens') });
    const note = h('input', { type: 'text', id: 'topup-note', placeholder: 'invoice 42' });
    const field = (label, input) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
    const post = (body, done) => act(async () => {
      await api(`/admin/v1/tenants/${encodeURIComponent(tenant.value || 'default')}/balance`, { method: 'POST', body, signal });
      await refresh();
    }, done);
    const form = h('form', { id: 'topup-form', onsubmit: (ev) => {
      ev.preventDefault();
      post({ amount: Number(amt.value), note: note.value }, 'Balance updated');
    } },
    h('h3', {}, 'Top up'),
    h('div', { class: 'fields' }, field('Tenant', tenant), field(`Amount (${list[0]?.unit || 'tokens'}; negative takes away)`, amt), field('Note', note)),
    h('div', { class: 'actions' }, h('button', { class: 'btn', type: 'submit', id: 'topup-submit' }, 'Add to balance'),
      h('button', { class: 'btn ghost', type: 'button', onclick: () => post({ unlimited: true }, 'Tenant is unlimited') }, 'Make unlimited')));
    fill(tenants, list.length ? h('div', { class: 'table-wrap' }, tbl) : h('p', {}, 'No tenant has limits or a balance: every tenant is unlimited.'),
      me.global ? form : h('p', { class: 'muted small' }, 'Top-ups and limits are made by a global admin.'));
  };

  const loadUsage = async () => {
    if (isAdmin) {
      const res = await api('/admin/v1/usage', { signal });
      rows(usage, res.data || [], ['day', 'tenant', 'model', 'tasks', 'total_tokens', 'amount', 'unit'], 'No task has been charged yet.');
      return;
    }
    const res = await api('/v1/usage', { signal });
    fill(usage, h('p', {}, `Tenant ${res.tenant}: balance `, h('strong', { id: 'own-balance' }, amount(res.balance, res.unit))),
      (res.data || []).length ? h('div', { class: 'table-wrap' }, table(res.data, ['day', 'model', 'tasks', 'total_tokens', 'amount', 'unit'])) : h('span', {}, 'No task has been charged yet.'));
  };

  const loadAudit = async () => {
    const res = await api('/admin/v1/audit?limit=50', { signal });
    rows(audit, res.data || [], ['at', 'actor', 'action', 'target', 'status'], 'No admin action yet.');
  };

  const refresh = async () => {
    await loadKeys().catch((e) => { if (!signal.aborted) notice(keys, e); });
    for (const [el, load] of [[tenants, loadTenants], [usage, loadUsage], [audit, loadAudit]]) {
      if (!isAdmin && el !== usage) { notice(el, { status: 403 }); continue; }
      await load().catch((e) => { if (!signal.aborted) notice(el, e); });
    }
  };
  refresh();

  fetch('/readyz').then((r) => r.json()).then((r) => {
    fill(health, kv([['Status', r.status], ...Object.entries(r.checks || {})]), h('p', { class: 'small' },
      h('a', { href: '/openapi.json', target: '_blank', rel: 'noopener' }, 'OpenAPI document'), ` · events: ${state.sse === 'unknown' ? 'not yet checked' : state.sse === 'yes' ? 'SSE' : 'polling'}`));
  }).catch((e) => fill(health, e.message));
  // Where the catalog comes from: the embedded file, or SEEDGATE_CATALOG_FILE merged over it (per model too).
  fill(catalog, h('p', { class: 'small', id: 'catalog-source' },
    `Loaded from ${state.catalog?.source || 'embedded'}${state.catalog?.version ? ` (format version ${state.catalog.version})` : ''}.`),
  h('div', { class: 'table-wrap' }, h('table', { class: 'list' },
    h('thead', {}, h('tr', {}, ['Model', 'Resolutions', 'Duration', 'Audio', 'Formats', 'Source'].map((x) => h('th', {}, x)))),
    h('tbody', {}, state.models.map((m) => h('tr', {},
      h('td', {}, h('strong', {}, m.name), h('br'), h('span', { class: 'mono small muted' }, m.id)),
      h('td', {}, m.resolutions.join(', ')), h('td', {}, `${m.durations.min}–${m.durations.max} s`), h('td', {}, m.features.audio ? 'yes' : 'no'),
      h('td', {}, (m.output_formats || ['mp4']).join(', ')), h('td', { class: 'mono small' }, m.source || 'embedded')))))));
}

// ---------- boot ----------

$('#signout').addEventListener('click', () => signOut());
window.addEventListener('hashchange', () => { if (state.open || state.key) route(); });
probe().then(start).catch((e) => {
  if (e.status === 401) showSignIn(state.key ? 'Your key was not accepted. Sign in again.' : '');
  else $('#main').replaceChildren(h('div', { class: 'panel error-box' }, h('strong', {}, 'The gateway did not answer. '), e.message));
});
