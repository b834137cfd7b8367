/**
 * `train mlp|cnn|charlm`: training-step throughput (forward + backward + Adam) of simdgrad and its
 * peers on the same model, batch, optimizer and thread count, in one run.
 *
 * Every contender is its own process (./peers/runner.ts for the JS engines, python/train_peer.py for
 * numpy and PyTorch), started once and kept idle between requests; the parent asks them in turn for
 * a slice of timed steps, in interleaved rounds, so a burst of load from another process hurts all of
 * them alike. Each contender's figure is its best step time; the JSON also has the median.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { MODELS, MODEL_NAMES, firstLine, type ModelName, type TimeResult } from './peers/common.js';
import { PYTHON_SCRIPT, findPython, threadEnv } from './peers/python.js';
import {
  formatMachine, formatRatio, formatTable, formatVerdict, machineInfo, median, parseChoices, parseSizes, ratio,
  type Column, type MachineInfo, type Verdict,
} from './report.js';

const RUNNER = fileURLToPath(new URL('./peers/runner.js', import.meta.url));
const ROUNDS = 3;

/** Who runs: the runner's engine name or a Python engine, at a thread count. */
export interface ContenderSpec {
  id: string;
  /** 'simdgrad' rows are ours; the ratios divide simdgrad's figure by the peers'. */
  simdgrad: boolean;
  threads: number;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Set when the contender cannot run here (module missing, …): shown as n/a with this note. */
  skip?: string;
  /** Label before the child reports its own. */
  label: string;
}

export interface TrainRow {
  id: string;
  engine: string;
  simdgrad: boolean;
  threads: number;
  /** null: not run (see note). */
  samplesPerSec: number | null;
  medianSamplesPerSec: number | null;
  msPerStep: number | null;
  /** Effective GFLOPS of a training step, ≈ 3 × the forward flops. */
  gflops: number | null;
  steps: number;
  loss: number | null;
  /** simdgrad (best build, same thread count; one thread for single-thread peers) ÷ this row. */
  simdgradRatio: number | null;
  /**
   * The median over interleaved rounds of (this row's median step time ÷ simdgrad's in the same round):
   * the figure least hurt by load from other processes, since neighbouring slices see the same load.
   */
  simdgradMedianRatio?: number | null;
  notes: string[];
}

export interface TrainReport {
  bench: 'train';
  model: ModelName;
  title: string;
  batch: number;
  quick: boolean;
  machine: MachineInfo;
  timing: { msPerContender: number; rounds: number; statistic: 'best'; ratio?: 'median of per-round ratios' };
  rows: TrainRow[];
  verdicts: Verdict[];
  /** Variants not measured (e.g. the LSTM char model). */
  missing: string[];
}

const USAGE = `train mlp|cnn|charlm|charlm-lstm [--threads 1,2] [--quick] [--json] [--ms 1500] [--rounds 3] [--only id,id]
  charlm runs both char models (dense, then LSTM 128); charlm-lstm the LSTM one alone
  --threads   thread counts to run (default 1,2): simdgrad, numpy and PyTorch run at each; tfjs-wasm
              and jax-js run one thread in Node (their ratios use simdgrad on one thread)
  --quick     0.6 s per contender (default 1.5 s), split over 3 interleaved rounds
  --ms        time per contender (ms), split over the interleaved rounds
  --rounds    interleaved rounds (A B A B …; default 3); the ratio column is the median of the
              per-round ratios, the verdict uses it too
  --only      run only these contenders (ids: simdgrad, simdgrad-simd, tfjs-wasm, tfjs-cpu, jax, numpy, torch)
  --json      print one JSON object instead of the table`;

export const trainCommand: Command = {
  summary: 'training-step samples/s: simdgrad vs tfjs-wasm, tfjs-cpu, jax-js, numpy, PyTorch (same model and batch)',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        threads: { type: 'string' },
        quick: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        ms: { type: 'string' },
        rounds: { type: 'string' },
        only: { type: 'string' },
      },
    });
    if (positionals.length !== 1) throw new Error(`bench: train: name one model (${MODEL_NAMES.join(', ')})`);
    const [model] = parseChoices(positionals[0]!, MODEL_NAMES, 'model');
    const quick = values.quick ?? false;
    // 'charlm' is the issue's char-model target: both variants, dense and LSTM, one table each.
    const models: ModelName[] = model === 'charlm' ? ['charlm', 'charlm-lstm'] : [model!];
    const reports: TrainReport[] = [];
    for (const m of models) reports.push(await runTrain({
      model: m,
      quick,
      threads: values.threads !== undefined ? parseSizes(values.threads, 'threads') : [1, 2],
      ms: values.ms !== undefined ? parseSizes(values.ms, 'ms')[0]! : quick ? 600 : 1500,
      only: values.only !== undefined ? values.only.split(',').map((s) => s.trim()) : null,
      rounds: values.rounds !== undefined ? parseSizes(values.rounds, 'rounds')[0]! : ROUNDS,
      log: values.json ? () => {} : (line) => console.log(line),
    }));
    if (values.json) console.log(JSON.stringify(reports.length === 1 ? reports[0] : { bench: 'train', reports }, null, 2));
    else console.log(reports.map(formatTrainReport).join('\n'));
  },
};

