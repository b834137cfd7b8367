// Class-probability bars: one row per class (name, bar, percentage) in a `.probs` grid.

/** The rows of a `.probs` element: fills it with one row per class and shows probabilities in them. */
export class ProbabilityBars {
  private readonly names: HTMLElement[] = [];
  private readonly bars: HTMLElement[] = [];
  private readonly values: HTMLElement[] = [];

  /**
   * Appends one row per class to `el`, named `0`, `1`, … until `setNames` renames them.
   * @example new ProbabilityBars(byId('probs'), 10).show(probs)
   */
  constructor(el: HTMLElement, classes: number) {
    for (let k = 0; k < classes; k++) {
      const name = document.createElement('span');
      name.textContent = String(k);
      const track = document.createElement('div');
      const bar = document.createElement('div');
      bar.className = 'bar';
      track.append(bar);
      const value = document.createElement('span');
      el.append(name, track, value);
      this.names.push(name);
      this.bars.push(bar);
      this.values.push(value);
    }
    this.clear();
  }

  /** Labels the rows (one name per class). */
  setNames(names: readonly string[]): void {
    this.names.forEach((n, k) => { n.textContent = names[k] ?? String(k); });
  }

  /** Shows one probability per class, marks the most likely and returns its index. */
  show(probs: ArrayLike<number>): number {
    let best = 0;
    for (let k = 1; k < this.bars.length; k++) if (probs[k]! > probs[best]!) best = k;
    for (let k = 0; k < this.bars.length; k++) {
      const percent = `${(100 * probs[k]!).toFixed(1)}%`;
      this.bars[k]!.style.width = percent;
      this.values[k]!.textContent = percent;
      this.names[k]!.classList.toggle('best', k === best);
    }
    return best;
  }

  /** Empties every bar (no prediction to show). */
  clear(): void {
    for (let k = 0; k < this.bars.length; k++) {
      this.bars[k]!.style.width = '0%';
      this.values[k]!.textContent = '–';
      this.names[k]!.classList.remove('best');
    }
  }
}
