import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/engine/backend';
import { projectKernelConfig } from '../../lib/engine/wasm-kernels/index';
import { assertParity, forEachConvPath, randomTensor, randomValues } from '../helpers/wasm-parity';

/**
 * |a - b| <= abs + rel |b| against the cpu backend (float32 sums of up to a
 * few hundred products of values in [-1, 1) in another order: the cpu
 * backend adds the bias last, the kernels first): the issue's 1e-5 + 1e-5 |b|.
 * Measured: at most 76% of it on every case below on every path (the
 * diagnostics print each); one missing product (~0.1) is thousands of times more.
 */
const CONV: [number, number] = [1e-5, 1e-5];

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type ConvCase = { x: [number, number, number, number]; f: [number, number]; cout: number; s: number | [number, number]; pad: Pad; round?: 'floor' | 'round' | 'ceil' };

/**
 * Odd shapes: channel counts that fill no vector (1, 3, 5, 19, 21, 37), output
 * channels in one, part of one and several register blocks (8 to 40), a few
 * outputs from many inputs (the x86-64 kernels' dot-product path, also the input
 * gradient of every 1-channel case), every padding form, strides that leave
 * input rows unread, a filter wider than tall.
 */
const CASES: readonly ConvCase[] = [
  { x: [2, 8, 8, 1], f: [3, 3], cout: 8, s: 1, pad: 'valid' },
  { x: [3, 7, 9, 5], f: [3, 3], cout: 6, s: 1, pad: 'same' },
  { x: [3, 9, 8, 2], f: [3, 2], cout: 4, s: 2, pad: 'valid' },
  { x: [2, 9, 9, 2], f: [3, 3], cout: 6, s: [2, 1], pad: 'same' },
  { x: [1, 6, 7, 3], f: [2, 2], cout: 3, s: 2, pad: 1, round: 'floor' },
  { x: [2, 10, 10, 1], f: [5, 5], cout: 32, s: 3, pad: 2, round: 'ceil' },
  { x: [2, 8, 6, 21], f: [3, 3], cout: 19, s: 2, pad: 'same' },
  { x: [2, 9, 7, 37], f: [3, 2], cout: 40, s: 1, pad: 'same' },
  { x: [2, 7, 8, 3], f: [2, 3], cout: 33, s: [1, 2], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [2, 6, 7, 5], f: [3, 3], cout: 4, s: 1, pad: [[0, 0], [3, 1], [0, 4], [0, 0]] },
  { x: [5, 13, 13, 32], f: [3, 3], cout: 64, s: 1, pad: 'valid' },
  { x: [2, 9, 9, 21], f: [3, 3], cout: 3, s: 1, pad: 'same' },
  { x: [3, 8, 7, 16], f: [2, 3], cout: 1, s: 2, pad: 'valid' },
];

const label = (c: ConvCase) => `x ${c.x} filter ${c.f}x${c.cout} strides ${c.s} pad ${JSON.stringify(c.pad)}${c.round ? ` ${c.round}` : ''}`;
const filterShape = (c: ConvCase): [number, number, number, number] => [c.f[0], c.f[1], c.x[3], c.cout];
const input = (c: ConvCase, seed: number) => randomTensor(c.x, seed) as tf.Tensor4D;
const filter = (c: ConvCase, seed: number) => randomTensor(filterShape(c), seed) as tf.Tensor4D;

before(async () => {
  assert.equal((await selectBackend()).name, 'wasm');
});