export interface TrainOptions {
  model: ModelName;
  quick: boolean;
  threads: number[];
  ms: number;
  only: string[] | null;
  /** Interleaved rounds (default 3). */
  rounds?: number;
  log(line: string): void;
}

/** The contenders for a model, in table order. Python ones are probed here (and skipped with a note when absent). */
export function contenders(model: ModelName, threads: readonly number[]): ContenderSpec[] {
  const node = (id: string, engine: string, t: number, label: string, simdgrad = false): ContenderSpec => ({
    id, simdgrad, threads: t, command: process.execPath, args: [RUNNER, engine, model, String(t)], label,
  });
  const out: ContenderSpec[] = [];
  for (const t of threads) out.push(node('simdgrad', 'simdgrad-relaxed', t, `simdgrad relaxed ${t}t`, true));
  if (threads.includes(1)) {
    out.push(node('simdgrad-simd', 'simdgrad-simd', 1, 'simdgrad SIMD 1t', true));
    out.push(node('tfjs-wasm', 'tfjs-wasm', 1, 'tfjs-wasm'));
    if (model !== 'mlp') out.push(node('tfjs-cpu', 'tfjs-cpu', 1, 'tfjs-cpu'));
    out.push(node('jax', 'jax', 1, 'jax-js'));
  }
  const py = (id: 'numpy' | 'torch', candidates: string[]) => {
    const found = findPython(id, candidates);
    for (const t of threads) {
      const spec: ContenderSpec = {
        id, simdgrad: false, threads: t, command: found.python ?? 'python3', args: [PYTHON_SCRIPT, id, model, String(t)],
        env: threadEnv(t), label: id === 'numpy' ? `numpy ${t}t` : `PyTorch CPU ${t}t`,
      };
      if (found.python === null) spec.skip = `skipped: ${found.reason}`;
      out.push(spec);
    }
  };
  if (model === 'mlp') py('numpy', ['python3']);
  // Debian's python3-torch lives under /usr/bin/python3; a venv's torch would do as well.
  py('torch', ['/usr/bin/python3', 'python3']);
  return out;
}

/** A running contender: its process and a reader of its JSON lines. */
class Peer {
  private readonly child: ChildProcess;
  private readonly lines: Interface;
  private readonly queue: ((line: string | null) => void)[] = [];
  private readonly buffered: (string | null)[] = [];
  private stderr = '';

