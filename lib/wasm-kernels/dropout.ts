import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { nativeKernels, offsetOf } from './native';
import { type ProjectKernel, wasmKernelConfig } from './project-kernel';

/** Kernel name of the project's dropout; its gradient is the same kernel applied to dy. */
const SEEDED_DROPOUT = 'ProjectSeededDropout';

interface SeededDropoutAttrs extends NamedAttrMap {
  /** Fraction of elements zeroed, in [0, 1). */
  rate: number;
  /** Any 32-bit integer; the same seed gives the same mask on every backend. */
  seed: number;
}

/** Elements are kept when the top 24 bits of their hash reach this. */
function threshold(rate: number): number {
  return Math.ceil(rate * 2 ** 24);
}

/** The float32 factor tfjs's dropout applies to kept elements. */
function scale(rate: number): number {
  return Math.fround(1 / Math.fround(1 - rate));
}

/** "lowbias32" (C. Wellons); must give the same bits as mix32 in native/kernels.c. */
function mix32(v: number): number {
  v ^= v >>> 16;
  v = Math.imul(v, 0x7feb352d);
  v ^= v >>> 15;
  v = Math.imul(v, 0x846ca68b);
  v ^= v >>> 16;
  return v >>> 0;
}

/** Reference implementation (cpu backend), identical to seeded_dropout in native/kernels.c. */
function seededDropoutValues(x: Float32Array, rate: number, seed: number): Float32Array {
  const s = seed >>> 0;
  const seedB = mix32(s ^ 0x5bd1e995);
  const t = threshold(rate);
  const k = scale(rate);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    out[i] = mix32(mix32((i + s) >>> 0) ^ seedB) >>> 8 >= t ? x[i] * k : 0;
  }
  return out;
}

function checkAttrs(x: TensorInfo, { rate, seed }: SeededDropoutAttrs): void {
  if (x.dtype !== 'float32') throw new Error(`${SEEDED_DROPOUT} expects a float32 tensor, got ${x.dtype}`);
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`${SEEDED_DROPOUT} rate must be in [0, 1), got ${rate}`);
  if (!Number.isInteger(seed)) throw new RangeError(`${SEEDED_DROPOUT} seed must be an integer, got ${seed}`);
}

export const seededDropoutKernel: ProjectKernel = {
  kernelName: SEEDED_DROPOUT,
  create: (original: KernelConfig | undefined) =>
    wasmKernelConfig<{ x: TensorInfo }, SeededDropoutAttrs>(SEEDED_DROPOUT, original, ({ inputs: { x }, backend, attrs }) => {
      checkAttrs(x, attrs);
      const out = backend.makeOutput(x.shape, 'float32');
      nativeKernels(backend).seeded_dropout(
        offsetOf(backend, x), offsetOf(backend, out), tf.util.sizeFromShape(x.shape), attrs.seed >>> 0,
        threshold(attrs.rate), scale(attrs.rate),
      );
      return out;
    }),
};

/** The cpu backend's side of MathBackendCPU that this kernel needs. */
interface CpuBackend {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

/** The same kernel for the cpu backend, so both backends draw identical masks. */
export const seededDropoutCpuConfig: KernelConfig = {
  kernelName: SEEDED_DROPOUT,
  backendName: 'cpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    const a = attrs as SeededDropoutAttrs;
    checkAttrs(x, a);
    const cpu = backend as CpuBackend;
    return cpu.makeTensorInfo(x.shape, 'float32', seededDropoutValues(cpu.readSync(x.dataId) as Float32Array, a.rate, a.seed));
  },
};

/** Dropout's gradient: dy through the same mask and scale. */
export const seededDropoutGradConfig: tf.GradConfig = {
  kernelName: SEEDED_DROPOUT,
  gradFunc: (dy, _saved, attrs) => ({
    x: () => tf.engine().runKernel(SEEDED_DROPOUT, { x: dy as tf.Tensor }, attrs as SeededDropoutAttrs) as tf.Tensor,
  }),
};

/**
 * Inverted dropout whose mask is a hash of (seed, element index): one pass
 * forward, one backward, no mask stored and no random numbers drawn in JS
 * (tf.dropout's randomUniform costs ~65 ms per 1024 pooled activations).
 * Same distribution as tf.dropout; same masks on the wasm and cpu backends.
 * On a backend without the kernel (tfjs-node) it is tf.dropout.
 */
export function seededDropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  if (tf.getKernel(SEEDED_DROPOUT, tf.getBackend()) === undefined) return tf.dropout(x, rate, undefined, seed);
  const attrs: SeededDropoutAttrs = { rate, seed };
  return tf.engine().runKernel(SEEDED_DROPOUT, { x }, attrs) as tf.Tensor;
}
