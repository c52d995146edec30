extension DashboardScript {
    /// State, the URL fragment (`#token=…&project=…&range=…`), sign-in, the project picker,
    /// the range and chart controls, and start-up.
    static let app = #"""
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
  for (const id of ['stats', 'timeseries', 'deactivations', 'sites']) byId(id).replaceChildren();
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
"""#
}
