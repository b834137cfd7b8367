/**
 * `all`: every bench in one run and one report — gemm, train mlp/cnn/charlm/charlm-lstm, ops, startup —
 * each printed as it finishes, then one summary table of every peer and target (or, with --json, one
 * object holding every report).
 */
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { formatGemmReport, runGemm, VARIANTS, type Variant } from './gemm.js';
import { formatOpsReport, runOps } from './ops.js';
import { MODEL_NAMES } from './peers/common.js';
import { parseSizes } from './report.js';
import { formatStartupReport, runStartup } from './startup.js';
import { formatSummary, type AnyReport } from './summary.js';
import { formatTrainReport, runTrain } from './train.js';

const USAGE = `all [--quick] [--json] [--threads 1,2]
  --quick     the quick form of every bench
  --threads   thread counts for train (default 1,2)
  --json      print one JSON object with every report`;

export const allCommand: Command = {
  summary: 'gemm, train mlp|cnn|charlm|charlm-lstm, ops and startup in one run, ending with one table of every peer and verdict',
  usage: USAGE,
  async run(args) {
    const { values } = parseArgs({
      args, strict: true,
      options: { quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, threads: { type: 'string' } },
    });
    const quick = values.quick ?? false;
    const json = values.json ?? false;
    const print = (text: string) => { if (!json) console.log(text); };
    const quiet = () => {};
    const threads = values.threads !== undefined ? parseSizes(values.threads, 'threads') : [1, 2];
    const reports: AnyReport[] = [];
    const gemm = await runGemm({
      quick, sizes: quick ? [64, 256, 512] : [64, 256, 512, 1024], variants: Object.keys(VARIANTS) as Variant[], tfjs: true,
      log: json ? quiet : (l) => console.log(l),
    });
    reports.push(gemm);
    print(formatGemmReport(gemm));
    for (const model of MODEL_NAMES) {
      const r = await runTrain({ model, quick, threads, ms: quick ? 600 : 1500, only: null, log: quiet });
      reports.push(r);
      print(formatTrainReport(r));
    }
    const ops = await runOps({ quick, log: quiet });
    reports.push(ops);
    print(formatOpsReport(ops));
    const startup = await runStartup({ quick, runs: quick ? 3 : 7, log: quiet });
    reports.push(startup);
    print(formatStartupReport(startup));
    print(formatSummary(reports));
    if (json) console.log(JSON.stringify({ bench: 'all', quick, reports }, null, 2));
  },
};
