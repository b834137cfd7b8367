// How a command talks: a live progress bar on a terminal (cli-progress, on stderr), plain log lines
// otherwise, or one JSON object per line with --json (and nothing else on stdout).
import cliProgress from 'cli-progress';

export type OutputMode = 'tty' | 'plain' | 'json';

export function outputMode(json: boolean): OutputMode {
  if (json) return 'json';
  return process.stderr.isTTY === true && process.env.CI === undefined ? 'tty' : 'plain';
}

export class Output {
  private bar: cliProgress.SingleBar | null = null;

  constructor(readonly mode: OutputMode, readonly verbose = false) {}

  /** A human line on stdout (not in --json mode). */
  log(line = ''): void {
    if (this.mode === 'json') return;
    this.bar?.stop();
    this.bar = null;
    process.stdout.write(`${line}\n`);
  }

  /** A note on stderr, shown in every mode (e.g. where the checkpoint went after Ctrl-C). */
  note(line: string): void {
    this.bar?.stop();
    this.bar = null;
    process.stderr.write(`${line}\n`);
  }

  /** One JSON object per line on stdout (only in --json mode). */
  json(obj: object): void {
    if (this.mode === 'json') process.stdout.write(`${JSON.stringify(obj)}\n`);
  }

  /** Starts the per-epoch bar (terminal only). */
  startEpoch(label: string, total: number, start: number): void {
    if (this.mode !== 'tty') return;
    this.bar?.stop();
    this.bar = new cliProgress.SingleBar({
      format: `${label} {bar} {value}/{total} | loss {loss} | {speed} samples/s | ETA {eta_formatted}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stderr,
      etaBuffer: 50,
    }, cliProgress.Presets.shades_classic);
    this.bar.start(total, start, { loss: '—', speed: '—' });
  }

  updateEpoch(value: number, loss: number, samplesPerSec: number): void {
    this.bar?.update(value, { loss: loss.toFixed(4), speed: Math.round(samplesPerSec) });
  }

  endEpoch(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

/** Right-aligned table rows from a header and string cells. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(header), ...rows.map(line)];
}
