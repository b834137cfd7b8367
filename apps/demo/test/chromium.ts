// What the demo's browser tests share: Debian's Chromium (driven by playwright-core), the flags it runs
// with here, and a clear failure when it is not installed.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';
export const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Null when Chromium is installed, else the message a suite fails each test with (by name, not a
 * skip, so the totals show it), starting with `suite`.
 */
export function chromiumMissing(suite: string): string | null {
  return existsSync(CHROMIUM) ? null
    : `${suite}: ${CHROMIUM} is missing (help: apt-get update && apt-get install -y chromium; .ci/run does this)`;
}

/** The newest modification time (ms) of any file under `dir`. */
export function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}
