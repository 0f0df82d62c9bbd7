import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { X86_KERNELS_PATH } from '../../lib/engine/wasm-kernels/x86-64';

const root = path.join(__dirname, '..', '..');

test('scripts/build-x86-64.sh rebuilds the committed addon byte for byte', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'x86-64-build-'));
  try {
    // The script itself is the probe, so this tests the same $CLANG it uses; 127 means the compiler is missing.
    const run = spawnSync(path.join(root, 'scripts', 'build-x86-64.sh'), [dir], { encoding: 'utf8' });
    if (run.status === 127) {
      assert.notEqual(process.env.CI, 'true', `CI must be able to rebuild the addon: ${run.stderr.trim()}`);
      t.skip(`${run.stderr.trim()}; cannot rebuild native/x86-64/*.c`);
      return;
    }
    assert.equal(run.status, 0, `scripts/build-x86-64.sh failed: ${run.stderr}`);
    const built = fs.readFileSync(path.join(dir, path.basename(X86_KERNELS_PATH)));
    const committed = fs.readFileSync(X86_KERNELS_PATH);
    const clang = spawnSync(process.env.CLANG ?? 'clang-16', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
    assert.ok(
      built.equals(committed),
      `rebuilt kernels-x86_64.node (${built.length} bytes) differs from the committed one (${committed.length} bytes) with ` +
        `${clang}; run scripts/build-x86-64.sh and commit lib/engine/wasm-kernels/kernels-x86_64.node (built with Debian clang 16)`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the addon is an x86-64 ELF shared object that needs only libc', () => {
  const bytes = fs.readFileSync(X86_KERNELS_PATH);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], 'ELF magic');
  assert.equal(bytes.readUInt16LE(16), 3, 'ET_DYN: a shared object');
  assert.equal(bytes.readUInt16LE(18), 62, 'EM_X86_64');
  // The dynamic string table names every library it needs; libc.so.6 must be the only "lib*.so*" in it.
  const names = bytes.toString('latin1').match(/lib[a-z0-9_+-]*\.so[.0-9]*/g) ?? [];
  assert.deepEqual([...new Set(names)], ['libc.so.6']);
});
