import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/engine/backend';
import { DEFAULT_HYPERPARAMETERS } from '../../lib/model/hyperparams';
import { PROJECT_KERNELS, projectKernelConfig, registerProjectKernels } from '../../lib/engine/wasm-kernels/index';
import { seededDropout } from '../../lib/model/seeded-dropout';
import { assertClose, assertParity, modelGradients, randomValues, runOn, testImages } from '../helpers/wasm-parity';

/**
 * Per-element tolerances [abs, rel] for |wasm - cpu| <= abs + rel |cpu|, a
 * few times the largest errors measured (float32 sums in another order). The
 * kernels that only move, select or add one pair of values must be exact.
 */
const EXACT: [number, number] = [0, 0];
const SUM: [number, number] = [2e-6, 1e-6];
/** Sums of 43k terms: the running sums reach hundreds, whose float32 steps are ~1e-5. */
const LONG_SUM: [number, number] = [8e-5, 1e-6];
const MATMUL: [number, number] = [4e-6, 1e-6];
const GRADIENTS: [number, number] = [5e-8, 5e-6];

/** Small integers make max-pool windows with ties, where the first maximum must win. */
function smallIntegers(size: number, seed: number): Float32Array {
  return randomValues(size, seed).map((v) => Math.floor((v + 1) * 2));
}

before(async () => {
  const info = await selectBackend();
  assert.equal(info.name, 'wasm', `expected the wasm backend, got ${info.name}: ${info.reason}`);
});

describe('registration', () => {
  test('every project kernel is the registered wasm kernel, and registering again changes nothing', () => {
    // The very configs registerProjectKernels created: tfjs's stock kernels have a setupFunc too.
    const registered = () => PROJECT_KERNELS.map((k) => [k.kernelName, tf.getKernel(k.kernelName, 'wasm')] as const);
    for (const [name, config] of registered()) {
      assert.ok(config !== undefined && config === projectKernelConfig(name), `${name} is not the project's kernel`);
    }
    const before = registered();
    registerProjectKernels();
    for (const [i, [name, config]] of registered().entries()) assert.equal(config, before[i][1], name);
  });

  test('selectBackend is idempotent', async () => {
    assert.strictEqual(selectBackend(), selectBackend());
    assert.equal((await selectBackend()).name, 'wasm');
  });
});

describe('MaxPoolGrad', () => {
  const cases: { x: [number, number, number, number]; f: number | [number, number]; s: number | [number, number];
    pad: 'valid' | 'same' | number; ties?: boolean }[] = [
    { x: [2, 26, 26, 32], f: 2, s: 2, pad: 'valid' },
    { x: [2, 7, 7, 5], f: 2, s: 2, pad: 'valid' },
    { x: [1, 7, 9, 6], f: 2, s: 2, pad: 'same' },
    { x: [1, 8, 7, 3], f: 3, s: 3, pad: 'valid' },
    { x: [2, 8, 8, 4], f: 2, s: 2, pad: 'valid', ties: true },
    { x: [1, 9, 7, 6], f: 3, s: 2, pad: 'same' },
    { x: [2, 6, 6, 3], f: 3, s: 1, pad: 'same', ties: true },
    { x: [1, 8, 9, 8], f: [2, 3], s: [1, 2], pad: 'valid' },
    { x: [1, 7, 7, 4], f: 3, s: 2, pad: 1 },
  ];
  for (const [i, c] of cases.entries()) {
    test(`x ${c.x} window ${c.f} strides ${c.s} pad ${c.pad}${c.ties ? ' with ties' : ''}`, async () => {
      await assertParity(`case ${i}`, () => {
        const x = tf.tensor4d((c.ties ? smallIntegers : randomValues)(tf.util.sizeFromShape(c.x), 300 + i), c.x);
        return tf.grad((input: tf.Tensor) =>
          tf.sum(tf.mul(tf.maxPool(input as tf.Tensor4D, c.f, c.s, c.pad), tf.range(1, 1 + tf.maxPool(x, c.f, c.s, c.pad).size)
            .reshape(tf.maxPool(x, c.f, c.s, c.pad).shape))))(x);
      }, ...EXACT);
    });
  }
});

