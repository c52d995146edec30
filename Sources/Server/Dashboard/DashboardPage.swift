import Foundation

/// The dashboard's HTML: the static skeleton (sign-in form, controls, empty panels). The
/// script fills the panels; nothing here depends on data, so the page is one cached file.
enum DashboardPage {
    static func html(styleVersion: String, scriptVersion: String) -> String {
        template
            .replacingOccurrences(of: "{{STYLE_VERSION}}", with: styleVersion)
            .replacingOccurrences(of: "{{SCRIPT_VERSION}}", with: scriptVersion)
    }

    private static let template = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>Trackhouse</title>
<link rel="stylesheet" href="/assets/app.css?v={{STYLE_VERSION}}">
<script src="/assets/app.js?v={{SCRIPT_VERSION}}" defer></script>
</head>
<body data-state="booting">
<header class="topbar">
  <div class="brand"><span class="logo" aria-hidden="true">▦</span> Trackhouse</div>
  <div class="project-picker" id="project-picker" hidden>
    <label for="project-select" class="visually-hidden">Project</label>
    <select id="project-select" data-testid="project-select"></select>
  </div>
  <button type="button" class="link-button" id="sign-out" hidden>Sign out</button>
</header>

<main>
  <section id="signin" class="signin" hidden>
    <form id="signin-form" class="card signin-card" autocomplete="off">
      <h1>Sign in</h1>
      <p class="muted">Paste an API token: a project token or an admin token. It is kept in this browser tab only and sent to this server only.</p>
      <label class="field">Token
        <input type="password" id="token-input" name="token" required spellcheck="false" autocomplete="off">
      </label>
      <label class="field" id="project-id-row" hidden>Project id
        <input type="text" id="project-id-input" name="project" spellcheck="false" pattern="[a-z0-9][a-z0-9_\-]{0,63}" placeholder="acme-seo">
      </label>
      <button type="submit" class="primary">Sign in</button>
      <div class="error" id="signin-error" role="alert" data-testid="signin-error" hidden></div>
    </form>
  </section>

  <div id="dashboard" hidden>
    <section class="toolbar" aria-label="Time range">
      <div class="segmented" id="range-presets" role="group" aria-label="Range">
        <button type="button" data-range="7d">7d</button>
        <button type="button" data-range="30d">30d</button>
        <button type="button" data-range="90d">90d</button>
        <button type="button" data-range="1y">1y</button>
        <button type="button" data-range="custom">Custom</button>
      </div>
      <form id="custom-range" class="custom-range" hidden>
        <label>From <input type="date" id="custom-from" required></label>
        <label>To <input type="date" id="custom-to" required></label>
        <button type="submit">Apply</button>
      </form>
      <p class="muted range-label" id="range-label" data-testid="range-label"></p>
    </section>

    <section class="cards" id="stats" aria-label="Summary" data-testid="stats"></section>

    <section class="panel" aria-labelledby="timeseries-title">
      <header class="panel-head">
        <h2 id="timeseries-title">Over time</h2>
        <div class="controls">
          <label>Metric <select id="ts-metric">
            <option value="events">Events</option>
            <option value="sites">Reporting sites</option>
            <option value="new_sites">New sites</option>
            <option value="deactivations">Deactivations</option>
            <option value="skips">Skipped</option>
          </select></label>
          <label>Interval <select id="ts-interval">
            <option value="hour">Hour</option>
            <option value="day">Day</option>
            <option value="week">Week</option>
            <option value="month">Month</option>
          </select></label>
          <label>Breakdown <select id="ts-breakdown">
            <option value="">None</option>
            <option value="php_minor">PHP version</option>
            <option value="wp_minor">WordPress version</option>
            <option value="mysql_minor">MySQL version</option>
            <option value="wp_locale">Locale</option>
            <option value="project_version">Project version</option>
            <option value="server_software">Server software</option>
            <option value="client_version">SDK version</option>
            <option value="wp_theme_slug">Theme</option>
            <option value="wp_multisite">Multisite</option>
            <option value="is_local">Local site</option>
            <option value="reason_id">Deactivation reason</option>
          </select></label>
          <label class="breakdown-only" hidden>Top <select id="ts-limit">
            <option value="5">5</option>
            <option value="10" selected>10</option>
            <option value="20">20</option>
          </select></label>
          <label class="breakdown-only" hidden>Style <select id="ts-style">
            <option value="stacked">Stacked bars</option>
            <option value="lines">Lines</option>
          </select></label>
        </div>
      </header>
      <div class="panel-body" id="timeseries" data-testid="timeseries"></div>
    </section>

    <section class="panel" aria-labelledby="breakdowns-title">
      <header class="panel-head">
        <h2 id="breakdowns-title">Active sites by version</h2>
        <p class="muted" id="breakdowns-note">Sites whose latest report is a track event within 14 days before the end of the range.</p>
      </header>
      <div class="breakdowns" id="breakdowns" data-testid="breakdowns"></div>
    </section>

    <section class="panel" aria-labelledby="deactivations-title">
      <header class="panel-head">
        <h2 id="deactivations-title">Deactivations</h2>
      </header>
      <div class="panel-body" id="deactivations" data-testid="deactivations"></div>
    </section>

    <section class="panel" aria-labelledby="sites-title">
      <header class="panel-head">
        <h2 id="sites-title">Sites</h2>
        <form class="controls" id="sites-controls" role="search">
          <label>Search <input type="search" id="sites-q" placeholder="domain, name or email" spellcheck="false"></label>
          <label>Status <select id="sites-status">
            <option value="">All</option>
            <option value="active">Active</option>
            <option value="deactivated">Deactivated</option>
          </select></label>
          <label>Where <select id="sites-filter-column">
            <option value="">(any column)</option>
          </select></label>
          <label class="filter-value" hidden>equals <input type="text" id="sites-filter-value" spellcheck="false"></label>
          <label>Rows <select id="sites-per-page">
            <option value="25">25</option>
            <option value="50" selected>50</option>
            <option value="100">100</option>
          </select></label>
          <button type="button" id="sites-export" data-testid="sites-export">Export CSV</button>
        </form>
      </header>
      <div class="panel-body" id="sites" data-testid="sites"></div>
    </section>
    <p class="muted footnote">All times are UTC. Ranges include the start and exclude the end.</p>
  </div>
</main>
<noscript><p class="error">The Trackhouse dashboard needs JavaScript.</p></noscript>
</body>
</html>
"""#
}
