import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { KERNELS_WASM_PATHS } from '../../lib/engine/wasm-kernels/native';

const root = path.join(__dirname, '..', '..');
const BUILDS = Object.entries(KERNELS_WASM_PATHS);

test('scripts/build-wasm.sh rebuilds both committed kernel binaries byte for byte', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-build-'));
  try {
    // The script itself is the probe, so this tests the same $CLANG it uses; 127 means the compiler is missing.
    const run = spawnSync(path.join(root, 'scripts', 'build-wasm.sh'), [dir], { encoding: 'utf8' });
    if (run.status === 127) {
      assert.notEqual(process.env.CI, 'true', `CI must be able to rebuild the kernels: ${run.stderr.trim()}`);
      t.skip(`${run.stderr.trim()}; cannot rebuild native/*.c`);
      return;
    }
    assert.equal(run.status, 0, `scripts/build-wasm.sh failed: ${run.stderr}`);
    const clang = spawnSync(process.env.CLANG ?? 'clang-16', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
    for (const [build, committedPath] of BUILDS) {
      const built = fs.readFileSync(path.join(dir, path.basename(committedPath)));
      const committed = fs.readFileSync(committedPath);
      assert.ok(
        built.equals(committed),
        `rebuilt ${path.basename(committedPath)} (${build}, ${built.length} bytes) differs from the committed one ` +
          `(${committed.length} bytes) with ${clang}; run scripts/build-wasm.sh and commit lib/engine/wasm-kernels/*.wasm ` +
          '(they were built with Debian clang 16)',
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Section ids of a wasm binary, in order (https://webassembly.github.io/spec/core/binary/modules.html). */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++];
      size += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    ids.push(id);
    at += size;
  }
  return ids;
}

type ModuleApi = { new (b: Uint8Array): object; imports(m: object): { module: string; name: string; kind: string }[] };
const WasmJs = (globalThis as unknown as { WebAssembly: { Module: ModuleApi; validate(b: Uint8Array): boolean } }).WebAssembly;

for (const [build, file] of BUILDS) {
  test(`${path.basename(file)} (${build}) imports only the backend memory and has no data segments to write into it`, (t) => {
    const bytes = fs.readFileSync(file);
    const DATA = 11;
    const DATA_COUNT = 12;
    const ids = sectionIds(bytes);
    assert.ok(!ids.includes(DATA) && !ids.includes(DATA_COUNT), `${file} has a data section (sections ${ids}); static data would overwrite tfjs's heap`);
    if (!WasmJs.validate(bytes)) {
      // Node 20 without --experimental-wasm-relaxed-simd cannot even compile the relaxed build.
      assert.equal(build, 'relaxed-simd', `${file} does not validate`);
      t.diagnostic('this runtime has no relaxed SIMD; imports not checked');
      return;
    }
    assert.deepEqual(WasmJs.Module.imports(new WasmJs.Module(bytes)), [{ module: 'env', name: 'memory', kind: 'memory' }]);
  });
}
