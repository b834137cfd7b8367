// The CLI's one error class: a message meant for the user, printed as one line, and an exit code.
import { SimdgradError } from '@simdgrad/core';

/** Exit codes: 1 bad input or a failed run, 2 bad usage (unknown command/option/recipe), 130 interrupted. */
export const EXIT = { error: 1, usage: 2, interrupted: 130 } as const;

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.error) {
    super(message);
    this.name = 'CliError';
  }
}

/** The message of an engine error without its `op: ` prefix when a file or context is prepended. */
export function engineMessage(e: unknown): string {
  if (e instanceof SimdgradError || e instanceof CliError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/** Runs fn, turning engine errors into CliErrors prefixed with `context: `. */
export function withContext<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CliError) throw e;
    if (e instanceof SimdgradError) throw new CliError(`${context}: ${e.message.replace(/^[A-Za-z.]+: /, '')}`);
    throw e;
  }
}
