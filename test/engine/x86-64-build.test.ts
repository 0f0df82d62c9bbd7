import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { X86_KERNELS_PATH } from '../../lib/engine/wasm-kernels/x86-64';
import { assertRebuildsCommitted } from '../helpers/rebuild';


test('scripts/build-x86-64.sh rebuilds the committed addon byte for byte', (t) => {
  assertRebuildsCommitted(t, 'build-x86-64.sh', { 'x86-64 addon': X86_KERNELS_PATH });
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
