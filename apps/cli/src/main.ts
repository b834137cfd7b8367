#!/usr/bin/env node
// The `simdgrad` command. This first version reports what the engine runs on; training, evaluation,
// prediction and export commands are added command by command (see the issues).
import { backendInfo, init } from '@simdgrad/core';
import { readFileSync } from 'node:fs';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP = `simdgrad ${VERSION} — deep learning in JavaScript on WebAssembly SIMD

Usage: simdgrad <command> [options]

Commands:
  info        what the engine runs on (SIMD, relaxed SIMD, threads)

Options:
  --help      show this help
  --version   print the version
  --json      machine-readable output`;

export async function main(argv: string[]): Promise<number> {
  const args = argv.filter((a) => !a.startsWith('--'));
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  if (flags.has('--version')) {
    console.log(VERSION);
    return 0;
  }
  if (flags.has('--help') || args.length === 0) {
    console.log(HELP);
    return args.length === 0 && !flags.has('--help') ? 1 : 0;
  }
  const [command] = args;
  if (command === 'info') {
    await init();
    const info = backendInfo();
    console.log(flags.has('--json') ? JSON.stringify(info) : Object.entries(info).map(([k, v]) => `${k}: ${v}`).join('\n'));
    return 0;
  }
  console.error(`simdgrad: unknown command '${command}' (help: simdgrad --help)`);
  return 2;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
  console.error(`simdgrad: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
