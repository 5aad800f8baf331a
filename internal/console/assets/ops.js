// The operations page (#/ops, admin keys): throughput, latency percentiles,
// errors by channel, queue depth, webhook backlog and spend per day, drawn
// with uPlot (vendored next to this file: uPlot.iife.min.js, MIT, see
// uPlot.LICENSE) from GET /admin/v1/ops, polled every few seconds.

const POLL_MS = 5000;
const AXIS = { stroke: '#8a94a6', grid: { stroke: 'rgba(138, 148, 166, .18)' }, ticks: { stroke: 'rgba(138, 148, 166, .3)' } };
const COLORS = ['#4f46e5', '#15803d', '#c81e1e', '#d97706', '#0891b2', '#9333ea', '#64748b', '#db2777'];

// loadUPlot adds uPlot's script and stylesheet to the page once.
let uplotReady;
function loadUPlot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  uplotReady ??= new Promise((resolve, reject) => {
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = '/console/uPlot.min.css';
    document.head.append(css);
    const s = document.createElement('script');
    s.src = '/console/uPlot.iife.min.js';
    s.onload = () => resolve(window.uPlot);
    s.onerror = () => { uplotReady = undefined; reject(new Error('the chart library did not load')); };
    document.head.append(s);
  });
  return uplotReady;
}

// The charts: each reads its series out of the endpoint's answer.
const CHARTS = [
  { id: 'ops-throughput', title: 'Throughput', desc: 'Tasks per minute: created, succeeded and failed (failed or expired).', unit: '/min',
    series: (d) => Object.entries({ created: d.throughput_per_minute.created, succeeded: d.throughput_per_minute.succeeded, failed: d.throughput_per_minute.failed }) },
  { id: 'ops-latency', title: 'Request latency', desc: 'Percentiles of the HTTP answers over each interval (event streams left out; Prefer: wait holds count).', unit: 'ms',
    series: (d) => Object.entries(d.http_latency_seconds).sort().map(([k, v]) => [k, v.map((x) => (x === null ? null : x * 1000))]) },
  { id: 'ops-result', title: 'Time to result', desc: 'Percentiles of the time from create to a final status, of the tasks that finished in each interval.', unit: 's',
    series: (d) => Object.entries(d.result_latency_seconds).sort() },
  { id: 'ops-errors', title: 'Errors by channel', desc: 'Tasks failed or expired in each interval, by upstream channel (the provider when there is none).', unit: '',
    series: (d) => Object.entries(d.errors_by_channel).sort() },
  { id: 'ops-queue', title: 'Queue depth', desc: 'Unfinished tasks now: queued (waiting for dispatch or upstream capacity) and running.', unit: '',
    series: (d) => Object.entries(d.queue).sort() },
  { id: 'ops-webhooks', title: 'Webhook backlog', desc: 'Events not delivered yet, and failed delivery attempts in each interval.', unit: '',
    series: (d) => Object.entries(d.webhooks).sort() },
];