describe('Sum', () => {
  const shape = [3, 4, 5, 6];
  const cases: { axis: number | number[]; keepDims?: boolean; dtype?: 'int32'; what: string }[] = [
    { axis: 0, what: 'leading axis' },
    { axis: [0, 1], what: 'two leading axes' },
    { axis: [2, 1, 0], what: 'three leading axes, unordered' },
    { axis: [-4, -3], keepDims: true, what: 'negative leading axes with keepDims' },
    { axis: [1, 2], what: 'inner axes (falls back to tfjs)' },
    { axis: [0, 1, 2, 3], what: 'all axes (falls back)' },
    { axis: [3], what: 'last axis (falls back)' },
    { axis: [0, 1], dtype: 'int32', what: 'int32 (falls back)' },
  ];
  for (const c of cases) {
    test(c.what, async () => {
      await assertParity(c.what, () => {
        const x = tf.tensor(randomValues(tf.util.sizeFromShape(shape), 400), shape);
        return tf.sum(c.dtype ? tf.cast(tf.mul(x, 10), 'int32') : x, c.axis, c.keepDims);
      }, ...SUM);
    });
  }

  // The bias gradient of the conv layer for 64 images: 32 sums of 64 x 26 x 26 = 43,264 terms.
  const biasShape = [64, 26, 26, 32];
  const biasGradient = () => tf.sum(tf.tensor(randomValues(tf.util.sizeFromShape(biasShape), 401), biasShape), [0, 1, 2]);

  test('many rows (the bias gradient of a conv layer)', async () => {
    await assertParity('bias gradient', biasGradient, ...LONG_SUM);
  });

  test('the tolerance fails a 43,264-term sum that misses one term', async () => {
    const expected = await runOn('cpu', biasGradient);
    const actual = await runOn('wasm', biasGradient);
    // A small term of channel 0 (the last axis): under 1e-4 of the largest sum, which the old check allowed.
    const inputs = randomValues(tf.util.sizeFromShape(biasShape), 401);
    const term = inputs.find((v, i) => i % 32 === 0 && Math.abs(v) > 1e-3 && Math.abs(v) < 1e-4 * Math.max(...expected.values.map(Math.abs)));
    assert.ok(term !== undefined);
    const missing = { ...actual, values: actual.values.map((v, i) => (i === 0 ? v - term : v)) };
    assert.throws(() => assertClose('bias gradient less a term', missing, expected, ...LONG_SUM), /element 0 is /);
  });
});

describe('BatchMatMul', () => {
  const cases: { a: number[]; b: number[]; tA: boolean; tB: boolean }[] = [
    { a: [7, 5], b: [5, 9], tA: false, tB: false },
    { a: [5, 7], b: [5, 9], tA: true, tB: false },
    { a: [64, 300], b: [64, 6], tA: true, tB: false },
    { a: [40, 13], b: [40, 32], tA: true, tB: false },
    { a: [7, 5], b: [9, 5], tA: false, tB: true },
    { a: [6, 5], b: [300, 5], tA: false, tB: true },
    { a: [5, 7], b: [9, 5], tA: true, tB: true },
    { a: [3, 5, 7], b: [3, 5, 4], tA: true, tB: false },
    { a: [2, 6, 5], b: [2, 8, 5], tA: false, tB: true },
    { a: [2, 5, 6], b: [2, 8, 5], tA: true, tB: true },
    { a: [1, 5, 6], b: [3, 5, 4], tA: true, tB: false },
  ];
  for (const [i, c] of cases.entries()) {
    const what = `${c.a} x ${c.b} transposeA=${c.tA} transposeB=${c.tB}${c.a[0] !== c.b[0] && c.a.length === 3 ? ' (broadcast: falls back)' : ''}`;
    test(what, async () => {
      await assertParity(what, () =>
        tf.matMul(
          tf.tensor(randomValues(tf.util.sizeFromShape(c.a), 500 + i), c.a),
          tf.tensor(randomValues(tf.util.sizeFromShape(c.b), 600 + i), c.b),
          c.tA, c.tB,
        ), ...MATMUL);
    });
  }

  test('leaves no temporaries behind', async () => {
    await tf.setBackend('wasm');
    const a = tf.ones([64, 300]);
    const b = tf.ones([64, 6]);
    const backend = tf.backend();
    const before = backend.numDataIds();
    tf.matMul(a, b, true, false).dispose();
    tf.matMul(b, b, false, true).dispose();
    assert.equal(backend.numDataIds(), before);
    tf.dispose([a, b]);
  });
});

