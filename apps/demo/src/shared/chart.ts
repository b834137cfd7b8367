// A small canvas chart: axes with round ticks, lines and point clouds, a legend, optional log y.
// Enough for loss curves, fitted lines and benchmark results without a charting dependency; the
// maths lives in scale.ts and is unit-tested.
import { extent, formatTick, linearScale, logTicks, niceTicks } from './scale.js';

export interface Series {
  label?: string;
  color: string;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  /** 'line' (default) or 'points'. */
  kind?: 'line' | 'points';
  width?: number;
  radius?: number;
}

export interface PlotOptions {
  xLabel?: string;
  yLabel?: string;
  /** Fixed domains; otherwise they follow the data. */
  x?: [number, number];
  y?: [number, number];
  logY?: boolean;
  /** Start the y axis at 0 (for quantities such as GFLOPS). */
  yFromZero?: boolean;
}

const MARGIN = { left: 52, right: 12, top: 12, bottom: 36 };

export class Plot {
  private series: Series[] = [];

  constructor(readonly canvas: HTMLCanvasElement, readonly options: PlotOptions = {}) {
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  setSeries(series: Series[]): void {
    this.series = series;
    this.draw();
  }

  draw(): void {
    const { canvas, options } = this;
    const dpr = window.devicePixelRatio || 1;
    const cssW = canvas.clientWidth || 400, cssH = canvas.clientHeight || 240;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
    }
    const g = canvas.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, cssW, cssH);
    const ty = (v: number) => (options.logY ? Math.log10(Math.max(v, 1e-12)) : v);
    const ys = this.series.map((s) => Float64Array.from(s.ys as ArrayLike<number>, ty));
    const [x0, x1] = options.x ?? extent(this.series.map((s) => s.xs));
    let [y0, y1] = options.y ? [ty(options.y[0]), ty(options.y[1])] : extent(ys);
    if (options.yFromZero && !options.logY) [y0, y1] = [Math.min(0, y0), Math.max(0, y1) * 1.05];
    const sx = linearScale(x0, x1, MARGIN.left, cssW - MARGIN.right);
    const sy = linearScale(y0, y1, cssH - MARGIN.bottom, MARGIN.top);

    // grid and ticks
    g.font = '11px system-ui, sans-serif';
    g.strokeStyle = '#e3e6ea';
    g.fillStyle = '#555';
    g.lineWidth = 1;
    g.textAlign = 'center';
    g.textBaseline = 'top';
    for (const t of niceTicks(x0, x1, Math.max(2, Math.floor(cssW / 80)))) {
      const px = Math.round(sx(t)) + 0.5;
      g.beginPath(); g.moveTo(px, MARGIN.top); g.lineTo(px, cssH - MARGIN.bottom); g.stroke();
      g.fillText(formatTick(t), px, cssH - MARGIN.bottom + 4);
    }
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    const yTicks = options.logY ? logTicks(y0, y1) : niceTicks(y0, y1, Math.max(2, Math.floor(cssH / 50)));
    for (const t of yTicks) {
      const py = Math.round(sy(t)) + 0.5;
      g.beginPath(); g.moveTo(MARGIN.left, py); g.lineTo(cssW - MARGIN.right, py); g.stroke();
      g.fillText(formatTick(options.logY ? 10 ** t : t), MARGIN.left - 4, py);
    }
    g.strokeStyle = '#888';
    g.strokeRect(MARGIN.left + 0.5, MARGIN.top + 0.5, cssW - MARGIN.left - MARGIN.right, cssH - MARGIN.top - MARGIN.bottom);
    g.textAlign = 'center';
    g.textBaseline = 'bottom';
    if (options.xLabel) g.fillText(options.xLabel, (MARGIN.left + cssW - MARGIN.right) / 2, cssH - 2);
    if (options.yLabel) {
      g.save();
      g.translate(11, (MARGIN.top + cssH - MARGIN.bottom) / 2);
      g.rotate(-Math.PI / 2);
      g.textBaseline = 'middle';
      g.fillText(options.yLabel + (options.logY ? ' (log)' : ''), 0, 0);
      g.restore();
    }

    // data, clipped to the plot area
    g.save();
    g.beginPath();
    g.rect(MARGIN.left, MARGIN.top, cssW - MARGIN.left - MARGIN.right, cssH - MARGIN.top - MARGIN.bottom);
    g.clip();
    this.series.forEach((s, k) => {
      const yv = ys[k]!;
      g.strokeStyle = g.fillStyle = s.color;
      if (s.kind === 'points') {
        const r = s.radius ?? 2.5;
        for (let i = 0; i < s.xs.length; i++) {
          if (!Number.isFinite(yv[i]!)) continue;
          g.beginPath();
          g.arc(sx(s.xs[i]!), sy(yv[i]!), r, 0, 2 * Math.PI);
          g.fill();
        }
      } else {
        g.lineWidth = s.width ?? 2;
        g.beginPath();
        let pen = false;
        for (let i = 0; i < s.xs.length; i++) {
          if (!Number.isFinite(yv[i]!)) { pen = false; continue; }
          if (pen) g.lineTo(sx(s.xs[i]!), sy(yv[i]!));
          else g.moveTo(sx(s.xs[i]!), sy(yv[i]!));
          pen = true;
        }
        g.stroke();
      }
    });
    g.restore();

    // legend
    const labelled = this.series.filter((s) => s.label);
    g.textAlign = 'left';
    g.textBaseline = 'middle';
    labelled.forEach((s, i) => {
      const y = MARGIN.top + 10 + i * 15;
      const x = cssW - MARGIN.right - 110;
      g.fillStyle = s.color;
      g.fillRect(x, y - 2, 14, 4);
      g.fillStyle = '#333';
      g.fillText(s.label!, x + 18, y);
    });
  }
}
