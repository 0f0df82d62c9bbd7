import * as tf from '@tensorflow/tfjs';
import { FusedBatchNorm, util } from '@tensorflow/tfjs';
import type { FusedBatchNormAttrs, GradConfig, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeKernels, offsetOf, withScratch } from './native';
import { callOriginal, type ProjectGradient, type ProjectKernel, wasmKernelConfig } from './project-kernel';

type Inputs = { x: TensorInfo; mean: TensorInfo; variance: TensorInfo; offset?: TensorInfo; scale?: TensorInfo };

/** Channels when every statistic is one float32 value per channel (x's last axis); else 0. */
function channels({ x, mean, variance, offset, scale }: Inputs): number {
  const cols = x.shape[x.shape.length - 1] ?? 0;
  const perChannel = (t: TensorInfo | undefined) => t === undefined || (t.dtype === 'float32' && util.sizeFromShape(t.shape) === cols);
  return x.dtype === 'float32' && x.shape.length >= 2 && [mean, variance, offset, scale].every(perChannel) ? cols : 0;
}

const pointer = (backend: BackendWasm, t: TensorInfo | undefined) => (t === undefined ? 0 : offsetOf(backend, t));

/** Batch normalisation in one SIMD pass (tfjs's wasm kernel broadcasts element by element). Other cases go to tfjs. */
export const fusedBatchNormKernel: ProjectKernel = {
  kernelName: FusedBatchNorm,
  create: (original: KernelConfig | undefined) =>
    wasmKernelConfig<Inputs, FusedBatchNormAttrs>(FusedBatchNorm, original, (args) => {
      const { inputs, backend, attrs: { varianceEpsilon } } = args;
      const cols = channels(inputs);
      if (cols === 0) return callOriginal(original, FusedBatchNorm, args, 'only float32 per-channel statistics are implemented');
      const { x, mean, variance, offset, scale } = inputs;
      const out = backend.makeOutput(x.shape, 'float32');
      withScratch(backend, cols, 0, (k) =>
        nativeKernels(backend).batch_norm(
          offsetOf(backend, x), offsetOf(backend, mean), offsetOf(backend, variance), pointer(backend, offset), pointer(backend, scale),
          offsetOf(backend, out), k, util.sizeFromShape(x.shape) / cols, cols, varianceEpsilon,
        ),
      );
      return out;
    }),
};

const BATCH_NORM_GRAD = 'ProjectBatchNormGrad';

/** [dx, dMean, dVariance, dScale, dOffset] of FusedBatchNorm in one pass over x and dy (native batch_norm_grad). */
export const batchNormGradKernel: ProjectKernel = {
  kernelName: BATCH_NORM_GRAD,
  create: (original: KernelConfig | undefined) =>
    wasmKernelConfig<Inputs & { dy: TensorInfo }, FusedBatchNormAttrs>(BATCH_NORM_GRAD, original, ({ inputs, backend, attrs }) => {
      const { x, dy, mean, variance, scale } = inputs;
      const cols = x.shape[x.shape.length - 1];
      const dx = backend.makeOutput(x.shape, 'float32');
      const stats = [0, 1, 2, 3].map(() => backend.makeOutput([cols], 'float32'));
      withScratch(backend, 3 * cols, 2 * cols, (f, total) =>
        nativeKernels(backend).batch_norm_grad(
          offsetOf(backend, x), offsetOf(backend, dy), offsetOf(backend, mean), offsetOf(backend, variance), pointer(backend, scale),
          offsetOf(backend, dx), ...stats.map((t) => offsetOf(backend, t)) as [number, number, number, number],
          f, total, util.sizeFromShape(x.shape) / cols, cols, attrs.varianceEpsilon,
        ),
      );
      // A multi-output kernel: tfjs's engine accepts an array where the types say one TensorInfo.
      return [dx, ...stats] as unknown as TensorInfo;
    }),
};

/**
 * FusedBatchNorm's gradient from that kernel where the backend has it and the
 * statistics are per channel (tfjs's tiles 1/sqrt(variance) to x's shape:
 * 0.86 s of a bn-cnn step); tfjs's own otherwise, e.g. on cpu.
 */
export const fusedBatchNormGradient: ProjectGradient = {
  kernelName: FusedBatchNorm,
  create: (original: GradConfig): GradConfig => ({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved;
      const inputs: Inputs = { x, mean, variance, ...(scale == null ? {} : { scale }) };
      if (tf.getKernel(BATCH_NORM_GRAD, tf.getBackend()) === undefined || mean.rank !== 1 || channels(inputs) === 0) {
        return original.gradFunc(dy, saved, attrs);
      }
      const [dx, dMean, dVariance, dScale, dOffset] = tf.engine().runKernel(
        BATCH_NORM_GRAD, { ...inputs, dy: dy as tf.Tensor } as unknown as tf.NamedTensorMap, attrs,
      ) as tf.Tensor[];
      return { x: () => dx, mean: () => dMean, variance: () => dVariance, scale: () => dScale, offset: () => dOffset };
    },
  }),
};
