import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/engine/backend';
import { localGradientEngine } from '../../lib/engine/local-engine';
import { resolveHyperparameters } from '../../lib/model/hyperparams';
import { buildZooModel, type ModelName } from '../../lib/model/zoo';
import { disposeTensors } from '../../lib/data/tensors';
import { train } from '../../lib/training/train';
import type { EpochLog } from '../../lib/training/epoch-log';
import {
  setX86Threads, useX86Kernels, X86_KERNELS_PATH, x86Addon, x86KernelsStatus, x86Threads, type X86Addon,
} from '../../lib/engine/wasm-kernels/x86-64';
import { smallData } from '../helpers/data-fixture';
import { randomTensor, runnableX86Isas } from '../helpers/wasm-parity';

const root = path.join(__dirname, '..', '..');
const isas = runnableX86Isas();
const skipWithoutAddon = isas.length === 0 && 'the x86-64 kernels do not run on this machine';

before(async () => {
  assert.equal((await selectBackend()).name, 'wasm');
});
after(() => useX86Kernels(process.env.X86_KERNELS));

test('the x86-64 kernels run on x86-64 Linux with AVX2 (CI\'s machines must run them)', (t) => {
  const status = x86KernelsStatus();
  t.diagnostic(status.isa === null ? `not running: ${status.why}` : `running ${status.isa}`);
  if (process.env.X86_KERNELS === 'off') return;
  if (process.env.CI === 'true') assert.notEqual(status.isa, null, 'CI runs on x86-64 Linux with AVX2: the native path must be the one tested');
  const forced = process.env.X86_KERNELS === 'avx2' || process.env.X86_KERNELS === 'avx512' ? process.env.X86_KERNELS : undefined;
  if (process.platform === 'linux' && process.arch === 'x64') assert.deepEqual(status.isa, forced ?? isas.at(-1) ?? null);
});

test('X86_KERNELS=off runs the wasm kernels only; an unknown value is refused naming the variable', () => {
  const script = [
    "const { selectBackend } = require('./lib/engine/backend');",
    "const { x86KernelsStatus } = require('./lib/engine/wasm-kernels/x86-64');",
    "const tf = require('@tensorflow/tfjs');",
    'selectBackend().then(() => {',
    '  const y = tf.conv2d(tf.ones([1, 4, 4, 2]), tf.ones([3, 3, 2, 3]), 1, "same");',
    '  console.log(JSON.stringify({ status: x86KernelsStatus(), corner: y.dataSync()[0],',
    "    loaded: process.report.getReport().sharedObjects.some((o) => o.endsWith('kernels-x86_64.node')) }));",
    '});',
  ].join('\n');
  const run = (value: string) => spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: root, encoding: 'utf8', env: { ...process.env, X86_KERNELS: value }, timeout: 60_000,
  });
  const off = run('off');
  assert.equal(off.status, 0, off.stderr);
  const line = JSON.parse(off.stdout.trim().split('\n').at(-1) as string);
  // A 'same' 3x3 convolution of ones over 2 channels: the corner pixel sees 2x2 pixels of 2 channels.
  assert.deepEqual(line, { status: { isa: null, why: 'turned off by X86_KERNELS=off' }, corner: 8, loaded: false });
  const bad = run('sse');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /X86_KERNELS is "sse"; expected one of off, avx2, avx512/);
});

test('the addon loads in worker threads, two at once (a Node-API module per environment)', { skip: skipWithoutAddon }, async () => {
  const code = `const { parentPort } = require('worker_threads'); parentPort.postMessage(require(${JSON.stringify(X86_KERNELS_PATH)}).bestIsa());`;
  const answers = await Promise.all([0, 1].map(() => new Promise<string>((resolve, reject) => {
    const worker = new Worker(code, { eval: true });
    worker.once('message', (m: string) => { resolve(m); void worker.terminate(); });
    worker.once('error', reject);
  })));
  assert.deepEqual(answers, [isas.at(-1), isas.at(-1)]);
});

