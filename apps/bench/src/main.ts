/**
 * simdgrad's benchmarks: `node apps/bench/dist/main.js <bench> [options]`.
 *
 * @example
 * ```sh
 * node apps/bench/dist/main.js gemm --quick
 * node apps/bench/dist/main.js gemm --sizes 256,512 --variants ab --json
 * ```
 *
 * To add a bench (`train`, `ops`, `startup`, …): write `src/<name>.ts` exporting a {@link Command}
 * and add it to `commands` below.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { allCommand } from './all.js';
import type { Command } from './command.js';
import { gemmCommand } from './gemm.js';
import { threadsCommand } from './threads.js';
import { opsCommand } from './ops.js';
import { startupCommand } from './startup.js';
import { trainCommand } from './train.js';

export type { Command } from './command.js';

export const commands: Readonly<Record<string, Command>> = {
  gemm: gemmCommand,
  threads: threadsCommand,
  train: trainCommand,
  ops: opsCommand,
  startup: startupCommand,
  all: allCommand,
};

function help(): string {
  const names = Object.keys(commands);
  const w = Math.max(...names.map((n) => n.length));
  return [
    'usage: node apps/bench/dist/main.js <bench> [options]   (<bench> --help for its options)',
    '',
    ...names.map((n) => `  ${n.padEnd(w)}  ${commands[n]!.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 1 : 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`bench: unknown bench (${name})\n\n${help()}`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: node apps/bench/dist/main.js ${command.usage}`);
    return 0;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`bench: ${name}: ${err.message} (help: ${name} --help)`);
    } else {
      // Our own errors read 'bench: …'; anything else (a kernel trap, a peer bug) gets its stack.
      console.error(err.message.startsWith('bench:') ? err.message : err.stack);
    }
    return 1;
  }
}

/** Run only as a script, so importing this module (e.g. in a test) has no side effects. */
function isEntry(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntry()) process.exitCode = await main(process.argv.slice(2));
