import { backend_util, MaxPoolGrad } from '@tensorflow/tfjs';
import type { KernelConfig, MaxPoolGradAttrs, TensorInfo } from '@tensorflow/tfjs';
import { nativeKernels, offsetOf } from './native';
import { callOriginal, type ProjectKernel, wasmKernelConfig } from './project-kernel';

type Inputs = { dy: TensorInfo; input: TensorInfo; output: TensorInfo };

/**
 * Max-pool gradient in one SIMD pass (tfjs's wasm kernel is scalar and took
 * as long as the rest of the backward pass). NHWC float32, any window,
 * strides and padding; other dtypes go to tfjs's kernel.
 */
function create(original: KernelConfig | undefined): KernelConfig {
  return wasmKernelConfig<Inputs, MaxPoolGradAttrs>(MaxPoolGrad, original, (args) => {
    const { inputs: { dy, input }, backend, attrs: { filterSize, strides, pad, dimRoundingMode } } = args;
    if (input.dtype !== 'float32' || dy.dtype !== 'float32') {
      return callOriginal(original, MaxPoolGrad, args, `dtypes ${input.dtype}/${dy.dtype} are not float32`);
    }
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode,
    );
    const dx = backend.makeOutput(input.shape, 'float32');
    nativeKernels(backend).max_pool_grad(
      offsetOf(backend, input), offsetOf(backend, dy), offsetOf(backend, dx),
      info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
      info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
    );
    return dx;
  });
}

export const maxPoolGradKernel: ProjectKernel = { kernelName: MaxPoolGrad, create };