forEachConvPath(() => {
  describe('Conv2D and FusedConv2D', () => {
    test('are the project kernels', () => {
      for (const name of ['Conv2D', 'FusedConv2D']) {
        const registered = tf.getKernel(name, 'wasm');
        assert.ok(registered !== undefined && registered === projectKernelConfig(name), name);
      }
    });
    for (const [i, c] of CASES.entries()) {
      test(label(c), async (t) => {
        const plain = await assertParity(`conv2d ${i}`, () => tf.conv2d(input(c, i), filter(c, 100 + i), c.s, c.pad, 'NHWC', 1, c.round), ...CONV);
        const fused = await assertParity(`fused conv2d ${i}`, () => tf.fused.conv2d({
          x: input(c, i), filter: filter(c, 100 + i), strides: c.s, pad: c.pad, dimRoundingMode: c.round,
          bias: randomTensor([c.cout], 300 + i), activation: 'relu',
        }), ...CONV);
        t.diagnostic(`${(plain * 100).toFixed(1)}% and ${(fused * 100).toFixed(1)}% (bias, relu) of the tolerance`);
      });
    }
    test('an activation it does not fuse (elu) and a dilated convolution still match cpu', async () => {
      const c = CASES[1];
      await assertParity('elu', () => tf.fused.conv2d({ x: input(c, 1), filter: filter(c, 2), strides: 1, pad: 'same', activation: 'elu' }), ...CONV);
      await assertParity('dilated', () => tf.conv2d(input(c, 1), filter(c, 2), 1, 'same', 'NHWC', 2), ...CONV);
    });
  });

  describe('Conv2DBackpropFilter', () => {
    for (const [i, c] of CASES.entries()) {
      test(label(c), async (t) => {
        const used = await assertParity(`case ${i}`, () => {
          const x = input(c, i);
          const y = tf.conv2d(x, filter(c, 100 + i), c.s, c.pad, 'NHWC', 1, c.round);
          const dy = tf.tensor(randomValues(y.size, 200 + i), y.shape);
          return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
            { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: filterShape(c), ...(c.round ? { dimRoundingMode: c.round } : {}) }) as tf.Tensor;
        }, ...CONV);
        t.diagnostic(`${(used * 100).toFixed(1)}% of the tolerance`);
      });
    }

    test('the gradient of tf.conv2d with respect to its filter uses it', async () => {
      await assertParity('conv2d filter gradient', () => {
        const x = tf.tensor4d(randomValues(2 * 6 * 6 * 2, 7), [2, 6, 6, 2]);
        const w = tf.tensor4d(randomValues(3 * 3 * 2 * 4, 8), [3, 3, 2, 4]);
        return tf.grad((f: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, f as tf.Tensor4D, 1, 'same'))))(w);
      }, ...CONV);
    });

    test('NCHW throws naming the data format', async () => {
      await tf.setBackend('wasm');
      tf.tidy(() => {
        const x = tf.zeros([1, 1, 4, 4]);
        const dy = tf.zeros([1, 2, 2, 2]);
        assert.throws(
          () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
            { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 1, 2] }),
          /supports dataFormat NHWC only, got NCHW/,
        );
      });
    });
  });

  describe('Conv2DBackpropInput', () => {
    test('is the project kernel', () => {
      const registered = tf.getKernel('Conv2DBackpropInput', 'wasm');
      assert.ok(registered !== undefined && registered === projectKernelConfig('Conv2DBackpropInput'));
    });

    for (const [i, c] of CASES.entries()) {
      test(label(c), async (t) => {
        const used = await assertParity(`case ${i}`, () => {
          const w = filter(c, 100 + i);
          const outShape = tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, w, c.s, c.pad, 'NHWC', 1, c.round).shape;
          const dy = randomTensor(outShape, 200 + i);
          return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w },
            { inputShape: c.x, strides: c.s, pad: c.pad, dataFormat: 'NHWC', ...(c.round ? { dimRoundingMode: c.round } : {}) }) as tf.Tensor;
        }, ...CONV);
        t.diagnostic(`${(used * 100).toFixed(1)}% of the tolerance`);
      });
    }

    test('the gradient of tf.conv2d with respect to its input uses it', async () => {
      await assertParity('conv2d input gradient', () => {
        const x = randomTensor([3, 7, 9, 5], 7) as tf.Tensor4D;
        const w = randomTensor([3, 3, 5, 8], 8) as tf.Tensor4D;
        return tf.grad((inp: tf.Tensor) => tf.sum(tf.square(tf.conv2d(inp as tf.Tensor4D, w, 1, 'same'))))(x);
      }, ...CONV);
    });
  });
});
