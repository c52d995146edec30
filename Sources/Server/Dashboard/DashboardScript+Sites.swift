extension DashboardScript {
    /// The sites table: search, status and column filters, sortable headers, pagination and
    /// the CSV export (fetched with the token, saved as a Blob).
    static let sites = #"""
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
"""#
}
