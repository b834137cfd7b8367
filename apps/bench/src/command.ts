/** One bench of `node dist/main.js <name> [options]`. Each bench lives in its own file and parses its own options. */
export interface Command {
  /** One line for `--help`. */
  summary: string;
  /** The options, as shown by `<name> --help`. */
  usage: string;
  /** Runs the bench; throws on failure (main prints the message and exits 1). */
  run(args: string[]): Promise<void>;
}
