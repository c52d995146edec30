extension DashboardScript {
    /// The API client (CONTRACT §7): bearer token, `{"error","message"}` errors, and the
    /// loading/error/empty life cycle every panel shares.
    static let api = #"""
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
"""#
}