export async function opsView(main, signal, { h, api }) {
  const tiles = h('div', { class: 'ops-tiles', id: 'ops-tiles' });
  const panels = {};
  for (const c of [...CHARTS, { id: 'ops-spend', title: 'Spend per day', desc: 'Settled usage per UTC day, the last two weeks.' }]) {
    panels[c.id] = h('div', { class: 'panel ops-chart', id: c.id, dataset: { points: '0' } },
      h('h2', {}, c.title), h('p', { class: 'muted small' }, c.desc), h('div', { class: 'plot' }));
  }
  const status = h('span', { class: 'muted small', id: 'ops-updated' }, 'Loading…');
  main.replaceChildren(
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Operations'),
      h('p', {}, 'This instance\'s metrics since it started (the last hour), live; queue depth and spend come from the shared store. ',
        'Prometheus can scrape the same at ', h('code', {}, '/metrics'), '.')), status),
    tiles, h('div', { class: 'ops-grid' }, Object.values(panels)));

  let uPlot, first;
  try {
    [uPlot, first] = await Promise.all([loadUPlot(), api('/admin/v1/ops', { signal })]);
  } catch (e) {
    if (signal.aborted) return;
    const msg = e.status === 404 ? 'Not available on this gateway: metrics are off (SEEDGATE_METRICS=false).'
      : e.status === 401 || e.status === 403 ? 'This page needs a global admin key (the admin key, or one with the global_admin scope): sign in with one.' : e.message;
    main.replaceChildren(h('div', { class: 'page-head' }, h('h1', {}, 'Operations')),
      h('div', { class: 'notice', id: 'ops-notice', dataset: { na: String(e.status || '') } }, msg));
    return;
  }

  const plots = {};
  const $plot = (el) => el.querySelector('.plot');
  const width = (el) => Math.max(280, $plot(el).clientWidth);
  const count = (arrays) => arrays.reduce((n, a) => n + a.filter((x) => x !== null && x !== undefined).length, 0);

  // draw (re)makes a chart when its series change, else gives it the new data.
  const draw = (id, names, data, opts) => {
    const el = panels[id];
    const key = names.join('|');
    el.dataset.points = String(count(data.slice(1)));
    el.dataset.nonzero = String(data.slice(1).reduce((n, a) => n + a.filter((x) => x).length, 0));
    if (plots[id] && plots[id].key === key) {
      plots[id].plot.setData(data);
      return;
    }
    plots[id]?.plot.destroy();
    $plot(el).replaceChildren();
    const plot = new uPlot({
      width: width(el), height: 200, ...opts,
      series: [{}, ...names.map((n, i) => ({ label: n, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false,
        ...(opts.bars ? { fill: COLORS[i % COLORS.length] + '99', paths: uPlot.paths.bars({ size: [0.6, 48] }), points: { show: false } } : {}) }))],
    }, data, $plot(el));
    plots[id] = { key, plot };
  };

  const render = (d) => {
    const t = d.time;
    for (const c of CHARTS) {
      const series = c.series(d);
      draw(c.id, series.map(([n]) => n), [t, ...series.map(([, v]) => v)], {
        axes: [AXIS, { ...AXIS, size: 64, values: (u, vals) => vals.map((v) => `${+v.toFixed(3)}${c.unit ? ' ' + c.unit : ''}`) }],
        scales: { y: { range: (u, min, max) => [0, Math.max(max || 0, 1)] } },
      });
    }
    const sp = d.spend;
    const days = sp.days.map((x) => Date.parse(`${x}T00:00:00Z`) / 1000);
    draw('ops-spend', [sp.unit], [days, sp.amount], {
      bars: true,
      axes: [AXIS, { ...AXIS, size: 64 }],
      scales: { x: { time: true, range: (u, min, max) => [min - 43200, max + 43200] }, y: { range: (u, min, max) => [0, Math.max(max || 0, 1)] } },
    });
    const tot = d.totals || {};
    tiles.replaceChildren(...[['Created', tot.created], ['Succeeded', tot.succeeded], ['Failed', tot.failed],
      ['Queued', tot.queued], ['Running', tot.running], ['Webhooks pending', tot.webhooks_pending]].map(([k, v]) =>
      h('div', { class: 'ops-tile' }, h('span', { class: 'muted small' }, k), h('strong', {}, (v ?? 0).toLocaleString()))));
    status.textContent = `Updated ${new Date().toLocaleTimeString()} · every ${POLL_MS / 1000} s`;
  };

  render(first);
  const onResize = () => { for (const [id, p] of Object.entries(plots)) p.plot.setSize({ width: width(panels[id]), height: 200 }); };
  window.addEventListener('resize', onResize);
  signal.addEventListener('abort', () => {
    window.removeEventListener('resize', onResize);
    for (const p of Object.values(plots)) p.plot.destroy();
  }, { once: true });
  while (!signal.aborted) {
    await new Promise((r) => { const tm = setTimeout(r, POLL_MS); signal.addEventListener('abort', () => { clearTimeout(tm); r(); }, { once: true }); });
    if (signal.aborted) return;
    try {
      render(await api('/admin/v1/ops', { signal }));
    } catch (e) {
      if (signal.aborted) return;
      status.textContent = `Not updated: ${e.message}`;
    }
  }
}
