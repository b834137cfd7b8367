// Small hand-made SVG charts: line plots (linear or log x axis) and a scatter with a fitted line.
// Plain strings, no dependencies; plot.test.ts checks the geometry.

export interface Series {
  name: string;
  points: [number, number][];
  /** Draw as dots instead of a line. */
  dots?: boolean;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** A base-10 log x axis (every x must be > 0). */
  logX?: boolean;
  /** A vertical marker, e.g. the suggested learning rate. */
  markerX?: { x: number; label: string };
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];
const MARGIN = { left: 64, right: 16, top: 36, bottom: 48 };

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** About `count` round tick values covering [lo, hi] (1, 2, 5 × 10^k steps). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

function fmtTick(v: number, log: boolean): string {
  if (log) return `1e${Math.round(Math.log10(v))}`;
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(Number(v.toPrecision(4)));
}

/** An SVG line chart of one or more series. Non-finite points are skipped. */
export function linePlot(options: PlotOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const logX = options.logX ?? false;
  const tx = (x: number) => (logX ? Math.log10(x) : x);
  const finite = options.series.map((s) => s.points.filter(([x, y]) => Number.isFinite(tx(x)) && Number.isFinite(y)));
  const all = finite.flat();
  let [x0, x1] = all.length > 0 ? [Math.min(...all.map((p) => tx(p[0]))), Math.max(...all.map((p) => tx(p[0])))] : [0, 1];
  let [y0, y1] = all.length > 0 ? [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))] : [0, 1];
  if (x1 === x0) { x0 -= 0.5; x1 += 0.5; }
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const pw = width - MARGIN.left - MARGIN.right;
  const ph = height - MARGIN.top - MARGIN.bottom;
  const sx = (x: number) => MARGIN.left + ((tx(x) - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => MARGIN.top + (1 - (y - y0) / (y1 - y0)) * ph;
  const r = (v: number) => v.toFixed(1);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`);
  // axes and ticks
  const xTicks = logX
    ? Array.from({ length: Math.floor(x1) - Math.ceil(x0) + 1 }, (_, i) => 10 ** (Math.ceil(x0) + i))
    : niceTicks(x0, x1);
  const yTicks = niceTicks(y0, y1);
  out.push(`<g class="axes" stroke="#333" fill="none"><rect x="${MARGIN.left}" y="${MARGIN.top}" width="${pw}" height="${ph}"/></g>`);
  out.push('<g class="x-ticks" text-anchor="middle">');
  for (const t of xTicks) {
    const x = r(sx(t));
    out.push(`<line x1="${x}" y1="${MARGIN.top + ph}" x2="${x}" y2="${MARGIN.top + ph + 5}" stroke="#333"/><text x="${x}" y="${MARGIN.top + ph + 18}">${fmtTick(t, logX)}</text>`);
  }
  out.push('</g><g class="y-ticks" text-anchor="end">');
  for (const t of yTicks) {
    const y = r(sy(t));
    out.push(`<line x1="${MARGIN.left - 5}" y1="${y}" x2="${MARGIN.left}" y2="${y}" stroke="#333"/><line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + pw}" y2="${y}" stroke="#eee"/><text x="${MARGIN.left - 8}" y="${Number(y) + 4}">${fmtTick(t, false)}</text>`);
  }
  out.push('</g>');
  out.push(`<text x="${MARGIN.left + pw / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${MARGIN.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`);
  // data
  finite.forEach((pts, i) => {
    const s = options.series[i]!;
    const color = COLORS[i % COLORS.length]!;
    if (s.dots) {
      out.push(`<g class="series" data-name="${escapeXml(s.name)}" fill="${color}" fill-opacity="0.6">`);
      for (const [x, y] of pts) out.push(`<circle cx="${r(sx(x))}" cy="${r(sy(y))}" r="3"/>`);
      out.push('</g>');
    } else {
      const d = pts.map(([x, y]) => `${r(sx(x))},${r(sy(y))}`).join(' ');
      out.push(`<polyline class="series" data-name="${escapeXml(s.name)}" fill="none" stroke="${color}" stroke-width="2" points="${d}"/>`);
    }
  });
  if (options.markerX !== undefined && Number.isFinite(tx(options.markerX.x))) {
    const x = r(sx(options.markerX.x));
    out.push(`<line class="marker" x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + ph}" stroke="#d62728" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${Number(x) + 4}" y="${MARGIN.top + 14}" fill="#d62728">${escapeXml(options.markerX.label)}</text>`);
  }
  // legend
  options.series.forEach((s, i) => {
    const y = MARGIN.top + 14 + i * 16;
    const x = MARGIN.left + pw - 150;
    out.push(`<rect x="${x}" y="${y - 9}" width="12" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${x + 18}" y="${y}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
