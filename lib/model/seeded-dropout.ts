/**
 * Dropout with a seeded stream of masks: the op (a hash of seed and element
 * index), its cpu kernel and gradient, and the Keras layer that calls it.
 * The wasm backend gets a SIMD version of the same kernel from the engine
 * (lib/engine/wasm-kernels/dropout.ts); both draw identical masks.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { Rng } from '../util/rng';

/** Kernel name of the project's dropout; its gradient is the same kernel applied to dy. */
export const SEEDED_DROPOUT = 'ProjectSeededDropout';

export interface SeededDropoutAttrs extends NamedAttrMap {
  /** Fraction of elements zeroed, in [0, 1). */
  rate: number;
  /** Any 32-bit integer; the same seed gives the same mask on every backend. */
  seed: number;
}

/** Elements are kept when the top 24 bits of their hash reach this. */
export function threshold(rate: number): number {
  return Math.ceil(rate * 2 ** 24);
}

/** The float32 factor tfjs's dropout applies to kept elements. */
export function scale(rate: number): number {
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

export function checkSeededDropoutAttrs(x: TensorInfo, { rate, seed }: SeededDropoutAttrs): void {
  if (x.dtype !== 'float32') throw new Error(`${SEEDED_DROPOUT} expects a float32 tensor, got ${x.dtype}`);
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`${SEEDED_DROPOUT} rate must be in [0, 1), got ${rate}`);
  if (!Number.isInteger(seed)) throw new RangeError(`${SEEDED_DROPOUT} seed must be an integer, got ${seed}`);
}

/** The cpu backend's side of MathBackendCPU that this kernel needs. */
interface CpuBackend {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

/** The same kernel for the cpu backend, so both backends draw identical masks. */
const seededDropoutCpuConfig: KernelConfig = {
  kernelName: SEEDED_DROPOUT,
  backendName: 'cpu',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    const a = attrs as SeededDropoutAttrs;
    checkSeededDropoutAttrs(x, a);
    const cpu = backend as CpuBackend;
    return cpu.makeTensorInfo(x.shape, 'float32', seededDropoutValues(cpu.readSync(x.dataId) as Float32Array, a.rate, a.seed));
  },
};

/** Dropout's gradient: dy through the same mask and scale. */
const seededDropoutGradConfig: tf.GradConfig = {
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

// Registered on import, so the op and its gradient work on the cpu backend
// whether or not the wasm engine was ever loaded.
if (tf.getKernel(SEEDED_DROPOUT, 'cpu') === undefined) tf.registerKernel(seededDropoutCpuConfig);
if (!tf.getGradient(SEEDED_DROPOUT)) tf.registerGradient(seededDropoutGradConfig);

export interface SeededDropoutArgs {
  rate: number;
  seed: number;
  name?: string;
}

/**
 * Dropout with a seeded stream of masks. tfjs's own Dropout, given a seed,
 * draws the same mask at every step; this one draws a new seed per call from
 * its generator, so runs are reproducible and masks still vary. The masks
 * come from the project's kernel, which hashes (seed, index) instead of
 * drawing random numbers in JavaScript.
 */
export class SeededDropout extends tf.layers.Layer {
  static className = 'SeededDropout';
  readonly rate: number;
  readonly seed: number;
  private rng: Rng;

  constructor(args: SeededDropoutArgs) {
    super({ name: args.name });
    this.rate = args.rate;
    this.seed = args.seed;
    this.rng = new Rng(args.seed);
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return x;
    return seededDropout(x, this.rate, this.rng.seed());
  }

  /** Restarts the mask stream from `seed`; the parallel engine draws one per chunk on the main thread. */
  reseed(seed: number): void {
    this.rng = new Rng(seed);
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(SeededDropout);

