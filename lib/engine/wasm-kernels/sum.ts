import { backend_util, Sum, util } from '@tensorflow/tfjs';
import type { KernelConfig, SumAttrs, TensorInfo } from '@tensorflow/tfjs';
import { nativeKernels, offsetOf, withScratch } from './native';
import { callOriginal, type ProjectKernel, wasmKernelConfig } from './project-kernel';

/**
 * Sum over leading axes (bias gradients: [N,H,W,C] -> [C]) without the full
 * transpose tfjs's wasm kernel makes first. float32 only, and only when the
 * reduced axes are exactly 0..k-1 for some k below the rank; every other sum
 * goes to tfjs's kernel, which is fine on innermost axes.
 */
function create(original: KernelConfig | undefined): KernelConfig {
  return wasmKernelConfig<{ x: TensorInfo }, SumAttrs>(Sum, original, (args) => {
    const { inputs: { x }, backend, attrs: { axis, keepDims } } = args;
    const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const k = axes.length;
    const leading = k > 0 && k < x.shape.length && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading) {
      return callOriginal(original, Sum, args, 'only float32 sums over leading axes are implemented');
    }
    const rows = util.sizeFromShape(x.shape.slice(0, k));
    const kept = x.shape.slice(k);
    const cols = util.sizeFromShape(kept);
    const outShape = keepDims ? backend_util.expandShapeToKeepDim(kept, axes) : kept;
    const out = backend.makeOutput(outShape, 'float32');
    withScratch(backend, cols, cols, (blockSum, total) =>
      nativeKernels(backend).sum_leading_axes(offsetOf(backend, x), offsetOf(backend, out), blockSum, total, rows, cols),
    );
    return out;
  });
}

export const sumKernel: ProjectKernel = { kernelName: Sum, create };