describe('Identity and Cast', () => {
  test('clone and same-dtype cast share data and survive disposal of either side', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor([1.5, -2, 3]);
    const before = tf.backend().numDataIds();
    const y = tf.clone(x);
    const z = tf.cast(x, 'float32');
    assert.equal(tf.backend().numDataIds(), before, 'an alias allocated new data');
    x.dispose();
    assert.deepEqual(Array.from(y.dataSync()), [1.5, -2, 3]);
    y.dispose();
    assert.deepEqual(Array.from(z.dataSync()), [1.5, -2, 3]);
    z.dispose();
    assert.equal(tf.backend().numDataIds(), before - 1);
  });

  test('float32 -> int32 truncates (falls back to tfjs)', async () => {
    await assertParity('int32', () => tf.cast(tf.tensor([1.7, -2.2, 0, 3]), 'int32'), ...EXACT);
  });

  test('float32 and int32 -> bool is x != 0', async () => {
    await assertParity('float32 bool', () => tf.cast(tf.tensor([1.7, -2.2, 0, 256, 0.5]), 'bool'), ...EXACT);
    await assertParity('int32 bool', () => tf.cast(tf.tensor([1, -2, 0, 256], undefined, 'int32'), 'bool'), ...EXACT);
  });

  test('bool -> float32 (falls back to tfjs)', async () => {
    await assertParity('bool float', () => tf.cast(tf.tensor([true, false, true]), 'float32'), ...EXACT);
  });

  test('string identity falls back to tfjs', async () => {
    await tf.setBackend('wasm');
    const s = tf.tensor(['a', 'b']);
    const c = tf.clone(s);
    assert.deepEqual(c.arraySync(), ['a', 'b']);
    tf.dispose([s, c]);
  });
});

describe('Add', () => {
  const cases: { a: number[]; b: number[]; dtype?: 'int32'; what: string }[] = [
    { a: [3, 5, 5, 32], b: [32], what: 'conv bias over channels' },
    { a: [7, 6], b: [6], what: 'dense bias, 6 columns (SIMD tail)' },
    { a: [3], b: [2, 4, 3], what: 'bias first' },
    { a: [2, 3, 4], b: [1, 3, 4], what: 'bias with a leading 1' },
    { a: [2, 3, 4], b: [3, 4], what: 'bias over two trailing axes' },
    { a: [2, 3, 4], b: [2, 3, 4], what: 'same shapes (falls back to tfjs)' },
    { a: [2, 3, 4], b: [2, 1, 4], what: 'middle broadcast (falls back)' },
    { a: [2, 3], b: [1], what: 'scalar-like [1] (falls back)' },
    { a: [4, 3], b: [3], dtype: 'int32', what: 'int32 (falls back)' },
  ];
  for (const [i, c] of cases.entries()) {
    test(`${c.a} + ${c.b}: ${c.what}`, async () => {
      await assertParity(c.what, () => {
        const cast = (t: tf.Tensor) => (c.dtype ? tf.cast(tf.mul(t, 10), c.dtype) : t);
        return tf.add(
          cast(tf.tensor(randomValues(tf.util.sizeFromShape(c.a), 460 + i), c.a)),
          cast(tf.tensor(randomValues(tf.util.sizeFromShape(c.b), 470 + i), c.b)),
        );
      }, ...EXACT);
    });
  }
});

describe('Slice', () => {
  const shape = [5, 4, 3, 2];
  const cases: { begin: number[]; size: number[]; dtype?: 'int32' | 'bool'; what: string }[] = [
    { begin: [1, 0, 0, 0], size: [3, -1, -1, -1], what: 'images of a batch (contiguous)' },
    { begin: [2, 1, 0, 0], size: [1, 2, 3, 2], what: 'rows of one image (contiguous)' },
    { begin: [0, 0, 0, 0], size: [5, 4, 3, 2], what: 'everything' },
    { begin: [1, 0, 0, 0], size: [2, 4, 3, 2], dtype: 'int32', what: 'int32' },
    { begin: [1, 2, 1, 1], size: [1, 1, 1, 1], dtype: 'bool', what: 'one bool element' },
    { begin: [0, 1, 0, 0], size: [3, 2, 3, 2], what: 'strided (falls back to tfjs)' },
    { begin: [1, 1, 1, 0], size: [2, 2, 2, 2], what: 'a box (falls back)' },
  ];
  for (const c of cases) {
    test(c.what, async () => {
      await assertParity(c.what, () => {
        const x = tf.tensor(randomValues(tf.util.sizeFromShape(shape), 450).map((v) => v * 10), shape);
        return tf.slice(c.dtype ? tf.cast(x, c.dtype) : x, c.begin, c.size);
      }, ...EXACT);
    });
  }

  test('1-D labels of a batch', async () => {
    await assertParity('labels', () => tf.slice(tf.tensor1d(randomValues(4096, 451)), [1024], [1024]), ...EXACT);
  });
});

