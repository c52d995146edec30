/// The dashboard's stylesheet: system fonts only (no web fonts), CSS variables for the light
/// and dark palettes, and one breakpoint for phones.
enum DashboardStylesheet {
    static let text = #"""
:root {
  --bg: #f5f6f8; --panel: #ffffff; --text: #1f2430; --muted: #667085; --border: #e3e6eb;
  --accent: #2563eb; --accent-soft: #dbe6fd; --grid: #eceef2; --danger: #b42318; --danger-soft: #fef0ee;
  --bar: #2563eb; --other: #9aa3b2;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px; line-height: 1.4; color: var(--text); background: var(--bg);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #12151b; --panel: #1b1f27; --text: #e6e8ec; --muted: #9aa3b2; --border: #2b313c;
    --accent: #6b9bff; --accent-soft: #223257; --grid: #262b35; --danger: #ff8a7a; --danger-soft: #3a1f1c;
    --bar: #6b9bff; --other: #5d6676;
  }
}
* { box-sizing: border-box; }
body { margin: 0; }
[hidden] { display: none !important; }
h1, h2 { margin: 0; font-weight: 600; }
h1 { font-size: 1.4rem; }
h2 { font-size: 1.05rem; }
button, input, select { font: inherit; color: inherit; }
button { cursor: pointer; border: 1px solid var(--border); background: var(--panel); border-radius: 6px; padding: .35rem .7rem; }
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: .45; cursor: default; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
input, select { border: 1px solid var(--border); background: var(--panel); border-radius: 6px; padding: .3rem .45rem; min-width: 0; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.muted { color: var(--muted); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.link-button { border: none; background: none; color: var(--accent); padding: .25rem .4rem; }

.topbar { display: flex; align-items: center; gap: .75rem; padding: .6rem 1rem; background: var(--panel);
  border-bottom: 1px solid var(--border); position: sticky; top: 0; z-index: 5; }
.brand { font-weight: 700; letter-spacing: .01em; white-space: nowrap; }
.logo { color: var(--accent); }
.project-picker { flex: 1; min-width: 0; }
.project-picker select { max-width: 100%; }
main { max-width: 1200px; margin: 0 auto; padding: 1rem; }

.card, .panel { background: var(--panel); border: 1px solid var(--border); border-radius: 10px; }
.signin { display: flex; justify-content: center; padding-top: 8vh; }
.signin-card { width: 100%; max-width: 420px; padding: 1.5rem; display: grid; gap: .9rem; }
.signin-card p { margin: 0; }
.field { display: grid; gap: .3rem; font-weight: 500; }
.field input { padding: .5rem .6rem; }

.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem; margin-bottom: 1rem; }
.segmented { display: inline-flex; border: 1px solid var(--border); border-radius: 8px; overflow: hidden; background: var(--panel); }
.segmented button { border: none; border-radius: 0; border-right: 1px solid var(--border); padding: .35rem .8rem; }
.segmented button:last-child { border-right: none; }
.segmented button[aria-pressed="true"] { background: var(--accent-soft); color: var(--accent); font-weight: 600; }
.custom-range { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
.range-label { margin: 0; font-size: .9rem; }

.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: .75rem; margin-bottom: 1rem; }
.cards > .placeholder, .cards > .error { grid-column: 1 / -1; }
.stat { padding: .8rem 1rem; }
.stat .label { color: var(--muted); font-size: .85rem; }
.stat .value { font-size: 1.7rem; font-weight: 650; font-variant-numeric: tabular-nums; margin: .15rem 0; }
.stat .hint { color: var(--muted); font-size: .78rem; }

.panel { margin-bottom: 1rem; }
.panel-head { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .5rem 1rem;
  padding: .8rem 1rem; border-bottom: 1px solid var(--border); }
.panel-head p { margin: 0; font-size: .85rem; flex-basis: 100%; }
.panel-body { padding: 1rem; position: relative; min-height: 4rem; }
.controls { display: flex; flex-wrap: wrap; gap: .5rem .75rem; align-items: center; font-size: .9rem; }
.controls label { display: inline-flex; align-items: center; gap: .35rem; color: var(--muted); }
.controls label > * { color: var(--text); }

.placeholder, .empty { color: var(--muted); text-align: center; padding: 1.5rem .5rem; margin: 0; }
.is-loading > * { opacity: .45; transition: opacity .2s; }
.is-loading::after { content: "Loading…"; position: absolute; top: .6rem; right: 1rem; font-size: .8rem; color: var(--muted); }
.error { background: var(--danger-soft); color: var(--danger); border: 1px solid currentColor; border-radius: 8px;
  padding: .6rem .8rem; font-size: .9rem; overflow-wrap: anywhere; }
.error strong { margin-right: .4rem; }

.chart { position: relative; }
.chart svg { display: block; width: 100%; height: auto; overflow: visible; touch-action: pan-y; }
.chart .axis text { fill: var(--muted); font-size: 11px; }
.chart .grid line { stroke: var(--grid); }
.chart .guide { stroke: var(--muted); stroke-dasharray: 3 3; }
.chart .area { opacity: .18; }
.chart .line { fill: none; stroke-width: 2; stroke-linejoin: round; }
.tooltip { position: absolute; pointer-events: none; background: var(--panel); border: 1px solid var(--border);
  border-radius: 8px; box-shadow: 0 4px 14px rgba(0,0,0,.12); padding: .45rem .6rem; font-size: .8rem; min-width: 9rem; z-index: 3; }
.tooltip .title { font-weight: 600; margin-bottom: .25rem; }
.tooltip .row, .legend-item { display: flex; align-items: center; gap: .4rem; }
.tooltip .row .n { margin-left: auto; padding-left: .8rem; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: .7rem; height: .7rem; border-radius: 2px; flex: none; }
.legend { display: flex; flex-wrap: wrap; gap: .3rem 1rem; margin-top: .6rem; font-size: .85rem; }
.chart-total { font-size: .85rem; color: var(--muted); margin: 0 0 .4rem; }

.breakdowns { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 0; }
.breakdown { padding: 1rem; border-bottom: 1px solid var(--border); border-right: 1px solid var(--border); position: relative; min-height: 6rem; }
.breakdown h3 { margin: 0 0 .6rem; font-size: .95rem; font-weight: 600; display: flex; justify-content: space-between; gap: .5rem; }
.breakdown h3 .muted { font-weight: 400; font-size: .8rem; }
.hbars { display: grid; gap: .35rem; }
.hbar { display: grid; grid-template-columns: minmax(5rem, 32%) 1fr auto; align-items: center; gap: .5rem; font-size: .85rem; }
.hbar .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.hbar .track { display: block; height: .8rem; background: var(--grid); border-radius: 3px; overflow: hidden; }
.hbar .fill { display: block; height: 100%; background: var(--bar); border-radius: 3px; min-width: 1px; }
.hbar.other .fill { background: var(--other); }
.hbar .nums { font-variant-numeric: tabular-nums; white-space: nowrap; color: var(--muted); text-align: right; min-width: 6.5rem; }
.hbar .nums b { color: var(--text); font-weight: 600; }

.table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; border: 1px solid var(--border); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--border); white-space: nowrap; }
td.wrap { white-space: normal; min-width: 12rem; max-width: 28rem; overflow-wrap: anywhere; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:last-child td { border-bottom: none; }
tbody tr:hover { background: var(--bg); }
th { font-weight: 600; color: var(--muted); background: var(--bg); position: sticky; top: 0; }
th button { border: none; background: none; padding: 0; font-weight: 600; color: inherit; display: inline-flex; gap: .25rem; }
th[aria-sort="ascending"] button, th[aria-sort="descending"] button { color: var(--accent); }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: 99px; font-size: .75rem; font-weight: 600; }
.badge.active { background: #dcfae6; color: #067647; }
.badge.deactivated { background: #fee4e2; color: #b42318; }
@media (prefers-color-scheme: dark) {
  .badge.active { background: #0f3d26; color: #7de2a8; }
  .badge.deactivated { background: #46211d; color: #ffa394; }
}
.pager { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .5rem; margin-top: .75rem; font-size: .85rem; }
.pager .buttons { display: flex; gap: .4rem; }
.deactivations-layout { display: grid; gap: 1.25rem; }
.deactivations-layout h3 { margin: 0 0 .6rem; font-size: .95rem; font-weight: 600; }
.footnote { font-size: .8rem; text-align: center; }

@media (max-width: 600px) {
  main { padding: .6rem; }
  .topbar { padding: .5rem .6rem; gap: .5rem; }
  .cards { grid-template-columns: repeat(2, 1fr); gap: .5rem; }
  .cards > .placeholder, .cards > .error { grid-column: 1 / -1; }
.stat { padding: .6rem .7rem; }
  .stat .value { font-size: 1.35rem; }
  .breakdowns { grid-template-columns: 1fr; }
  .breakdown { border-right: none; }
  .hbar { grid-template-columns: minmax(4rem, 30%) 1fr auto; }
  .hbar .nums { min-width: 5.5rem; }
  .panel-body, .breakdown { padding: .75rem; }
  .controls { width: 100%; }
  /* Two columns of stacked label + control, full width each: easy to tap. */
  .controls label { flex: 1 1 40%; flex-direction: column; align-items: stretch; gap: .15rem; font-size: .8rem; }
  .controls select, .controls input { width: 100%; font-size: .95rem; }
  .controls button { flex: 1 1 40%; align-self: flex-end; }
}
"""#
}
