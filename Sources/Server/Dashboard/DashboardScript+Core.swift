extension DashboardScript {
    /// DOM helpers, number and date formatting, labels. Everything the API sends is telemetry
    /// from WordPress sites, i.e. untrusted: it only ever reaches the page as text nodes or
    /// attribute values, never as HTML.
    static let core = #"""
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
"""#
}
