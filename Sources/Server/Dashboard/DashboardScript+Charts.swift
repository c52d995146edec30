extension DashboardScript {
    /// Our own SVG charts: a time chart (area for one series, stacked bars or lines for a
    /// breakdown) with axes, legend and a hover tooltip, and horizontal bar lists.
    static let charts = #"""
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
"""#
}
