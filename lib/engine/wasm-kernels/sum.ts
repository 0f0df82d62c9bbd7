import * as tf from '@tensorflow/tfjs';
import { backend_util, Mean, Sum, util } from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig, MeanAttrs, SumAttrs, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeKernels, offsetOf, withScratch } from './native';
import { callOriginal, type ProjectGradient, type ProjectKernel, wasmKernelConfig } from './project-kernel';

/**
 * x as [outer, rows, cols] when `axis` is a run of consecutive axes that
 * leaves the last one (leading axes: a bias gradient or batch-norm
 * statistics; axes 1, 2 of NHWC: global average pooling), reduced over rows;
 * null otherwise.
 */
function layout(shape: number[], axis: number | number[]): { outer: number; rows: number; cols: number; axes: number[] } | null {
  const axes = util.parseAxisParam(axis, shape).sort((a, b) => a - b);
  const first = axes[0];
  const end = first + axes.length;
  if (axes.length === 0 || end >= shape.length || !axes.every((a, i) => a === first + i)) return null;
  const size = (from: number, to: number) => util.sizeFromShape(shape.slice(from, to));
  return { outer: size(0, first), rows: size(first, end), cols: size(end, shape.length), axes };
}

/** x reduced over `axis` (a layout() case), divided by `divisor`. */
function reduce(
  backend: BackendWasm, x: TensorInfo, { outer, rows, cols, axes }: NonNullable<ReturnType<typeof layout>>, keepDims: boolean,
  divisor: number,
): TensorInfo {
  const reducedShape = x.shape.filter((_, i) => !axes.includes(i));
  const out = backend.makeOutput(keepDims ? backend_util.expandShapeToKeepDim(reducedShape, axes) : reducedShape, 'float32');
  const [xAt, outAt] = [offsetOf(backend, x), offsetOf(backend, out)];
  withScratch(backend, cols, cols, (blockSum, total) => {
    for (let o = 0; o < outer; o++) {
      nativeKernels(backend).sum_leading_axes(xAt + o * rows * cols * 4, outAt + o * cols * 4, blockSum, total, rows, cols, divisor);
    }
  });
  return out;
}

/**
 * A float32 Sum or Mean over consecutive axes before the last, through
 * reduce(); tfjs's kernel takes every other case. `divisor` is 1 for a sum,
 * the reduced rows for a mean.
 */
function consecutiveAxesKernel(kernelName: typeof Sum | typeof Mean, divisor: (rows: number) => number): ProjectKernel {
  const what = kernelName === Sum ? 'sums' : 'means';
  return {
    kernelName,
    create: (original: KernelConfig | undefined) =>
      wasmKernelConfig<{ x: TensorInfo }, SumAttrs | MeanAttrs>(kernelName, original, (args) => {
        const { inputs: { x }, backend, attrs: { axis, keepDims } } = args;
        const at = layout(x.shape, axis);
        if (x.dtype !== 'float32' || at === null) {
          return callOriginal(original, kernelName, args, `only float32 ${what} over consecutive axes before the last are implemented`);
        }
        return reduce(backend, x, at, keepDims, divisor(at.rows));
      }),
  };
}

/**
 * Sum over consecutive outer axes (bias gradients: [N,H,W,C] -> [C]) without
 * the full transpose tfjs's wasm kernel makes first. float32 only; every
 * other sum goes to tfjs's kernel, which is fine on innermost axes.
 */
export const sumKernel = consecutiveAxesKernel(Sum, () => 1);

/**
 * The same for Mean: batch-norm statistics ([N,H,W,C] -> [C]; 0.27 s of a
 * bn-cnn step through tfjs's transpose) and global average pooling.
 */
export const meanKernel = consecutiveAxesKernel(Mean, (rows) => rows);

const MEAN_GRAD = 'ProjectMeanGrad';

/** dy / rows broadcast back to x's shape (attrs: x's shape and the mean's axis, a layout() case), in one write. */
export const meanGradKernel: ProjectKernel = {
  kernelName: MEAN_GRAD,
  create: (original: KernelConfig | undefined) =>
    wasmKernelConfig<{ dy: TensorInfo }, { shape: number[]; axis: number[] }>(MEAN_GRAD, original, ({ inputs: { dy }, backend, attrs: { shape, axis } }) => {
      const at = layout(shape, axis);
      if (at === null) throw new Error(`${MEAN_GRAD}: axes ${axis} of ${shape} are not consecutive axes before the last`);
      const out = backend.makeOutput(shape, 'float32');
      const [dyAt, outAt] = [offsetOf(backend, dy), offsetOf(backend, out)];
      for (let o = 0; o < at.outer; o++) {
        nativeKernels(backend).mean_leading_axes_grad(dyAt + o * at.cols * 4, outAt + o * at.rows * at.cols * 4, at.rows, at.cols);
      }
      return out;
    }),
};

/**
 * Mean's gradient through that kernel on backends that have it, for the means
 * the Mean kernel computes; otherwise (and on cpu) tfjs's.
 */
export const meanGradient: ProjectGradient = {
  kernelName: Mean,
  create: (original: GradConfig): GradConfig => ({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const { axis } = attrs as unknown as MeanAttrs;
      const fused = tf.getKernel(MEAN_GRAD, tf.getBackend()) !== undefined;
      const at = layout(x.shape, axis);
      if (!fused || x.dtype !== 'float32' || at === null) return original.gradFunc(dy, saved, attrs);
      return { x: () => tf.engine().runKernel(MEAN_GRAD, { dy: dy as tf.Tensor }, { shape: x.shape, axis: at.axes }) as tf.Tensor };
    },
  }),
};
