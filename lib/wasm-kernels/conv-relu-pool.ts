import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { nativeKernels, offsetOf, withScratch } from './native';
import { type ProjectKernel, wasmKernelConfig } from './project-kernel';

/** Forward kernel: outputs [pooled, argmax]; see conv_relu_pool in native/kernels.c. */
const CONV_RELU_POOL = 'ProjectConvReluPool';
const FILTER_GRAD = 'ProjectConvReluPoolFilterGrad';
const BIAS_GRAD = 'ProjectConvReluPoolBiasGrad';

interface PoolAttrs extends NamedAttrMap {
  /** Pooling window and stride. */
  poolSize: number;
}

interface GradAttrs extends PoolAttrs {
  filterShape: [number, number, number, number];
}

/**
 * maxPool(relu(conv2d(x, filter, stride 1, 'valid') + bias), poolSize, poolSize, 'valid'),
 * what the model's Conv2D(relu) + MaxPooling2D layers compute, as tfjs ops.
 */
function convReluPoolReference(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, poolSize: number): tf.Tensor4D {
  return tf.tidy(() => tf.maxPool(tf.relu(tf.add(tf.conv2d(x, filter, 1, 'valid'), bias)) as tf.Tensor4D, poolSize, poolSize, 'valid'));
}

function checkShapes(x: TensorInfo, filter: TensorInfo, bias: TensorInfo, poolSize: number): void {
  const [kh, kw, cin, cout] = filter.shape;
  const problem =
    x.shape.length !== 4 ? `x must be rank 4 (NHWC), got shape [${x.shape}]`
    : filter.shape.length !== 4 ? `filter must be rank 4 [kh, kw, cin, cout], got shape [${filter.shape}]`
    : x.shape[3] !== cin ? `x has ${x.shape[3]} channels but the filter expects ${cin}`
    : bias.shape.length !== 1 || bias.shape[0] !== cout ? `bias must have shape [${cout}], got [${bias.shape}]`
    : !Number.isInteger(poolSize) || poolSize < 1 ? `poolSize must be a positive integer, got ${poolSize}`
    : x.shape[1] - kh + 1 < poolSize || x.shape[2] - kw + 1 < poolSize
      ? `a ${kh}x${kw} convolution of ${x.shape[1]}x${x.shape[2]} images is smaller than the ${poolSize}x${poolSize} pool`
    : [x, filter, bias].some((t) => t.dtype !== 'float32') ? 'x, filter and bias must be float32'
    : null;
  if (problem !== null) throw new Error(`convReluPool: ${problem}`);
}

/**
 * The model's first block (convolution + bias + relu + max pooling) as one
 * op. On wasm it is one native pass forward and two small ones backward, and
 * the [n, 26, 26, 32] activation, which dominates memory traffic (354 MB per
 * 4096 images, written and read ~10 times per step by the separate kernels),
 * is never stored. Elsewhere it is convReluPoolReference. Differentiable in
 * x, filter and bias; the x gradient, which a first layer never needs, is
 * built from tfjs ops and computed only when asked for.
 */
export function convReluPool(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, poolSize: number): tf.Tensor4D {
  checkShapes(x, filter, bias, poolSize);
  if (tf.getKernel(CONV_RELU_POOL, tf.getBackend()) === undefined) return convReluPoolReference(x, filter, bias, poolSize);
  const attrs: PoolAttrs = { poolSize };
  const [pooled, argmax] = tf.engine().runKernel(CONV_RELU_POOL, { x, filter, bias }, attrs) as tf.Tensor[];
  // The gradient's copy is held by the tape; without one the argmax is not needed.
  argmax.dispose();
  return pooled as tf.Tensor4D;
}

type Dims = [n: number, h: number, w: number, cin: number, kh: number, kw: number, cout: number, p: number];

function dims(x: TensorInfo, filterShape: number[], poolSize: number): Dims {
  const [n, h, w, cin] = x.shape;
  const [kh, kw, , cout] = filterShape;
  return [n, h, w, cin, kh, kw, cout, poolSize];
}