test('the addon refuses offsets outside the heap and arguments of the wrong kind, naming the problem', { skip: skipWithoutAddon }, () => {
  const addon = require(X86_KERNELS_PATH) as X86Addon;
  const heap = new ArrayBuffer(1024);
  // A 1x4x4x1 input at 0 and a 3x3x1x1 filter fit; an output at byte 1000 of 64 bytes does not, nor a bias there.
  const shape = [1, 4, 4, 1, 4, 4, 1, 3, 3, 1, 1, 1, 1] as const;
  addon.conv2d(heap, 0, 64, 128, 0, 0, 1, ...shape);
  assert.throws(() => addon.conv2d(heap, 0, 64, 1000, 0, 0, 1, ...shape), /a tensor lies outside the wasm heap/);
  assert.throws(() => addon.conv2d(heap, 0, 64, 128, 1022, 0, 1, ...shape), /a tensor lies outside the wasm heap/, 'bias');
  assert.throws(() => addon.conv2d(heap, 2, 64, 128, 0, 0, 1, ...shape), /outside the wasm heap/, 'unaligned');
  assert.throws(() => addon.conv2d(heap, 0, 64, 128, 0, 0, 1, 0, 4, 4, 1, 4, 4, 1, 3, 3, 1, 1, 1, 1), /dimension is 0 or too large/);
  assert.throws(() => addon.conv2d(heap, 0, 64, 128, 0, 0, 1, 1, 4, 4, 1, 1 << 24, 4, 1, 3, 3, 1 << 24, 1, 1, 1), /too many rows/);
  assert.throws(() => (addon.conv2d as (...a: unknown[]) => void)(heap, 'x'), /expected the wasm heap's ArrayBuffer/);
  assert.throws(() => addon.useIsa('sse' as 'avx2'), /useIsa expects "avx2" or "avx512"/);
});

test('every convolution kernel runs on the addon, and empty tensors go to the wasm kernels', { skip: skipWithoutAddon }, async () => {
  await tf.setBackend('wasm');
  useX86Kernels(undefined);
  const addon = x86Addon() as X86Addon;
  const names = ['conv2d', 'conv2dFilterGrad', 'conv2dInputGrad'] as const;
  const calls = { conv2d: 0, conv2dFilterGrad: 0, conv2dInputGrad: 0 };
  const originals = names.map((name) => addon[name]);
  for (const [i, name] of names.entries()) {
    (addon as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      calls[name]++;
      return (originals[i] as (...a: unknown[]) => void)(...args);
    };
  }
  try {
    tf.tidy(() => {
      const x = randomTensor([2, 6, 6, 3], 1) as tf.Tensor4D;
      const w = randomTensor([3, 3, 3, 4], 2) as tf.Tensor4D;
      tf.fused.conv2d({ x, filter: w, bias: randomTensor([4], 3), activation: 'relu', strides: 1, pad: 'same' }).dataSync();
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid')))([x, w]).map((g) => g.dataSync());
      assert.deepEqual(calls, { conv2d: 2, conv2dFilterGrad: 1, conv2dInputGrad: 1 });
      assert.deepEqual(tf.conv2d(tf.zeros([0, 6, 6, 3]) as tf.Tensor4D, w, 1, 'same').shape, [0, 6, 6, 4]);
      assert.deepEqual(calls.conv2d, 2, 'an empty batch does not reach the addon');
    });
  } finally {
    for (const [i, name] of names.entries()) (addon as unknown as Record<string, unknown>)[name] = originals[i];
  }
});

test('a fused relu keeps NaN, as the relu of tfjs does (a diverging run must show)', { skip: skipWithoutAddon }, async () => {
  await tf.setBackend('wasm');
  useX86Kernels(undefined);
  const values = tf.tidy(() => {
    const x = tf.tensor4d([NaN, 1, 1, 1], [1, 2, 2, 1]);
    return tf.fused.conv2d({ x, filter: tf.ones([1, 1, 1, 16]) as tf.Tensor4D, activation: 'relu', strides: 1, pad: 'valid' }).dataSync();
  });
  assert.ok(Number.isNaN(values[0]) && values[16] === 1, `pixel 0: ${values[0]}, pixel 1: ${values[16]}`);
});

test('one thread and two give the same bits (the main thread uses both cores, each worker one)', { skip: skipWithoutAddon }, async () => {
  await tf.setBackend('wasm');
  const run = (threads: number) => {
    setX86Threads(threads);
    return tf.tidy(() => {
      const x = randomTensor([7, 14, 14, 32], 1) as tf.Tensor4D;
      const w = randomTensor([3, 3, 32, 64], 2) as tf.Tensor4D;
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))))([x, w]);
      return [dx.dataSync(), dw.dataSync()];
    });
  };
  const previous = x86Threads();
  try {
    const [one, two] = [run(1), run(2)];
    assert.deepEqual(two, one);
  } finally {
    setX86Threads(previous);
  }
  assert.throws(() => setX86Threads(0), /positive integer, got 0/);
});

