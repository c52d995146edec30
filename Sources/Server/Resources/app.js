// The dashboard's script (CONTRACT §7): signs in with an API token, then fills the page's
// panels from the /api/v1 endpoints only. Everything the API sends is telemetry from
// WordPress sites, i.e. untrusted: it reaches the page only as text nodes or attribute
// values, never as HTML. One plain script, no module loader and no build step: the server
// embeds this file at build time and serves it as /assets/app.js.
(function () {
'use strict';
// ---------------------------------------------------------------- DOM helpers
const SVG_NS = 'http://www.w3.org/2000/svg';

function byId(id) { return document.getElementById(id); }

// Builds an element. attrs: class, text, on<event> handlers, anything else as an attribute.
function el(tag, attrs, ...children) {
  return decorate(document.createElement(tag), attrs, children);
}

function svgEl(tag, attrs, ...children) {
  return decorate(document.createElementNS(SVG_NS, tag), attrs, children);
}

function decorate(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.setAttribute('class', value);
    else if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

// ---------------------------------------------------------------- numbers
const integerFormat = new Intl.NumberFormat('en-US');
const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

function formatInt(n) { return n === null || n === undefined ? '–' : integerFormat.format(n); }
function formatCompact(n) { return Math.abs(n) < 10000 ? integerFormat.format(n) : compactFormat.format(n); }

function formatPercent(part, total) {
  if (!total) return '0%';
  const percent = part * 100 / total;
  if (percent > 0 && percent < 0.1) return '<0.1%';
  return percent.toFixed(percent < 10 ? 1 : 0) + '%';
}

// ---------------------------------------------------------------- dates (always UTC)
const DAY_MS = 86400000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n) { return String(n).padStart(2, '0'); }

// The API's timestamp form: ISO-8601 UTC with Z, whole seconds.
function isoUTC(date) { return date.toISOString().replace(/\.\d{3}Z$/, 'Z'); }
function isoDay(date) { return date.toISOString().slice(0, 10); }
function startOfUTCDay(date) { return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate())); }

function parseTime(value) {
  if (!value) return null;
  const date = new Date(value);
  return isNaN(date.getTime()) ? null : date;
}

function formatDateTime(value) {
  const date = parseTime(value);
  if (!date) return value ? String(value) : '–';
  return isoDay(date) + ' ' + pad2(date.getUTCHours()) + ':' + pad2(date.getUTCMinutes());
}

// A bucket start as a short label; `long` adds the year (tooltips).
function formatBucket(value, interval, long) {
  const date = parseTime(value);
  if (!date) return String(value);
  const month = MONTHS[date.getUTCMonth()], day = date.getUTCDate(), year = date.getUTCFullYear();
  switch (interval) {
    case 'hour': return `${month} ${day}${long ? ', ' + year : ''} ${pad2(date.getUTCHours())}:00`;
    case 'week': return `${long ? 'Week of ' : ''}${month} ${day}${long ? ', ' + year : ''}`;
    case 'month': return `${month} ${year}`;
    default: return `${month} ${day}${long ? ', ' + year : ''}`;
  }
}

// ---------------------------------------------------------------- labels
const DIMENSION_LABELS = {
  php_minor: 'PHP', wp_minor: 'WordPress', mysql_minor: 'MySQL', project_version: 'Project version',
  wp_locale: 'Locale', server_software: 'Server software', wp_multisite: 'Multisite', client_version: 'SDK version',
  wp_theme_slug: 'Theme', is_local: 'Local site', reason_id: 'Deactivation reason',
};

const REASON_LABELS = {
  'could-not-understand': "Couldn't understand", 'found-better-plugin': 'Found a better plugin',
  'not-have-that-feature': 'Missing a feature', 'is-not-working': 'Not working',
  'looking-for-other': 'Looking for something else', 'did-not-work-as-expected': "Didn't work as expected",
  'other': 'Other reason', 'none': 'No reason',
};

// A dimension value as people read it: NULL is "(not set)", booleans are Yes/No, the
// timeseries' rest bucket is "Other".
function valueLabel(value, dimension) {
  if (value === null || value === undefined || value === '') return '(not set)';
  if (value === '__other__') return 'Other';
  if (value === true || value === 'true') return 'Yes';
  if (value === false || value === 'false') return 'No';
  if (dimension === 'reason_id' && REASON_LABELS[value]) return REASON_LABELS[value];
  return String(value);
}

function reasonLabel(reasonId) {
  if (reasonId === null || reasonId === undefined) return '(no reason given)';
  return REASON_LABELS[reasonId] || String(reasonId);
}
// ---------------------------------------------------------------- API client
const API_ROOT = '/api/v1';
const TOKEN_KEY = 'trackhouse.token';
const PROJECT_KEY = 'trackhouse.project';

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  // A route the server does not have (a plain 404 without our JSON error body).
  get isMissingRoute() { return this.status === 404 && this.code === 'http_404'; }
}

function queryString(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === '') continue;
    search.append(key, String(value));
  }
  const text = search.toString();
  return text ? '?' + text : '';
}

function projectPath(suffix) {
  return '/projects/' + encodeURIComponent(state.projectId) + suffix;
}