const forwardKernel: ProjectKernel = {
  kernelName: CONV_RELU_POOL,
  create: (original: KernelConfig | undefined) =>
    wasmKernelConfig<{ x: TensorInfo; filter: TensorInfo; bias: TensorInfo }, PoolAttrs>(
      CONV_RELU_POOL, original, ({ inputs: { x, filter, bias }, backend, attrs: { poolSize } }) => {
        checkShapes(x, filter, bias, poolSize);
        const d = dims(x, filter.shape, poolSize);
        const [n, h, w, , kh, kw, cout, p] = d;
        const outShape = [n, Math.floor((h - kh + 1) / p), Math.floor((w - kw + 1) / p), cout];
        const pooled = backend.makeOutput(outShape, 'float32');
        const argmax = backend.makeOutput(outShape, 'int32');
        nativeKernels(backend).conv_relu_pool(
          offsetOf(backend, x), offsetOf(backend, filter), offsetOf(backend, bias), offsetOf(backend, pooled),
          offsetOf(backend, argmax), ...d,
        );
        // tfjs types a kernel's result as one TensorInfo or an array of them.
        return [pooled, argmax] as unknown as TensorInfo;
      }),
};

const filterGradKernel: ProjectKernel = {
  kernelName: FILTER_GRAD,
  create: (original: KernelConfig | undefined) =>
    wasmKernelConfig<{ x: TensorInfo; dy: TensorInfo; argmax: TensorInfo }, GradAttrs>(
      FILTER_GRAD, original, ({ inputs: { x, dy, argmax }, backend, attrs: { filterShape, poolSize } }) => {
        const dw = backend.makeOutput(filterShape, 'float32');
        const size = tf.util.sizeFromShape(filterShape);
        // The 4-byte scratch holds the C code's int32 offset of each filter tap, plus
        // FG_TAPS - 1 = 8 padding slots for its last chunk of taps.
        const tapSlots = size / filterShape[3] + 8;
        withScratch(backend, tapSlots, size, (tapOffset, total) =>
          nativeKernels(backend).conv_relu_pool_filter_grad(
            offsetOf(backend, x), offsetOf(backend, dy), offsetOf(backend, argmax), offsetOf(backend, dw), total, tapOffset,
            ...dims(x, filterShape, poolSize),
          ),
        );
        return dw;
      }),
};

const biasGradKernel: ProjectKernel = {
  kernelName: BIAS_GRAD,
  create: (original: KernelConfig | undefined) =>
    wasmKernelConfig<{ dy: TensorInfo; argmax: TensorInfo }, NamedAttrMap>(BIAS_GRAD, original, ({ inputs: { dy, argmax }, backend }) => {
      const cout = dy.shape[3];
      const db = backend.makeOutput([cout], 'float32');
      withScratch(backend, cout, cout, (blockSum, total) =>
        nativeKernels(backend).conv_relu_pool_bias_grad(
          offsetOf(backend, dy), offsetOf(backend, argmax), offsetOf(backend, db), blockSum, total,
          tf.util.sizeFromShape(dy.shape) / cout, cout,
        ),
      );
      return db;
    }),
};

export const convReluPoolKernels: readonly ProjectKernel[] = [forwardKernel, filterGradKernel, biasGradKernel];

/**
 * Gradient with respect to x, from tfjs ops (a first layer never needs it):
 * dy routed to each window's winning convolution output, then the transposed
 * convolution.
 */
function inputGradient(
  xShape: [number, number, number, number], filter: tf.Tensor4D, dy: tf.Tensor4D, argmax: tf.Tensor4D, p: number,
): tf.Tensor4D {
  const [n, h, w] = xShape;
  const [kh, kw] = filter.shape;
  const [, ph, pw, cout] = dy.shape;
  const rows = Array.from({ length: p }, (_, ty) =>
    tf.stack(Array.from({ length: p }, (_, tx) => tf.mul(dy, tf.cast(tf.equal(argmax, ty * p + tx), 'float32'))), 3),
  );
  const dz = tf.reshape(tf.stack(rows, 2), [n, ph * p, pw * p, cout]);
  const padded = tf.pad(dz, [[0, 0], [0, h - kh + 1 - ph * p], [0, w - kw + 1 - pw * p], [0, 0]]) as tf.Tensor4D;
  return tf.conv2dTranspose(padded, filter, xShape, 1, 'valid');
}

/** Gradients of the fused op; each is computed only if the tape asks for it. */
export const convReluPoolGradConfig: tf.GradConfig = {
  kernelName: CONV_RELU_POOL,
  inputsToSave: ['x', 'filter', 'bias'],
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor4D;
    const [x, filter, bias, argmax] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor4D];
    const { poolSize } = attrs as PoolAttrs;
    const gradAttrs: GradAttrs = { poolSize, filterShape: filter.shape };
    return {
      filter: () => tf.engine().runKernel(FILTER_GRAD, { x, dy, argmax }, gradAttrs) as tf.Tensor,
      bias: () => tf.engine().runKernel(BIAS_GRAD, { dy, argmax }, {}) as tf.Tensor,
      x: () => inputGradient(x.shape, filter, dy, argmax, poolSize),
    };
  },
};
