/** Shared by the build tests: a committed binary must be what its script rebuilds from the committed source. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestContext } from 'node:test';

const root = path.join(__dirname, '..', '..');

/**
 * Runs scripts/`script` into a fresh folder and asserts each of `committed`
 * (label: path) comes out byte for byte. The script itself is the probe, so
 * this tests the same $CLANG it uses: its exit code 127 (compiler missing)
 * skips the test, except under CI=true, where it fails.
 */
export function assertRebuildsCommitted(t: TestContext, script: string, committed: Record<string, string>): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${path.basename(script, '.sh')}-`));
  try {
    const run = spawnSync(path.join(root, 'scripts', script), [dir], { encoding: 'utf8' });
    if (run.status === 127) {
      assert.notEqual(process.env.CI, 'true', `CI must be able to rebuild the kernels: ${run.stderr.trim()}`);
      t.skip(`${run.stderr.trim()}; cannot rebuild them`);
      return;
    }
    assert.equal(run.status, 0, `scripts/${script} failed: ${run.stderr}`);
    const clang = spawnSync(process.env.CLANG ?? 'clang-16', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
    for (const [label, committedPath] of Object.entries(committed)) {
      const name = path.basename(committedPath);
      const built = fs.readFileSync(path.join(dir, name));
      const bytes = fs.readFileSync(committedPath);
      assert.ok(
        built.equals(bytes),
        `rebuilt ${name} (${label}, ${built.length} bytes) differs from the committed one (${bytes.length} bytes) ` +
          `with ${clang}; run scripts/${script} and commit ${path.relative(root, committedPath)} (built with Debian clang 16)`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