// GET an API path; resolves to parsed JSON (or a Blob), rejects with ApiError.
async function apiGet(path, params, as) {
  let response;
  try {
    response = await fetch(API_ROOT + path + queryString(params), {
      headers: { 'Authorization': 'Bearer ' + state.token, 'Accept': as === 'blob' ? 'text/csv' : 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (error) {
    throw new ApiError(0, 'network', 'Could not reach the server (' + error.message + ').');
  }
  if (!response.ok) throw await errorFromResponse(response);
  if (as === 'blob') return response.blob();
  try {
    return await response.json();
  } catch (error) {
    throw new ApiError(response.status, 'bad_response', 'The server sent something that is not JSON.');
  }
}

async function errorFromResponse(response) {
  let code = 'http_' + response.status;
  let message = response.statusText || 'The request failed.';
  try {
    const body = await response.json();
    if (body && typeof body.error === 'string') {
      code = body.error;
      message = typeof body.message === 'string' && body.message ? body.message : message;
    }
  } catch (_) { /* not our JSON error shape: keep the HTTP status */ }
  if (code === 'http_404') message = 'This server does not offer that API endpoint (404). Is it an older version?';
  if (response.status === 401 && code === 'http_401') message = 'The token was not accepted.';
  return new ApiError(response.status, code, message);
}

// ---------------------------------------------------------------- panel life cycle
// Each panel remembers its latest request; an answer to an older one (the user changed the
// range meanwhile) is dropped so a slow response never overwrites a newer view.
const requestSerials = {};
let pendingLoads = 0;

async function loadInto(container, key, fetcher, render) {
  const serial = (requestSerials[key] || 0) + 1;
  requestSerials[key] = serial;
  markLoading(container);
  pendingLoads += 1;
  updateBodyState();
  try {
    const data = await fetcher();
    if (requestSerials[key] !== serial) return;
    container.replaceChildren();
    render(container, data);
    container.dataset.state = 'ready';
  } catch (error) {
    if (requestSerials[key] !== serial) return;
    if (error instanceof ApiError && error.status === 401) { signOut(error.message); return; }
    container.replaceChildren(errorBox(error));
    container.dataset.state = 'error';
    if (error instanceof ApiError && error.isMissingRoute) document.body.dataset.apiMissing = 'true';
    if (!(error instanceof ApiError)) console.error(error);
  } finally {
    if (requestSerials[key] === serial) {
      container.classList.remove('is-loading');
      container.removeAttribute('aria-busy');
    }
    pendingLoads -= 1;
    updateBodyState();
  }
}

function markLoading(container) {
  container.setAttribute('aria-busy', 'true');
  container.dataset.state = 'loading';
  // Keep the previous view (dimmed) while refreshing; a first load gets a placeholder.
  if (container.childElementCount === 0 || container.querySelector(':scope > .error')) {
    container.replaceChildren(el('p', { class: 'placeholder', text: 'Loading…' }));
  } else {
    container.classList.add('is-loading');
  }
}

// body[data-state] is "ready" once nothing is loading: a marker for people and for tests.
function updateBodyState() {
  if (document.body.dataset.state === 'signin') return;
  document.body.dataset.state = pendingLoads > 0 ? 'loading' : 'ready';
}

function errorBox(error) {
  const code = error instanceof ApiError ? error.code : 'error';
  const message = error instanceof ApiError ? error.message : 'Something went wrong while drawing this panel.';
  return el('div', { class: 'error', role: 'alert', 'data-testid': 'error', 'data-code': code },
    el('strong', { text: code }), message);
}

function emptyState(text) {
  return el('p', { class: 'empty', 'data-testid': 'empty', text: text });
}
// ---------------------------------------------------------------- colours
const PALETTE = ['#2563eb', '#16a34a', '#f59e0b', '#dc2626', '#7c3aed', '#0891b2', '#db2777', '#65a30d',
  '#ea580c', '#4f46e5', '#0d9488', '#a16207', '#be123c', '#4d7c0f', '#9333ea', '#0369a1', '#c2410c', '#15803d',
  '#b91c1c', '#1d4ed8'];
const OTHER_COLOR = '#9aa3b2';

function seriesColor(key, index) { return key === '__other__' ? OTHER_COLOR : PALETTE[index % PALETTE.length]; }

// ---------------------------------------------------------------- scales
// A tick step of 1, 2 or 5 × 10^k (never below 1: every metric is a count).
function niceStep(raw) {
  if (!(raw > 1)) return 1;
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
  const fraction = raw / magnitude;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
}

function yTicks(max, count) {
  const step = niceStep(max / count);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const ticks = [];
  for (let value = 0; value <= top + step / 2; value += step) ticks.push(value);
  return { top, ticks };
}

function maxOf(numbers) { return numbers.reduce((max, n) => (n > max ? n : max), 0); }

// ---------------------------------------------------------------- time chart
// series: [{key, points: [[bucketStart, n], …]}] sharing the same buckets (the API sends
// every bucket). mode: 'single' | 'stacked' | 'lines'.
function renderTimeChart(container, series, options) {
  const geometry = chartGeometry(container, series);
  const chart = el('div', { class: 'chart' });
  const svg = svgEl('svg', {
    viewBox: `0 0 ${geometry.width} ${geometry.height}`, width: geometry.width, height: geometry.height,
    role: 'img', 'aria-label': options.title, 'data-testid': 'timeseries-chart',
    'data-series': series.length, 'data-buckets': geometry.count, 'data-total': geometry.sum,
  });
  drawAxes(svg, geometry, options.interval);
  if (options.mode === 'stacked') drawStackedBars(svg, geometry, series);
  else drawLines(svg, geometry, series, options.mode === 'single');
  chart.append(svg);
  attachTooltip(chart, svg, geometry, series, options);
  container.append(chart);
  if (series.length > 1) container.append(legend(series, options.dimension));
}

function chartGeometry(container, series) {
  const width = Math.max(280, Math.floor(container.clientWidth || 640));
  const height = width < 500 ? 220 : 280;
  const margin = { top: 10, right: 12, bottom: 26, left: 46 };
  const buckets = series[0].points.map((point) => point[0]);
  const values = series.map((s) => s.points.map((point) => Number(point[1]) || 0));
  const count = buckets.length;
  const stackTotals = buckets.map((_, index) => values.reduce((sum, row) => sum + row[index], 0));
  const stacked = series.length > 1;
  const max = stacked ? maxOf(stackTotals.concat(values.flat())) : maxOf(values[0]);
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const band = plotWidth / Math.max(1, count);
  const scale = yTicks(max, height < 250 ? 3 : 4);
  return {
    width, height, margin, buckets, values, count, stackTotals, plotWidth, plotHeight, band, scale,
    sum: stackTotals.reduce((a, b) => a + b, 0),
    x: (index) => margin.left + (index + 0.5) * band,
    y: (value) => margin.top + plotHeight - (value / scale.top) * plotHeight,
  };
}

function drawAxes(svg, g, interval) {
  const grid = svgEl('g', { class: 'grid' });
  const axis = svgEl('g', { class: 'axis' });
  for (const tick of g.scale.ticks) {
    const y = g.y(tick);
    grid.append(svgEl('line', { x1: g.margin.left, x2: g.width - g.margin.right, y1: y, y2: y }));
    axis.append(svgEl('text', { x: g.margin.left - 6, y: y, 'text-anchor': 'end', 'dominant-baseline': 'middle',
      text: formatCompact(tick) }));
  }
  // Enough x labels to read, never overlapping: about one per 80 px.
  const every = Math.max(1, Math.ceil(g.count / Math.max(2, Math.floor(g.plotWidth / 80))));
  for (let index = 0; index < g.count; index += every) {
    axis.append(svgEl('text', { x: g.x(index), y: g.height - 6, 'text-anchor': 'middle',
      text: formatBucket(g.buckets[index], interval, false) }));
  }
  svg.append(grid, axis);
}

function drawStackedBars(svg, g, series) {
  const barWidth = Math.max(1, g.band * (g.band > 6 ? 0.72 : 0.9));
  const base = new Array(g.count).fill(0);
  series.forEach((s, seriesIndex) => {
    const group = svgEl('g', { class: 'series', fill: seriesColor(s.key, seriesIndex), 'data-key': valueLabel(s.key) });
    g.values[seriesIndex].forEach((value, index) => {
      if (value <= 0) return;
      const top = g.y(base[index] + value), bottom = g.y(base[index]);
      base[index] += value;
      group.append(svgEl('rect', { x: g.x(index) - barWidth / 2, y: top, width: barWidth, height: Math.max(0.5, bottom - top) }));
    });
    svg.append(group);
  });
}

function drawLines(svg, g, series, withArea) {
  series.forEach((s, seriesIndex) => {
    const color = seriesColor(s.key, seriesIndex);
    const points = g.values[seriesIndex].map((value, index) => [g.x(index), g.y(value)]);
    const line = points.map((p, index) => (index === 0 ? 'M' : 'L') + p[0].toFixed(1) + ',' + p[1].toFixed(1)).join('');
    if (withArea && points.length > 0) {
      const baseline = g.y(0).toFixed(1);
      const area = line + `L${points[points.length - 1][0].toFixed(1)},${baseline}L${points[0][0].toFixed(1)},${baseline}Z`;
      svg.append(svgEl('path', { class: 'area', d: area, fill: color }));
    }
    svg.append(svgEl('path', { class: 'line series', d: line, stroke: color, 'data-key': valueLabel(s.key) }));
    // Dots make a short series (or a single bucket) readable.
    if (points.length <= 45) {
      const dots = svgEl('g', { fill: color });
      for (const p of points) dots.append(svgEl('circle', { cx: p[0], cy: p[1], r: points.length === 1 ? 4 : 2.5 }));
      svg.append(dots);
    }
  });
}

function attachTooltip(chart, svg, g, series, options) {
  const guide = svgEl('line', { class: 'guide', y1: g.margin.top, y2: g.margin.top + g.plotHeight, visibility: 'hidden' });
  const overlay = svgEl('rect', { x: g.margin.left, y: g.margin.top, width: g.plotWidth, height: g.plotHeight,
    fill: 'transparent' });
  svg.append(guide, overlay);
  const tooltip = el('div', { class: 'tooltip', role: 'status', hidden: true });
  chart.append(tooltip);

  const show = (event) => {
    const box = svg.getBoundingClientRect();
    const ratio = g.width / box.width;
    const px = (event.clientX - box.left) * ratio;
    const index = Math.min(g.count - 1, Math.max(0, Math.floor((px - g.margin.left) / g.band)));
    guide.setAttribute('x1', g.x(index));
    guide.setAttribute('x2', g.x(index));
    guide.setAttribute('visibility', 'visible');
    tooltip.replaceChildren(...tooltipRows(g, series, index, options));
    tooltip.hidden = false;
    const anchor = g.x(index) / ratio;
    const tipWidth = tooltip.offsetWidth;
    const left = anchor + 14 + tipWidth > box.width ? anchor - 14 - tipWidth : anchor + 14;
    tooltip.style.left = Math.max(0, left) + 'px';
    tooltip.style.top = '4px';
  };
  const hide = () => { tooltip.hidden = true; guide.setAttribute('visibility', 'hidden'); };
  overlay.addEventListener('pointermove', show);
  overlay.addEventListener('pointerdown', show);
  overlay.addEventListener('pointerleave', hide);
}

function tooltipRows(g, series, index, options) {
  const rows = [el('div', { class: 'title', text: formatBucket(g.buckets[index], options.interval, true) })];
  // Stacked bars read top-down, so list the series in the same order as drawn on screen.
  const order = series.map((s, i) => i);
  if (options.mode === 'stacked') order.reverse();
  for (const i of order) {
    const value = g.values[i][index];
    if (series.length > 8 && value === 0) continue;
    rows.push(el('div', { class: 'row' },
      el('span', { class: 'swatch', 'data-color': seriesColor(series[i].key, i) }),
      series.length > 1 ? valueLabel(series[i].key, options.dimension) : options.metricLabel,
      el('span', { class: 'n', text: formatInt(value) })));
  }
  if (series.length > 1 && options.additive) {
    rows.push(el('div', { class: 'row' }, el('b', { text: 'Total' }), el('span', { class: 'n', text: formatInt(g.stackTotals[index]) })));
  }
  paintSwatches(rows);
  return rows;
}

// Colours go through CSSOM (allowed by our CSP) rather than style attributes (not allowed).
function paintSwatches(nodes) {
  for (const node of nodes) {
    for (const swatch of node.querySelectorAll ? node.querySelectorAll('[data-color]') : []) {
      swatch.style.background = swatch.dataset.color;
    }
  }
}

function legend(series, dimension) {
  const items = series.map((s, i) => el('span', { class: 'legend-item', 'data-testid': 'legend-item' },
    el('span', { class: 'swatch', 'data-color': seriesColor(s.key, i) }), valueLabel(s.key, dimension)));
  const box = el('div', { class: 'legend', 'data-testid': 'legend' }, items);
  paintSwatches([box]);
  return box;
}

// ---------------------------------------------------------------- horizontal bars
// rows: [{label, count, other}] → one bar per row, length and percentage of `total`.
function barList(rows, total, testid) {
  return el('div', { class: 'hbars', 'data-testid': testid, 'data-total': total }, rows.map((row) => {
    const share = total > 0 ? (row.count * 100) / total : 0;
    const fill = el('span', { class: 'fill' });
    fill.style.width = Math.min(100, share).toFixed(2) + '%';
    return el('div', {
      class: 'hbar' + (row.other ? ' other' : ''), 'data-testid': 'bar', 'data-label': row.label, 'data-count': row.count,
      title: `${row.label}: ${formatInt(row.count)} (${formatPercent(row.count, total)})`,
    },
    el('span', { class: 'label', text: row.label }),
    el('span', { class: 'track' }, fill),
    el('span', { class: 'nums' }, el('b', { text: formatInt(row.count) }), ' · ' + formatPercent(row.count, total)));
  }));
}
// ---------------------------------------------------------------- range parameters
function rangeParams() {
  return { from: isoUTC(state.range.from), to: isoUTC(state.range.to) };
}

// ---------------------------------------------------------------- stats cards
const STAT_CARDS = [
  { key: 'opt_in_sites', label: 'Opt-in sites', hint: 'Sites that sent a report in the range' },
  { key: 'new_sites', label: 'New sites', hint: 'First seen in the range' },
  { key: 'active_sites', label: 'Active sites', hint: 'Reporting within 14 days before the end' },
  { key: 'deactivations', label: 'Deactivations', hint: 'Deactivate events in the range' },
  { key: 'skipped', label: 'Skipped', hint: 'Sites that declined tracking' },
];

function loadStats() {
  loadInto(byId('stats'), 'stats', () => apiGet(projectPath('/stats'), rangeParams()), renderStats);
}

function renderStats(container, data) {
  for (const card of STAT_CARDS) {
    const value = data ? data[card.key] : null;
    container.append(el('div', { class: 'card stat', 'data-testid': 'stat-' + card.key, 'data-value': value ?? '' },
      el('div', { class: 'label', text: card.label }),
      el('div', { class: 'value', text: formatInt(value) }),
      el('div', { class: 'hint', text: card.hint })));
  }
}

// ---------------------------------------------------------------- time chart
const METRIC_LABELS = { events: 'events', sites: 'reporting sites', new_sites: 'new sites', deactivations: 'deactivations', skips: 'skipped sites' };
// Metrics whose buckets add up to a meaningful range total (the others count distinct sites).
const ADDITIVE_METRICS = new Set(['events', 'new_sites', 'deactivations']);
let lastTimeseries = null;

function loadTimeseries() {
  const choice = state.series;
  const params = { metric: choice.metric, interval: choice.interval, ...rangeParams() };
  if (choice.breakdown) { params.breakdown = choice.breakdown; params.limit = choice.limit; }
  lastTimeseries = null;
  loadInto(byId('timeseries'), 'timeseries', () => apiGet(projectPath('/timeseries'), params), renderTimeseries);
}

function renderTimeseries(container, data) {
  const series = ((data && data.series) || []).filter((s) => Array.isArray(s.points));
  lastTimeseries = { data, width: container.clientWidth, choice: { ...state.series } };
  const choice = lastTimeseries.choice;
  const metricLabel = METRIC_LABELS[choice.metric] || choice.metric;
  const total = series.reduce((sum, s) => sum + s.points.reduce((acc, p) => acc + (Number(p[1]) || 0), 0), 0);
  if (series.length === 0 || series[0].points.length === 0 || total === 0) {
    container.append(emptyState(`No ${metricLabel} in this range.`));
    return;
  }
  const additive = ADDITIVE_METRICS.has(choice.metric);
  const summary = additive
    ? `${formatInt(total)} ${metricLabel} in the range`
    : `${metricLabel[0].toUpperCase() + metricLabel.slice(1)} per ${choice.interval}`;
  container.append(el('p', { class: 'chart-total', 'data-testid': 'timeseries-summary', 'data-total': total, text: summary }));
  renderTimeChart(container, series, {
    mode: choice.breakdown ? choice.style : 'single',
    interval: choice.interval, dimension: choice.breakdown, additive,
    metricLabel: metricLabel[0].toUpperCase() + metricLabel.slice(1),
    title: `${metricLabel} per ${choice.interval}` + (choice.breakdown ? ` by ${DIMENSION_LABELS[choice.breakdown] || choice.breakdown}` : ''),
  });
}

// The chart is drawn at the container's width; draw again when that changes.
const redrawTimeseries = debounce(() => {
  const container = byId('timeseries');
  if (!lastTimeseries || container.dataset.state !== 'ready') return;
  if (Math.abs(container.clientWidth - lastTimeseries.width) < 2) return;
  container.replaceChildren();
  renderTimeseries(container, lastTimeseries.data);
}, 150);

// ---------------------------------------------------------------- version breakdowns
const BREAKDOWN_DIMENSIONS = ['php_minor', 'wp_minor', 'mysql_minor', 'project_version', 'wp_locale', 'server_software', 'wp_multisite'];
const BREAKDOWN_LIMIT = 10;
const ACTIVE_DAYS = 14;

function loadBreakdowns() {
  const grid = byId('breakdowns');
  if (grid.childElementCount === 0) {
    for (const dim of BREAKDOWN_DIMENSIONS) {
      grid.append(el('div', { class: 'breakdown', 'data-testid': 'breakdown-' + dim },
        el('h3', {}, DIMENSION_LABELS[dim] || dim, el('span', { class: 'muted total' })),
        el('div', { id: 'breakdown-' + dim })));
    }
  }
  // "Now" for a version mix is the end of the range: what the active sites ran then.
  const at = isoUTC(state.range.to);
  for (const dim of BREAKDOWN_DIMENSIONS) {
    const body = byId('breakdown-' + dim);
    loadInto(body, 'breakdown-' + dim,
      () => apiGet(projectPath('/breakdown'), { dim, at, active_days: ACTIVE_DAYS, limit: BREAKDOWN_LIMIT }),
      (container, data) => renderBreakdown(container, data, dim));
  }
}

function renderBreakdown(container, data, dim) {
  const total = Number(data && data.total) || 0;
  const totalLabel = container.parentElement.querySelector('.total');
  totalLabel.textContent = formatInt(total) + ' sites';
  container.parentElement.dataset.total = total;
  if (total === 0) { container.append(emptyState('No active sites at the end of the range.')); return; }
  const rows = (data.values || []).map((entry) => ({ label: valueLabel(entry.value, dim), count: Number(entry.sites) || 0 }));
  const other = Number(data.other) || 0;
  if (other > 0) rows.push({ label: 'Other', count: other, other: true });
  container.append(barList(rows, total, 'breakdown-bars-' + dim));
}

// ---------------------------------------------------------------- deactivations
function loadDeactivations() {
  const paging = state.deactivations;
  loadInto(byId('deactivations'), 'deactivations',
    () => apiGet(projectPath('/deactivations'), { ...rangeParams(), page: paging.page, per_page: paging.perPage }),
    renderDeactivations);
}

const DEACTIVATION_COLUMNS = [
  { key: 'received_at', label: 'Time (UTC)', render: (row) => formatDateTime(row.received_at) },
  { key: 'site_key', label: 'Site', render: (row) => cellText(row.site_key ?? row.url ?? row.site_hash) },
  { key: 'reason_id', label: 'Reason', render: (row) => reasonLabel(row.reason_id) },
  { key: 'reason_info', label: 'Details', wrap: true },
  { key: 'project_version', label: 'Version' },
  { key: 'php_minor', label: 'PHP' },
  { key: 'wp_minor', label: 'WP' },
];

function renderDeactivations(container, data) {
  const total = Number(data && data.total) || 0;
  const reasons = ((data && data.reasons) || []).map((r) => ({ label: reasonLabel(r.reason_id), count: Number(r.count) || 0 }))
    .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
  const events = (data && data.events) || [];
  container.dataset.total = total;
  if (total === 0 && reasons.length === 0) { container.append(emptyState('No deactivations in this range.')); return; }
  const reasonTotal = reasons.reduce((sum, r) => sum + r.count, 0);
  container.append(el('div', { class: 'deactivations-layout' },
    el('div', {}, el('h3', { text: 'Reasons' }), barList(reasons, reasonTotal, 'deactivation-reasons')),
    el('div', {},
      el('h3', { text: `Events (${formatInt(total)})` }),
      dataTable(DEACTIVATION_COLUMNS, events, { testid: 'deactivations-table', rowTestid: 'deactivation-row' }),
      pager(state.deactivations.page, state.deactivations.perPage, total, (page) => {
        state.deactivations.page = page;
        loadDeactivations();
      }, 'deactivations-pager'))));
}

// ---------------------------------------------------------------- deliveries (integrations)
// The project's outbound deliveries (webhooks, mailing lists), newest first; dead ones are
// what an operator acts on (`trackhouse deliveries retry`).
function loadDeliveries() {
  const paging = state.deliveries;
  const status = byId('deliveries-status').value;
  loadInto(byId('deliveries'), 'deliveries',
    () => apiGet(projectPath('/deliveries'), { status: status || undefined, page: paging.page, per_page: paging.perPage }),
    renderDeliveries);
}

const DELIVERY_COLUMNS = [
  { key: 'id', label: 'Delivery id' },
  { key: 'integration', label: 'Integration' },
  { key: 'type', label: 'Event' },
  { key: 'status', label: 'Status', render: (row) => el('span', { class: 'delivery-status delivery-' + row.status, text: row.status }) },
  { key: 'attempts', label: 'Attempts', num: true },
  { key: 'last_status', label: 'Last HTTP', num: true },
  { key: 'when', label: 'Delivered / next try (UTC)',
    render: (row) => formatDateTime(row.delivered_at || row.next_attempt_at) },
  { key: 'last_error', label: 'Last error', wrap: true },
];

function renderDeliveries(container, data) {
  const total = Number(data && data.total) || 0;
  const rows = (data && data.deliveries) || [];
  container.dataset.total = total;
  if (total === 0) { container.append(emptyState('No deliveries. Configure "integrations" in the project registry to send lifecycle events to webhooks and mailing lists.')); return; }
  container.append(
    dataTable(DELIVERY_COLUMNS, rows, { testid: 'deliveries-table', rowTestid: 'delivery-row' }),
    pager(state.deliveries.page, state.deliveries.perPage, total, (page) => {
      state.deliveries.page = page;
      loadDeliveries();
    }, 'deliveries-pager'));
}

// ---------------------------------------------------------------- tables and pagers
function cellText(value) {
  if (value === null || value === undefined || value === '') return '–';
  if (value === true) return 'Yes';
  if (value === false) return 'No';
  if (typeof value === 'number') return formatInt(value);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// columns: [{key, label, num, wrap, render(row), descFirst}]; options.sort/onSort make the
// headers buttons that toggle `col` / `-col`.
function dataTable(columns, rows, options) {
  const head = el('tr', {}, columns.map((column) => headerCell(column, options)));
  const body = rows.map((row) => el('tr', { 'data-testid': options.rowTestid },
    columns.map((column) => el('td', { class: column.num ? 'num' : column.wrap ? 'wrap' : null },
      column.render ? column.render(row) : cellText(row[column.key])))));
  if (rows.length === 0) {
    body.push(el('tr', {}, el('td', { colspan: columns.length, class: 'empty', text: 'Nothing on this page.' })));
  }
  return el('div', { class: 'table-wrap' },
    el('table', { 'data-testid': options.testid, 'data-rows': rows.length }, el('thead', {}, head), el('tbody', {}, body)));
}

function headerCell(column, options) {
  const className = column.num ? 'num' : null;
  if (!options.onSort) return el('th', { scope: 'col', class: className, text: column.label });
  const ascending = options.sort === column.key, descending = options.sort === '-' + column.key;
  const next = ascending ? '-' + column.key : descending ? column.key : (column.descFirst ? '-' : '') + column.key;
  return el('th', { scope: 'col', class: className, 'aria-sort': ascending ? 'ascending' : descending ? 'descending' : 'none' },
    el('button', { type: 'button', 'data-sort': column.key, title: 'Sort by ' + column.label, onclick: () => options.onSort(next) },
      column.label, el('span', { 'aria-hidden': 'true', text: ascending ? '▲' : descending ? '▼' : '' })));
}

function pager(page, perPage, total, onPage, testid) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  const first = total === 0 ? 0 : (page - 1) * perPage + 1;
  const last = Math.min(total, page * perPage);
  return el('nav', { class: 'pager', 'aria-label': 'Pages', 'data-testid': testid, 'data-page': page, 'data-pages': pages },
    el('span', { class: 'muted', text: `${formatInt(first)}–${formatInt(last)} of ${formatInt(total)}` }),
    el('span', { class: 'buttons' },
      el('button', { type: 'button', disabled: page <= 1, onclick: () => onPage(page - 1), text: '‹ Previous' }),
      el('span', { class: 'muted', text: `Page ${formatInt(page)} of ${formatInt(pages)}` }),
      el('button', { type: 'button', disabled: page >= pages, onclick: () => onPage(page + 1), text: 'Next ›' })));
}
// ---------------------------------------------------------------- sites table
const SITE_COLUMNS = [
  { key: 'site_key', label: 'Site' },
  { key: 'site_name', label: 'Name' },
  { key: 'admin_email', label: 'Admin email' },
  { key: 'status', label: 'Status', render: (row) => statusBadge(row.status) },
  { key: 'project_version', label: 'Version' },
  { key: 'php_minor', label: 'PHP' },
  { key: 'wp_minor', label: 'WP' },
  { key: 'wp_locale', label: 'Locale' },
  { key: 'first_seen', label: 'First seen', descFirst: true, render: (row) => formatDateTime(row.first_seen) },
  { key: 'last_seen', label: 'Last seen', descFirst: true, render: (row) => formatDateTime(row.last_seen) },
  { key: 'event_count', label: 'Events', num: true, descFirst: true },
];

// Columns offered in the "Where … equals …" filter (`<column>=<value>` in the API).
const SITE_FILTER_COLUMNS = ['project_version', 'php_minor', 'wp_minor', 'mysql_minor', 'wp_locale', 'server_software',
  'client_version', 'wp_theme_slug', 'wp_multisite', 'is_local', 'site_hash', 'admin_email'];

function statusBadge(status) {
  if (!status) return '–';
  return el('span', { class: 'badge ' + (status === 'active' ? 'active' : 'deactivated'), text: status });
}

function sitesParams() {
  const choice = state.sites;
  const params = { status: choice.status, q: choice.q, sort: choice.sort, page: choice.page, per_page: choice.perPage };
  if (choice.filterColumn && choice.filterValue !== '') params[choice.filterColumn] = choice.filterValue;
  return params;
}

function sitesFiltered() {
  const choice = state.sites;
  return Boolean(choice.status || choice.q || (choice.filterColumn && choice.filterValue !== ''));
}

function loadSites() {
  loadInto(byId('sites'), 'sites', () => apiGet(projectPath('/sites'), sitesParams()), renderSites);
}

function renderSites(container, data) {
  const total = Number(data && data.total) || 0;
  const rows = (data && data.sites) || [];
  container.dataset.total = total;
  if (total === 0 && rows.length === 0) {
    container.append(emptyState(sitesFiltered() ? 'No sites match these filters.' : 'No sites have reported yet.'));
    return;
  }
  const page = Number(data.page) || state.sites.page;
  const perPage = Number(data.per_page) || state.sites.perPage;
  container.append(
    dataTable(SITE_COLUMNS, rows, {
      testid: 'sites-table', rowTestid: 'site-row', sort: state.sites.sort,
      onSort: (sort) => { state.sites.sort = sort; state.sites.page = 1; loadSites(); },
    }),
    pager(page, perPage, total, (next) => { state.sites.page = next; loadSites(); }, 'sites-pager'));
}

function wireSitesControls() {
  const form = byId('sites-controls');
  form.addEventListener('submit', (event) => event.preventDefault());
  const reload = () => { state.sites.page = 1; loadSites(); };
  const search = byId('sites-q');
  search.addEventListener('input', debounce(() => {
    if (state.sites.q === search.value.trim()) return;
    state.sites.q = search.value.trim();
    reload();
  }, 300));
  byId('sites-status').addEventListener('change', (event) => { state.sites.status = event.target.value; reload(); });
  byId('sites-per-page').addEventListener('change', (event) => { state.sites.perPage = Number(event.target.value); reload(); });

  const column = byId('sites-filter-column');
  for (const key of SITE_FILTER_COLUMNS) column.append(el('option', { value: key, text: DIMENSION_LABELS[key] || key }));
  const value = byId('sites-filter-value');
  column.addEventListener('change', () => {
    state.sites.filterColumn = column.value;
    value.closest('label').hidden = !column.value;
    if (!column.value) value.value = '';
    state.sites.filterValue = value.value.trim();
    if (!column.value || state.sites.filterValue) reload();
    else value.focus();
  });
  value.addEventListener('input', debounce(() => { state.sites.filterValue = value.value.trim(); reload(); }, 300));
  byId('sites-export').addEventListener('click', (event) => exportSites(event.currentTarget));
}

// The export is the current filters and sort as CSV, every matching row: without `page`
// and `per_page` the API does not paginate a CSV (the contract is silent; a page is capped
// at 1000 rows). It is fetched, because a plain link could not send the Authorization
// header, and handed to the browser as a file.
async function exportSites(button) {
  const params = sitesParams();
  delete params.page;
  delete params.per_page;
  params.format = 'csv';
  button.disabled = true;
  button.textContent = 'Exporting…';
  try {
    const blob = await apiGet(projectPath('/sites'), params, 'blob');
    downloadBlob(blob, `trackhouse-${state.projectId}-sites-${isoDay(new Date())}.csv`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { signOut(error.message); return; }
    byId('sites').prepend(errorBox(error));
  } finally {
    button.disabled = false;
    button.textContent = 'Export CSV';
  }
}

function downloadBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = el('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}
// ---------------------------------------------------------------- state
const PRESET_DAYS = { '7d': 7, '30d': 30, '90d': 90, '1y': 365 };
const PRESET_INTERVAL = { '7d': 'day', '30d': 'day', '90d': 'week', '1y': 'month' };
const METRICS = ['events', 'sites', 'new_sites', 'deactivations', 'skips'];
const INTERVALS = ['hour', 'day', 'week', 'month'];
const MAX_HOURLY_DAYS = 31;

const state = {
  token: null,
  projectId: null,
  projects: null,
  range: { preset: '30d', from: null, to: null },
  series: { metric: 'events', interval: 'day', breakdown: '', limit: 10, style: 'stacked' },
  deactivations: { page: 1, perPage: 20 },
  deliveries: { page: 1, perPage: 20 },
  sites: { status: '', q: '', sort: '-last_seen', page: 1, perPage: 50, filterColumn: '', filterValue: '' },
};

function storageGet(key) { try { return sessionStorage.getItem(key); } catch (_) { return null; } }
function storageSet(key, value) {
  try { if (value) sessionStorage.setItem(key, value); else sessionStorage.removeItem(key); } catch (_) { /* private mode */ }
}

// A preset ends at the next UTC midnight, so today is included and day buckets line up.
function presetRange(preset) {
  const to = new Date(startOfUTCDay(new Date()).getTime() + DAY_MS);
  return { preset, from: new Date(to.getTime() - PRESET_DAYS[preset] * DAY_MS), to };
}

function rangeDays() { return (state.range.to - state.range.from) / DAY_MS; }

// ---------------------------------------------------------------- URL fragment
// The fragment never reaches the server or a Referer. A token in it is moved to
// sessionStorage and removed from the address bar at once, so it stays out of history.
let writtenHash = '';

function applyHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = params.get('token');
  if (token) { state.token = token.trim(); storageSet(TOKEN_KEY, state.token); }
  if (params.get('project')) state.projectId = params.get('project');
  const from = parseTime(params.get('from')), to = parseTime(params.get('to'));
  if (from && to && from < to) state.range = { preset: 'custom', from, to };
  else if (PRESET_DAYS[params.get('range')]) {
    state.range = presetRange(params.get('range'));
    state.series.interval = PRESET_INTERVAL[params.get('range')];
  }
  if (METRICS.includes(params.get('metric'))) state.series.metric = params.get('metric');
  if (INTERVALS.includes(params.get('interval'))) state.series.interval = params.get('interval');
  if (params.has('breakdown')) state.series.breakdown = params.get('breakdown');
  if (['stacked', 'lines'].includes(params.get('style'))) state.series.style = params.get('style');
  if (token) writeHash();
}

function writeHash() {
  const params = new URLSearchParams();
  if (state.projectId) params.set('project', state.projectId);
  if (state.range.preset === 'custom') {
    params.set('from', isoUTC(state.range.from));
    params.set('to', isoUTC(state.range.to));
  } else {
    params.set('range', state.range.preset);
  }
  params.set('metric', state.series.metric);
  params.set('interval', state.series.interval);
  if (state.series.breakdown) params.set('breakdown', state.series.breakdown);
  writtenHash = '#' + params.toString();
  history.replaceState(null, '', location.pathname + location.search + writtenHash);
}

// ---------------------------------------------------------------- sign-in and projects
async function start() {
  if (!state.token) { showSignIn(); return; }
  document.body.dataset.state = 'loading';
  let projects = null;
  try {
    projects = normalizeProjects(await apiGet('/projects'));
  } catch (error) {
    if (error.status === 401 || error.status === 403) { signOut(error.message); return; }
    // A server without the project list still serves a project named in the link or form.
    if (!error.isMissingRoute) { showSignIn(error.message); return; }
  }
  state.projects = projects;
  if (projects) {
    if (projects.length === 0) { showSignIn('This token cannot see any project.'); return; }
    if (!projects.some((p) => p.id === state.projectId)) {
      const remembered = storageGet(PROJECT_KEY);
      state.projectId = projects.some((p) => p.id === remembered) ? remembered : projects[0].id;
    }
  }
  if (!state.projectId) { showSignIn('Enter the id of the project to open.', true); return; }
  showDashboard();
}

// Accepts `{"projects":[…]}` or a bare list, of ids or of `{id, name}` objects.
function normalizeProjects(body) {
  const list = Array.isArray(body) ? body : body && Array.isArray(body.projects) ? body.projects : [];
  return list
    .map((p) => (typeof p === 'string' ? { id: p, name: p } : { id: String(p && p.id || ''), name: String(p && (p.name || p.id) || '') }))
    .filter((p) => p.id);
}

function showSignIn(message, askProject) {
  document.body.dataset.state = 'signin';
  byId('signin').hidden = false;
  byId('dashboard').hidden = true;
  byId('project-picker').hidden = true;
  byId('sign-out').hidden = true;
  const error = byId('signin-error');
  error.textContent = message || '';
  error.hidden = !message;
  byId('project-id-row').hidden = !askProject;
  byId('project-id-input').required = Boolean(askProject);
  if (askProject && state.projectId) byId('project-id-input').value = state.projectId;
  if (state.token) byId('token-input').value = state.token;
  (askProject && state.token ? byId('project-id-input') : byId('token-input')).focus();
}

function signOut(message) {
  state.token = null;
  storageSet(TOKEN_KEY, null);
  byId('token-input').value = '';
  clearPanels();
  showSignIn(message);
}

function wireSignIn() {
  byId('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = byId('token-input').value.trim();
    if (!token) return;
    state.token = token;
    storageSet(TOKEN_KEY, token);
    const project = byId('project-id-input').value.trim();
    if (!byId('project-id-row').hidden && project) state.projectId = project;
    start();
  });
  byId('sign-out').addEventListener('click', () => signOut());
  byId('project-select').addEventListener('change', (event) => selectProject(event.target.value));
  byId('deliveries-status').addEventListener('change', () => { state.deliveries.page = 1; loadDeliveries(); });
}

function selectProject(id) {
  state.projectId = id;
  storageSet(PROJECT_KEY, id);
  state.sites.page = 1;
  clearPanels();
  writeHash();
  refreshAll();
}

// Forget what is on screen (another project, or signed out); answers still in flight are
// ignored because their serials no longer match.
function clearPanels() {
  for (const key of Object.keys(requestSerials)) requestSerials[key] += 1;
  for (const id of ['stats', 'timeseries', 'deactivations', 'sites', 'deliveries']) byId(id).replaceChildren();
  byId('breakdowns').replaceChildren();
  lastTimeseries = null;
}

function renderProjectPicker() {
  const select = byId('project-select');
  const projects = state.projects || [{ id: state.projectId, name: state.projectId }];
  select.replaceChildren(...projects.map((p) => el('option', { value: p.id, text: p.name === p.id ? p.id : `${p.name} (${p.id})` })));
  select.value = state.projectId;
  select.disabled = projects.length < 2;
  byId('project-picker').hidden = false;
}

function showDashboard() {
  storageSet(PROJECT_KEY, state.projectId);
  byId('signin').hidden = true;
  byId('dashboard').hidden = false;
  byId('sign-out').hidden = false;
  renderProjectPicker();
  syncControls();
  writeHash();
  document.body.dataset.state = 'loading';
  refreshAll();
}

// ---------------------------------------------------------------- loading
function refreshAll() {
  refreshRange();
  loadSites();
  state.deliveries.page = 1;
  loadDeliveries();
}

// Everything that depends on the time range (the sites table does not: it is all-time).
function refreshRange() {
  state.deactivations.page = 1;
  loadStats();
  loadTimeseries();
  loadBreakdowns();
  loadDeactivations();
}

// ---------------------------------------------------------------- controls
function syncControls() {
  for (const button of document.querySelectorAll('#range-presets button')) {
    button.setAttribute('aria-pressed', String(button.dataset.range === state.range.preset));
  }
  const lastDay = new Date(state.range.to.getTime() - 1);
  byId('range-label').textContent =
    `${formatBucket(isoUTC(state.range.from), 'day', true)} – ${formatBucket(isoUTC(lastDay), 'day', true)} (UTC)`;
  byId('custom-from').value = isoDay(state.range.from);
  byId('custom-to').value = isoDay(lastDay);
  if (state.range.preset === 'custom') byId('custom-range').hidden = false;
  // Hourly buckets over months would be thousands of bars: offer hours for short ranges only.
  const hourOption = byId('ts-interval').querySelector('option[value="hour"]');
  hourOption.disabled = rangeDays() > MAX_HOURLY_DAYS;
  if (hourOption.disabled && state.series.interval === 'hour') state.series.interval = 'day';
  byId('ts-metric').value = state.series.metric;
  byId('ts-interval').value = state.series.interval;
  byId('ts-breakdown').value = state.series.breakdown;
  byId('ts-limit').value = String(state.series.limit);
  byId('ts-style').value = state.series.style;
  for (const label of document.querySelectorAll('.breakdown-only')) label.hidden = !state.series.breakdown;
}

function wireRangeControls() {
  byId('range-presets').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-range]');
    if (!button) return;
    const preset = button.dataset.range;
    if (preset === 'custom') {
      byId('custom-range').hidden = false;
      byId('custom-from').focus();
      return;
    }
    byId('custom-range').hidden = true;
    state.range = presetRange(preset);
    state.series.interval = PRESET_INTERVAL[preset];
    rangeChanged();
  });
  byId('custom-range').addEventListener('submit', (event) => {
    event.preventDefault();
    const from = parseTime(byId('custom-from').value + 'T00:00:00Z');
    const lastDay = parseTime(byId('custom-to').value + 'T00:00:00Z');
    if (!from || !lastDay || lastDay < from) {
      byId('range-label').textContent = 'The end date must be on or after the start date.';
      return;
    }
    // The form's end date is included, the API's `to` is exclusive: add a day.
    state.range = { preset: 'custom', from, to: new Date(lastDay.getTime() + DAY_MS) };
    if (rangeDays() > 120 && state.series.interval === 'day') state.series.interval = 'week';
    rangeChanged();
  });
}

function rangeChanged() {
  syncControls();
  writeHash();
  refreshRange();
}

function wireTimeseriesControls() {
  const bind = (id, apply) => byId(id).addEventListener('change', (event) => {
    apply(event.target.value);
    syncControls();
    writeHash();
    loadTimeseries();
  });
  bind('ts-metric', (value) => { state.series.metric = value; });
  bind('ts-interval', (value) => { state.series.interval = value; });
  bind('ts-breakdown', (value) => { state.series.breakdown = value; });
  bind('ts-limit', (value) => { state.series.limit = Number(value); });
  bind('ts-style', (value) => { state.series.style = value; });
  window.addEventListener('resize', redrawTimeseries);
}

// ---------------------------------------------------------------- start-up
function init() {
  wireSignIn();
  wireRangeControls();
  wireTimeseriesControls();
  wireSitesControls();
  state.token = storageGet(TOKEN_KEY);
  state.projectId = storageGet(PROJECT_KEY);
  state.range = presetRange('30d');
  applyHash();
  // A link pasted into this tab (new project, range or token) takes effect without a reload.
  window.addEventListener('hashchange', () => {
    if (location.hash === writtenHash) return;
    applyHash();
    clearPanels();
    start();
  });
  start();
}

init();
})();
