import { Cast, Identity } from '@tensorflow/tfjs';
import type { CastAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callOriginal, type ProjectKernel, wasmKernelConfig } from './project-kernel';

/**
 * A new reference to x's data, as tfjs's cpu backend and the wasm Reshape do.
 * Safe because no wasm kernel writes into its inputs; tfjs's wasm Identity and
 * same-dtype Cast instead copied whole activations (354 MB per 4096 images)
 * several times per step.
 */
function alias(x: TensorInfo, backend: BackendWasm): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityKernel: ProjectKernel = {
  kernelName: Identity,
  create: (original: KernelConfig | undefined) =>
    wasmKernelConfig<{ x: TensorInfo }, Record<string, never>>(Identity, original, (args) =>
      args.inputs.x.dtype === 'string'
        ? callOriginal(original, Identity, args, 'string tensors live outside the heap')
        : alias(args.inputs.x, args.backend),
    ),
};

/**
 * Same dtype: an alias. To bool: x != 0, which tfjs's wasm Cast gets wrong
 * (it stores the number's low byte, so -2.2 became 254 and 256 became false).
 * Other conversions (truncation to int32, bool to numbers) are tfjs's.
 */
export const castKernel: ProjectKernel = {
  kernelName: Cast,
  create: (original: KernelConfig | undefined) =>
    wasmKernelConfig<{ x: TensorInfo }, CastAttrs>(Cast, original, (args) => {
      const { inputs: { x }, backend, attrs: { dtype } } = args;
      if (x.dtype === dtype) return alias(x, backend);
      if (dtype !== 'bool' || x.dtype === 'string' || x.dtype === 'complex64') {
        return callOriginal(original, Cast, args, `${x.dtype} -> ${dtype} is tfjs's conversion`);
      }
      const out = backend.makeOutput(x.shape, 'bool');
      const from = backend.typedArrayFromHeap(x);
      const to = backend.typedArrayFromHeap(out);
      for (let i = 0; i < from.length; i++) to[i] = from[i] !== 0 ? 1 : 0;
      return out;
    }),
};
