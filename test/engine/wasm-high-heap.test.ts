/**
 * In a file of its own: node --test runs each file in its own process, and
 * the 2.2 GB this test makes the wasm heap grow to (it never shrinks) stays
 * in this process, out of every other test's memory.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../../lib/engine/backend';
import { randomValues } from '../helpers/wasm-parity';

before(async () => {
  const info = await selectBackend();
  assert.equal(info.name, 'wasm', `expected the wasm backend, got ${info.name}: ${info.reason}`);
});

test('kernels give the same results on tensors placed above 2 GiB of wasm heap', async () => {
  await tf.setBackend('wasm');
  const backend = tf.backend() as unknown as BackendWasm;
  // Offsets past 2^31 reach wasm as negative i32s; the C code must treat them as unsigned.
  // The inputs are written into a 2.2 GB filler, past its 2^31st byte, and registered there.
  const filler = tf.zeros([560_000_000]);
  try {
    let next = Math.max(backend.getMemoryOffset(filler.dataId), 2 ** 31) + 4096;
    const placeHigh = (t: tf.Tensor): TensorInfo => {
      const info = backend.makeOutput(t.shape, t.dtype, next);
      (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.set(new Uint8Array(t.dataSync().buffer), next);
      next += Math.ceil(t.size * 4 / 64) * 64;
      return info;
    };
    const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: object, high: boolean): number[][] => {
      const infos = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, high ? placeHigh(t) : t]));
      const result = tf.getKernel(name, 'wasm')!.kernelFunc({ inputs: infos, backend, attrs } as never) as TensorInfo | TensorInfo[];
      const outs = Array.isArray(result) ? result : [result];
      const values = outs.map((o) => Array.from(backend.readSync(o.dataId) as Float32Array));
      for (const o of outs) backend.disposeData(o.dataId);
      // The high inputs point into the filler: forget them without freeing.
      if (high) {
        for (const info of Object.values(infos)) {
          (backend.wasm as unknown as { tfjs: { disposeData(id: number): void } }).tfjs.disposeData(backend.dataIdMap.get(info.dataId)!.id);
          backend.dataIdMap.delete(info.dataId);
        }
      }
      return values;
    };
    const x = tf.tensor4d(randomValues(2 * 10 * 10 * 2, 1200), [2, 10, 10, 2]);
    const dy8 = tf.tensor4d(randomValues(2 * 8 * 8 * 8, 1203), [2, 8, 8, 8]);
    const m = tf.tensor2d(randomValues(20 * 20, 1204), [20, 20]);
    const cases: [string, Record<string, tf.Tensor>, object][] = [
      ['Conv2DBackpropFilter', { x, dy: dy8 }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 2, 8] }],
      ['MaxPoolGrad', { dy: tf.ones([2, 5, 5, 2]), input: x, output: tf.maxPool(x, 2, 2, 'valid') }, { filterSize: 2, strides: 2, pad: 'valid' }],
      ['Sum', { x }, { axis: [0, 1], keepDims: false }],
      ['Add', { a: x, b: tf.ones([2]) }, {}],
      ['Slice', { x }, { begin: [1, 0, 0, 0], size: [1, 10, 10, 2] }],
      ['BatchMatMul', { a: m, b: m }, { transposeA: true, transposeB: false }],
      ['ProjectSeededDropout', { x }, { rate: 0.5, seed: 3 }],
    ];
    for (const [name, inputs, attrs] of cases) {
      assert.deepEqual(run(name, inputs, attrs, true), run(name, inputs, attrs, false), `${name} differs above 2 GiB`);
    }
    assert.ok(next > 2 ** 31, 'inputs were not placed above 2 GiB');
  } finally {
    filler.dispose();
  }
});
