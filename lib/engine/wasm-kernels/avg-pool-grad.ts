import { AvgPoolGrad, backend_util } from '@tensorflow/tfjs';
import type { AvgPoolGradAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { nativeKernels, offsetOf } from './native';
import { callOriginal, type ProjectKernel, wasmKernelConfig } from './project-kernel';

/**
 * Average-pool gradient in one SIMD gather pass (tfjs's wasm kernel is
 * scalar). NHWC float32, any window, strides and padding; other dtypes go to
 * tfjs's kernel.
 */
function create(original: KernelConfig | undefined): KernelConfig {
  return wasmKernelConfig<{ dy: TensorInfo; input: TensorInfo }, AvgPoolGradAttrs>(AvgPoolGrad, original, (args) => {
    const { inputs: { dy, input }, backend, attrs: { filterSize, strides, pad } } = args;
    if (input.dtype !== 'float32' || dy.dtype !== 'float32') {
      return callOriginal(original, AvgPoolGrad, args, `dtypes ${input.dtype}/${dy.dtype} are not float32`);
    }
    const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad);
    const dx = backend.makeOutput(input.shape, 'float32');
    nativeKernels(backend).avg_pool_grad(
      offsetOf(backend, dy), offsetOf(backend, dx),
      info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
      info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
    );
    return dx;
  });
}

export const avgPoolGradKernel: ProjectKernel = { kernelName: AvgPoolGrad, create };