describe('seeded dropout', () => {
  const input = () => tf.tensor(randomValues(3 * 13 * 13 * 32 + 3, 700), [3 * 13 * 13 * 32 + 3]);

  for (const rate of [0, 0.2, 0.5]) {
    test(`rate ${rate}: wasm and cpu draw the same mask (odd size exercises the scalar tail)`, async () => {
      const expected = await runOn('cpu', () => seededDropout(input(), rate, 12345));
      const actual = await runOn('wasm', () => seededDropout(input(), rate, 12345));
      assert.deepEqual(actual.values, expected.values);
    });
  }

  test('drops about `rate` of the elements, scales the rest by 1/(1-rate), and masks vary with the seed', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones([100000]);
    const a = seededDropout(x, 0.2, 1).dataSync();
    const b = seededDropout(x, 0.2, 2).dataSync();
    const dropped = a.filter((v) => v === 0).length / a.length;
    assert.ok(Math.abs(dropped - 0.2) < 0.005, `dropped ${dropped}, expected about 0.2`);
    assert.ok(a.every((v) => v === 0 || v === Math.fround(1 / Math.fround(0.8))), 'kept elements are not scaled by 1/0.8');
    const agree = a.filter((v, i) => (v === 0) === (b[i] === 0)).length / a.length;
    assert.ok(agree < 0.75, `masks of seeds 1 and 2 agree on ${agree} of elements; independent masks agree on ~0.68`);
    x.dispose();
  });

  test('the gradient is dy through the same mask', async () => {
    const f = () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(seededDropout(x, 0.3, 99), tf.range(0, x.size))))(input());
    const expected = await runOn('cpu', f);
    const actual = await runOn('wasm', f);
    assert.deepEqual(actual.values, expected.values);
    const mask = await runOn('wasm', () => seededDropout(tf.onesLike(input()), 0.3, 99));
    actual.values.forEach((g, i) => assert.equal(g === 0, mask.values[i] === 0 || i === 0, `element ${i}`));
  });

  test('bad arguments throw naming the value', async () => {
    await tf.setBackend('wasm');
    assert.throws(() => seededDropout(tf.ones([4]), 1, 1), /rate must be in \[0, 1\), got 1/);
    assert.throws(() => seededDropout(tf.ones([4]), 0.5, 1.5), /seed must be an integer, got 1.5/);
    assert.throws(() => seededDropout(tf.ones([4], 'int32'), 0.5, 1), /expects a float32 tensor, got int32/);
  });
});


test('the whole model: wasm gradients match cpu for the same weights and batch', async (t) => {
  const batch = testImages(64, 7);
  t.diagnostic(`batch: ${batch.source}`);
  // The seed model at the default seed: the same initial weights and dropout masks on both backends.
  const expected = await modelGradients('seed', 'cpu', batch, DEFAULT_HYPERPARAMETERS.seed);
  const actual = await modelGradients('seed', 'wasm', batch, DEFAULT_HYPERPARAMETERS.seed);
  assert.ok(Math.abs(actual.loss - expected.loss) <= 1e-5 * Math.abs(expected.loss), `loss ${actual.loss} vs ${expected.loss}`);
  assert.deepEqual(actual.grads.map((g) => g.name), expected.grads.map((g) => g.name));
  for (const [i, e] of expected.grads.entries()) {
    const used = assertClose(`gradient of ${e.name}`, actual.grads[i], e, ...GRADIENTS);
    t.diagnostic(`${e.name}: ${(used * 100).toFixed(0)}% of the tolerance`);
  }
});