test('AVX2 and AVX-512 give the same bits: each sum runs in the same order, so a history does not depend on the CPU', {
  skip: !isas.includes('avx512') && 'this CPU has no AVX-512',
}, async () => {
  await tf.setBackend('wasm');
  const run = (isa: 'avx2' | 'avx512') => {
    useX86Kernels(isa);
    return tf.tidy(() => {
      const x = randomTensor([5, 14, 14, 37], 3) as tf.Tensor4D;
      const w = randomTensor([3, 3, 37, 70], 4) as tf.Tensor4D;
      const y = tf.fused.conv2d({ x, filter: w, bias: randomTensor([70], 5), activation: 'relu', strides: [2, 1], pad: 'same' });
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, [2, 1], 'same'))))([x, w]);
      // A first layer's input gradient: 32 channels into 1, the dot-product path.
      const first = randomTensor([5, 14, 14, 1], 6) as tf.Tensor4D;
      const dFirst = tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, randomTensor([3, 3, 1, 32], 7) as tf.Tensor4D, 1, 'same'))))(first);
      return [y.dataSync(), dx.dataSync(), dw.dataSync(), dFirst.dataSync()];
    });
  };
  assert.deepEqual(run('avx512'), run('avx2'));
});

/**
 * A seeded training run on the x86-64 path and on the wasm one: the same
 * steps with sums in another order, so the histories differ by rounding,
 * which training amplifies. Measured over 2 epochs of 512 images: losses
 * apart by 6e-7 (keras-convnet) and up to 3.5e-4 (bn-cnn, 3e-4 of the loss;
 * its batch norm amplifies most); accuracies equal on Node 20, and 2 of the
 * 128 validation images apart on Node 24 (whose wasm kernels fuse
 * multiply-adds too). The bounds: 2e-3 of the loss, and accuracies within
 * 4 % (5 validation images).
 */
for (const name of ['keras-convnet', 'bn-cnn'] as ModelName[]) {
  test(`${name}: a seeded history on the x86-64 kernels matches the wasm kernels' within rounding`, { skip: skipWithoutAddon }, async (t) => {
    const data = await smallData(512, 128);
    const hp = resolveHyperparameters({ epochs: 2, batchSize: 64, seed: 4 });
    const history = async (setting: string | undefined): Promise<EpochLog[]> => {
      useX86Kernels(setting);
      const model = buildZooModel(name, hp);
      const engine = localGradientEngine(model, { seed: hp.seed, chunkSize: 64 });
      try {
        return await train(model, data, hp, { verbose: 0, engine });
      } finally {
        await engine.dispose();
        model.dispose();
      }
    };
    const wasm = await history('off');
    const native = await history(undefined);
    disposeTensors(data.train, data.validation);
    for (const [i, w] of wasm.entries()) {
      const n = native[i];
      t.diagnostic(`epoch ${i + 1}: loss ${n.loss} vs ${w.loss}, val_loss ${n.val_loss} vs ${w.val_loss}, accuracy ${n.accuracy} vs ${w.accuracy}`);
      for (const key of ['loss', 'val_loss'] as const) assert.ok(Math.abs(n[key] - w[key]) <= 2e-3 * w[key], `epoch ${i + 1} ${key}: ${n[key]} vs ${w[key]}`);
      for (const key of ['accuracy', 'val_accuracy'] as const) assert.ok(Math.abs(n[key] - w[key]) <= 0.04, `epoch ${i + 1} ${key}: ${n[key]} vs ${w[key]}`);
    }
  });
}
