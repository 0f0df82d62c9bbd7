import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { KERNELS_WASM_PATHS } from '../../lib/engine/wasm-kernels/native';
import { assertRebuildsCommitted } from '../helpers/rebuild';

const BUILDS = Object.entries(KERNELS_WASM_PATHS);

test('scripts/build-wasm.sh rebuilds both committed kernel binaries byte for byte', (t) => {
  assertRebuildsCommitted(t, 'build-wasm.sh', KERNELS_WASM_PATHS);
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