  constructor(spec: ContenderSpec) {
    this.child = spawn(spec.command, spec.args, { env: spec.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    this.child.on('error', (e) => { this.stderr += String(e); this.push(null); });
    this.lines = createInterface({ input: this.child.stdout! });
    this.lines.on('line', (l) => this.push(l));
    this.lines.on('close', () => this.push(null));
  }

  private push(line: string | null): void {
    const waiter = this.queue.shift();
    if (waiter) waiter(line);
    else this.buffered.push(line);
  }

  /** The next JSON message, or an error with the child's stderr when it died or timed out. */
  async next(timeoutMs: number): Promise<Record<string, unknown>> {
    const line = this.buffered.length > 0 ? this.buffered.shift()! : await new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => {
        const i = this.queue.indexOf(done);
        if (i >= 0) this.queue.splice(i, 1);
        resolve(null);
      }, timeoutMs);
      const done = (l: string | null) => { clearTimeout(timer); resolve(l); };
      this.queue.push(done);
    });
    if (line === null) {
      const err = this.stderr.trim().split('\n').filter((l) => l.trim() !== '');
      throw new Error(`the process ended or stalled${err.length > 0 ? `: ${err.slice(-3).join(' | ')}` : ''}`);
    }
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`unexpected output: ${line.slice(0, 120)}`);
    }
  }

  send(msg: unknown): void {
    if (this.child.stdin?.writable) this.child.stdin.write(JSON.stringify(msg) + '\n');
  }

  async close(): Promise<void> {
    this.send({ cmd: 'exit' });
    this.child.stdin?.end();
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export async function runTrain(o: TrainOptions): Promise<TrainReport> {
  const spec = MODELS[o.model];
  const machine = await machineInfo();
  o.log(formatMachine(machine));
  let list = contenders(o.model, o.threads);
  if (o.only) list = list.filter((c) => o.only!.includes(c.id));
  const rows: TrainRow[] = list.map((c) => ({
    id: c.id, engine: c.label, simdgrad: c.simdgrad, threads: c.threads, samplesPerSec: null, medianSamplesPerSec: null,
    msPerStep: null, gflops: null, steps: 0, loss: null, simdgradRatio: null, notes: c.skip ? [c.skip] : [],
  }));
  const peers: (Peer | null)[] = list.map(() => null);
  const best: (TimeResult | null)[] = list.map(() => null);
  const medians: number[][] = list.map(() => []);
  const rounds = o.rounds ?? ROUNDS;
  const progress = (text: string) => { if (process.stderr.isTTY) process.stderr.write(`\r  ${text.padEnd(60)}`); };
  try {
    // Start one at a time (a start-up is CPU-heavy too), then keep them idle until asked.
    for (const [i, c] of list.entries()) {
      if (c.skip) continue;
      progress(`starting ${c.label} ...`);
      const peer = new Peer(c);
      try {
        const hello = await peer.next(180_000);
        if (hello.ready !== true) throw new Error(String(hello.reason ?? 'not ready'));
        rows[i]!.engine = String(hello.engine ?? c.label);
        rows[i]!.notes.push(...((hello.notes as string[] | undefined) ?? []));
        peers[i] = peer;
      } catch (e) {
        rows[i]!.notes.push(`failed: ${firstLine(e)}`);
        await peer.close();
      }
    }
    const share = o.ms / rounds;
    for (let r = 0; r < rounds; r++) {
      for (const [i, peer] of peers.entries()) {
        if (peer === null) continue;
        progress(`round ${r + 1}/${rounds}: ${rows[i]!.engine} ...`);
        try {
          peer.send({ cmd: 'time', ms: share, warmupMs: r === 0 ? Math.min(500, o.ms / 3) : 0 });
          const res = await peer.next(300_000);
          if (typeof res.error === 'string') throw new Error(res.error);
          const t = res as unknown as TimeResult;
          medians[i]![r] = t.medianMs;
          rows[i]!.steps += t.steps;
          if (best[i] === null || t.bestMs < best[i]!.bestMs) best[i] = t;
          for (const n of t.notes ?? []) if (!rows[i]!.notes.includes(n)) rows[i]!.notes.push(n);
        } catch (e) {
          rows[i]!.notes.push(`failed in round ${r + 1}: ${firstLine(e)}`);
          await peer.close();
          peers[i] = null;
        }
      }
    }
  } finally {
    if (process.stderr.isTTY) process.stderr.write('\r' + ' '.repeat(64) + '\r');
    await Promise.all(peers.map((p) => p?.close()));
  }
  rows.forEach((row, i) => {
    const t = best[i];
    if (!t) return;
    row.samplesPerSec = (spec.batch * 1000) / t.bestMs;
    const sorted = medians[i]!.filter((m) => m !== undefined).sort((a, b) => a - b);
    row.medianSamplesPerSec = (spec.batch * 1000) / sorted[sorted.length >> 1]!;
    row.msPerStep = t.bestMs;
    row.gflops = (3 * spec.flopsPerSample * spec.batch) / (t.bestMs * 1e6);
    row.loss = t.loss;
  });
  // The ratios: our best build at the row's thread count (one thread for engines that only run one).
  const ours = (threads: number) => {
    const xs = rows.filter((r) => r.simdgrad && r.threads === threads && r.samplesPerSec !== null).map((r) => r.samplesPerSec!);
    return xs.length > 0 ? Math.max(...xs) : null;
  };
  for (const row of rows) if (!row.simdgrad) row.simdgradRatio = ratio(ours(row.threads), row.samplesPerSec);
  // Per round: the peer's median step time ÷ that of our row with the best figure, then the median.
  const oursIndex = (threads: number) => {
    let k = -1;
    rows.forEach((r, i) => {
      if (r.simdgrad && r.threads === threads && r.samplesPerSec !== null && (k < 0 || r.samplesPerSec > rows[k]!.samplesPerSec!)) k = i;
    });
    return k;
  };
  rows.forEach((row, i) => {
    if (row.simdgrad) return;
    const k = oursIndex(row.threads);
    if (k < 0) return;
    row.simdgradMedianRatio = medianRoundRatio(medians[k]!, medians[i]!);
  });
  const missing: string[] = [];
  return {
    bench: 'train', model: o.model, title: spec.title, batch: spec.batch, quick: o.quick, machine,
    timing: { msPerContender: o.ms, rounds, statistic: 'best', ratio: 'median of per-round ratios' }, rows, verdicts: trainVerdicts(o.model, rows), missing,
  };
}

/**
 * The median over rounds of peer ÷ ours, from each round's median step time (ms) of both; rounds that
 * either side missed (a failed slice) are left out. null when no round has both.
 */
export function medianRoundRatio(ours: readonly (number | undefined)[], peer: readonly (number | undefined)[]): number | null {
  const per: number[] = [];
  for (let r = 0; r < Math.min(ours.length, peer.length); r++) {
    const a = ours[r], b = peer[r];
    if (a !== undefined && b !== undefined && a > 0) per.push(b / a);
  }
  return per.length > 0 ? median(per) : null;
}

/** The issue's targets for each model, on one thread. */
export const TARGETS: Readonly<Record<ModelName, readonly { peer: string; threshold: number; label: string }[]>> = {
  mlp: [
    { peer: 'jax', threshold: 2, label: 'jax-js (jit)' },
    { peer: 'numpy', threshold: 1, label: 'numpy' },
  ],
  cnn: [{ peer: 'torch', threshold: 1, label: 'PyTorch CPU' }],
  charlm: [{ peer: 'tfjs-wasm', threshold: 10, label: 'tfjs-wasm' }],
  'charlm-lstm': [{ peer: 'tfjs-wasm', threshold: 10, label: 'tfjs-wasm' }],
};

export function trainVerdicts(model: ModelName, rows: readonly TrainRow[]): Verdict[] {
  return TARGETS[model].map(({ peer, threshold, label }) => {
    const target = `${model}: simdgrad ≥ ${threshold.toFixed(1)}× ${label}, 1 thread`;
    const row = rows.find((r) => r.id === peer && r.threads === 1);
    const x = row?.simdgradMedianRatio ?? row?.simdgradRatio ?? null;
    if (!row || x === null) return { target, pass: null, detail: row ? `not measured (${row.notes.join('; ') || 'no figure'})` : 'not run' };
    return { target, pass: x >= threshold, detail: `${formatRatio(x)} (${row.engine}: ${fmtRate(row.samplesPerSec)} samples/s)` };
  });
}

/** Samples/s: whole numbers with thousands separators ('12,345'); 'n/a' when missing. */
export function fmtRate(x: number | null | undefined): string {
  return typeof x === 'number' && Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a';
}

export function formatTrainReport(report: TrainReport): string {
  const notes: string[] = [];
  const noteRefs = (row: TrainRow) => row.notes.map((n) => {
    let i = notes.indexOf(n);
    if (i < 0) i = notes.push(n) - 1;
    return `[${i + 1}]`;
  }).join('');
  const columns: Column<TrainRow>[] = [
    { header: 'engine', align: 'left', cell: (r) => r.engine },
    { header: 'thr', cell: (r) => String(r.threads) },
    { header: 'samples/s', cell: (r) => fmtRate(r.samplesPerSec) },
    { header: 'median', cell: (r) => fmtRate(r.medianSamplesPerSec) },
    { header: 'ms/step', cell: (r) => (r.msPerStep === null ? 'n/a' : r.msPerStep.toFixed(2)) },
    { header: 'GFLOPS', cell: (r) => (r.gflops === null ? 'n/a' : r.gflops.toFixed(1)) },
    { header: 'simdgrad ×', cell: (r) => (r.simdgrad ? '' : formatRatio(r.simdgradRatio)) },
    { header: '× median', cell: (r) => (r.simdgrad ? '' : formatRatio(r.simdgradMedianRatio ?? null)) },
    { header: 'notes', align: 'left', cell: noteRefs },
  ];
  const table = formatTable(columns, report.rows);
  return [
    '',
    `train ${report.model}: ${report.title} — best of ${report.timing.rounds} interleaved rounds, ` +
      `${(report.timing.msPerContender / 1000).toFixed(1)} s per contender; GFLOPS ≈ 3 × forward flops; ` +
      '× median = median over rounds of the per-round ratio',
    '',
    table,
    ...report.missing.map((m) => `(${m})`),
    '',
    ...notes.map((n, i) => `[${i + 1}] ${n}`),
    ...(notes.length > 0 ? [''] : []),
    ...report.verdicts.map(formatVerdict),
  ].join('\n');
}
