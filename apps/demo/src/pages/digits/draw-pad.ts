// A canvas to draw on with mouse, touch or pen (pointer events), in white on a dark background.
export class DrawPad {
  private drawing = false;
  private last: [number, number] | null = null;
  private readonly g: CanvasRenderingContext2D;

  /** `onStroke(final)` runs while drawing (final = false, throttled by the caller) and at pen-up. */
  constructor(readonly canvas: HTMLCanvasElement, private readonly onStroke: (final: boolean) => void, readonly lineWidth = 24) {
    this.g = canvas.getContext('2d', { willReadFrequently: true })!;
    canvas.addEventListener('pointerdown', (e) => {
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      this.drawing = true;
      this.last = this.point(e);
      this.segment(this.last, this.last);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      // coalesced events give the full path of fast strokes
      for (const ev of e.getCoalescedEvents?.() ?? [e]) {
        const p = this.point(ev);
        this.segment(this.last ?? p, p);
        this.last = p;
      }
      this.onStroke(false);
    });
    const end = () => {
      if (!this.drawing) return;
      this.drawing = false;
      this.last = null;
      this.onStroke(true);
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  private point(e: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * this.canvas.width, ((e.clientY - r.top) / r.height) * this.canvas.height];
  }

  private segment(a: [number, number], b: [number, number]): void {
    const g = this.g;
    g.strokeStyle = 'white';
    g.lineWidth = this.lineWidth;
    g.lineCap = 'round';
    g.lineJoin = 'round';
    g.beginPath();
    g.moveTo(a[0], a[1]);
    g.lineTo(b[0] + 0.01, b[1]);
    g.stroke();
  }

  clear(): void {
    this.g.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** Ink coverage in [0, 1] per canvas pixel (alpha), row-major. */
  ink(): Float32Array {
    const { data } = this.g.getImageData(0, 0, this.canvas.width, this.canvas.height);
    const out = new Float32Array(this.canvas.width * this.canvas.height);
    for (let i = 0; i < out.length; i++) out[i] = data[4 * i + 3]! / 255;
    return out;
  }
}
