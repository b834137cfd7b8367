// The API reference: `pnpm docs` runs typedoc over the public entries (typedoc.json) into docs/api.
// Built here so CI builds it (and a broken TSDoc link or a missing entry fails by name). Type errors are
// the build's job (tsc), so typedoc skips checking them (typedoc.json: skipErrorChecking).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

it('typedoc builds the API reference into docs/api with no errors', async () => {
  const out = join(root, 'docs', 'api');
  rmSync(out, { recursive: true, force: true });
  // typedoc exits non-zero on an error, which rejects here; warnings go to stderr
  const { stdout, stderr } = await promisify(execFile)('node', [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc')], { cwd: root, timeout: 170_000, env: { ...process.env, FORCE_COLOR: '0' } });
  expect(stdout).toMatch(/html generated/);
  expect(stderr).not.toMatch(/\[error\]/);
  expect(existsSync(join(out, 'index.html'))).toBe(true);
  const onnx = readFileSync(join(out, 'functions', '_simdgrad_core_onnx.exportModel.html'), 'utf8');
  expect(onnx).toContain('sampleInput');
}, 180_000);
