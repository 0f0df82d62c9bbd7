import { Slice, slice_util, util } from '@tensorflow/tfjs';
import type { KernelConfig, SliceAttrs, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { offsetOf } from './native';
import { callOriginal, type ProjectKernel, wasmKernelConfig } from './project-kernel';

/** The Emscripten heap view; read at each call because growing the memory replaces it. */
function heapBytes(backend: BackendWasm): Uint8Array {
  return (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8;
}

/**
 * A slice that is one contiguous range of x (e.g. images [a, b) of a batch,
 * which the gradient engine cuts every micro-batch from) is a single memory
 * copy; tfjs's wasm Slice copies element by element (10 ms per 1024 images).
 * Other slices and string tensors go to tfjs's kernel.
 */
function create(original: KernelConfig | undefined): KernelConfig {
  return wasmKernelConfig<{ x: TensorInfo }, SliceAttrs>(Slice, original, (args) => {
    const { inputs: { x }, backend, attrs } = args;
    const [begin, size] = slice_util.parseSliceParams(x, attrs.begin, attrs.size);
    if (x.dtype === 'string' || !slice_util.isSliceContinous(x.shape, begin, size)) {
      return callOriginal(original, Slice, args, 'only contiguous numeric slices are a single copy');
    }
    const out = backend.makeOutput(size, x.dtype);
    const bytesPerElement = util.bytesPerElement(x.dtype);
    const start = offsetOf(backend, x) + slice_util.computeFlatOffset(begin, util.computeStrides(x.shape)) * bytesPerElement;
    heapBytes(backend).copyWithin(offsetOf(backend, out), start, start + util.sizeFromShape(size) * bytesPerElement);
    return out;
  });
}

export const sliceKernel: ProjectKernel = { kernelName: Slice, create };
