import { Add, util } from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { nativeKernels, offsetOf } from './native';
import { callOriginal, type ProjectKernel, wasmKernelConfig } from './project-kernel';

/** True when `small`'s shape, without leading 1s, is a non-empty proper trailing part of `big`'s. */
function isTrailingBroadcast(big: number[], small: number[]): boolean {
  let s = small.findIndex((d) => d !== 1);
  if (s < 0) s = small.length;
  const tail = small.slice(s);
  return tail.length > 0 && tail.length < big.length && util.arraysEqual(big.slice(big.length - tail.length), tail);
}

/**
 * x + bias with the bias over trailing axes (every layer's bias in the
 * forward pass) in one SIMD pass; tfjs's wasm Add broadcasts element by
 * element. float32 only; every other Add goes to tfjs's kernel.
 */
function create(original: KernelConfig | undefined): KernelConfig {
  return wasmKernelConfig<{ a: TensorInfo; b: TensorInfo }, Record<string, never>>(Add, original, (args) => {
    const { inputs: { a, b }, backend } = args;
    const [x, bias] = isTrailingBroadcast(a.shape, b.shape) ? [a, b] : isTrailingBroadcast(b.shape, a.shape) ? [b, a] : [null, null];
    if (x === null || bias === null || a.dtype !== 'float32' || b.dtype !== 'float32' || util.sizeFromShape(bias.shape) === 0) {
      return callOriginal(original, Add, args, 'only float32 bias additions over trailing axes are rewritten');
    }
    const out = backend.makeOutput(x.shape, 'float32');
    const cols = util.sizeFromShape(bias.shape);
    nativeKernels(backend).add_bias(offsetOf(backend, x), offsetOf(backend, bias), offsetOf(backend, out), util.sizeFromShape(x.shape) / cols, cols);
    return out;
  });
}

export const addKernel: ProjectKernel = { kernelName: Add, create };
