import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { KERNELS_WASM_PATH } from '../lib/engine/wasm-kernels/native';

const root = path.join(__dirname, '..');
const clangMissing = spawnSync('clang', ['--version']).status !== 0;

test(
  'scripts/build-wasm.sh rebuilds the committed kernels.wasm byte for byte',
  { skip: clangMissing && 'clang is not installed (CI installs clang and lld via apt); cannot rebuild native/kernels.c' },
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-build-'));
    try {
      const out = path.join(dir, 'kernels.wasm');
      execFileSync(path.join(root, 'scripts', 'build-wasm.sh'), [out], { stdio: ['ignore', 'ignore', 'pipe'] });
      const built = fs.readFileSync(out);
      const committed = fs.readFileSync(KERNELS_WASM_PATH);
      const clang = execFileSync('clang', ['--version'], { encoding: 'utf8' }).split('\n')[0];
      assert.ok(
        built.equals(committed),
        `rebuilt kernels.wasm (${built.length} bytes) differs from the committed one (${committed.length} bytes) with ${clang}; ` +
          'run scripts/build-wasm.sh and commit lib/engine/wasm-kernels/kernels.wasm (it was built with Debian clang 14)',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

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

test('kernels.wasm imports only the backend memory and has no data segments to write into it', () => {
  const bytes = fs.readFileSync(KERNELS_WASM_PATH);
  const api = (globalThis as unknown as {
    WebAssembly: { Module: { new (b: Uint8Array): object; imports(m: object): { module: string; name: string; kind: string }[] } };
  }).WebAssembly.Module;
  assert.deepEqual(api.imports(new api(bytes)), [{ module: 'env', name: 'memory', kind: 'memory' }]);
  const DATA = 11;
  const DATA_COUNT = 12;
  const ids = sectionIds(bytes);
  assert.ok(!ids.includes(DATA) && !ids.includes(DATA_COUNT), `kernels.wasm has a data section (sections ${ids}); static data would overwrite tfjs's heap`);
});
