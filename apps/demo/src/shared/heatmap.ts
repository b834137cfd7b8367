// Draws a classifier's P(class 1) over a square grid as a heat map, with the data points on top.
import { divergingColor } from './scale.js';

export interface HeatmapPoints {
  /** [n, 2] row-major coordinates in the same domain as the grid. */
  xy: Float32Array;
  labels: Int32Array;
  /** Drawn hollow (test points). */
  hollow?: boolean;
}

/**
 * `grid` holds size×size probabilities, row 0 at the top (largest y), over the square
 * [-extent, extent]²; points use the same coordinates.
 */
export function drawHeatmap(canvas: HTMLCanvasElement, grid: Float32Array | null, size: number, extentV: number, points: HeatmapPoints[]): void {
  const w = canvas.width, h = canvas.height;
  const g = canvas.getContext('2d')!;
  if (grid && size > 0) {
    const image = new ImageData(size, size);
    for (let i = 0; i < size * size; i++) {
      const [r, gr, b] = divergingColor(grid[i]!, 0.55);
      image.data[4 * i] = r;
      image.data[4 * i + 1] = gr;
      image.data[4 * i + 2] = b;
      image.data[4 * i + 3] = 255;
    }
    const tmp = new OffscreenCanvas(size, size);
    tmp.getContext('2d')!.putImageData(image, 0, 0);
    g.imageSmoothingEnabled = true;
    g.drawImage(tmp, 0, 0, w, h);
  } else {
    g.fillStyle = '#e8eaeb';
    g.fillRect(0, 0, w, h);
  }
  const px = (v: number) => ((v + extentV) / (2 * extentV)) * w;
  const py = (v: number) => ((extentV - v) / (2 * extentV)) * h;
  for (const set of points) {
    for (let i = 0; i < set.labels.length; i++) {
      const [r, gr, b] = divergingColor(set.labels[i]!, 1);
      g.beginPath();
      g.arc(px(set.xy[2 * i]!), py(set.xy[2 * i + 1]!), 3.5, 0, 2 * Math.PI);
      if (set.hollow) {
        g.strokeStyle = `rgb(${r},${gr},${b})`;
        g.lineWidth = 1.5;
        g.stroke();
      } else {
        g.fillStyle = `rgb(${r},${gr},${b})`;
        g.fill();
        g.strokeStyle = 'white';
        g.lineWidth = 1;
        g.stroke();
      }
    }
  }
}
