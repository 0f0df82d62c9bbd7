import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

const root = path.join(__dirname, '..', '..');

/** selectBackend() in a fresh process (it picks once per process), with `env` added. */
function pickIn(env: Record<string, string>): { name?: string; reason?: string; error?: string } {
  const script = `require('./lib/engine/backend').selectBackend().then((b) => console.log(JSON.stringify(b)), (e) => console.log(JSON.stringify({ error: e.message })))`;
  const out = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}');
}

test('picks the wasm backend with the project kernels when tfjs-node is absent, and says why', () => {
  const picked = pickIn({ TFJS_BACKEND: '' });
  assert.equal(picked.name, 'wasm');
  assert.match(picked.reason ?? '', /project's training kernels \((x86-64 avx(2|512) \+ )?wasm [a-z0-9-]+.*\); tfjs-node is not installed/);
});

test('TFJS_BACKEND forces a backend, and a bad value or one that cannot load is an error naming it', () => {
  assert.deepEqual(pickIn({ TFJS_BACKEND: 'cpu' }), { name: 'cpu', reason: 'forced by TFJS_BACKEND' });
  assert.match(pickIn({ TFJS_BACKEND: 'gpu' }).error ?? '', /TFJS_BACKEND is "gpu"; expected one of tensorflow, wasm, cpu/);
  assert.match(pickIn({ TFJS_BACKEND: 'tensorflow' }).error ?? '', /TFJS_BACKEND=tensorflow, but that backend does not load: tfjs-node is not installed/);
});
