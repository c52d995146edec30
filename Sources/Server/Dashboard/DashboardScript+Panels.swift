extension DashboardScript {
    /// The panels that follow the time range: stats cards, the time chart, the version
    /// breakdowns and deactivations; plus the table and pager helpers the sites panel shares.
    static let panels = #"""
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
"""#
}
