import { backend_util, Conv2DBackpropFilter } from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, TensorInfo } from '@tensorflow/tfjs';
import { nativeKernels, offsetOf, withScratch } from './native';
import { type ProjectKernel, type WasmKernelFunc, wasmKernelConfig } from './project-kernel';

/**
 * The gradient of Conv2D with respect to its filter, which the wasm backend
 * lacks. NHWC float32, any strides and padding (tfjs has no gradient for
 * dilated convolutions); anything else throws, there is nothing to fall back to.
 */
export const conv2dBackpropFilter: WasmKernelFunc<{ x: TensorInfo; dy: TensorInfo }, Conv2DBackpropFilterAttrs> = ({
  inputs: { x, dy }, backend, attrs: { strides, pad, dataFormat, dimRoundingMode, filterShape },
}) => {
  if (dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter on wasm supports dataFormat NHWC only, got ${dataFormat}`);
  }
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(`Conv2DBackpropFilter on wasm expects float32 x and dy, got ${x.dtype} and ${dy.dtype}`);
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast',
  );
  const dw = backend.makeOutput(info.filterShape, 'float32');
  const size = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  withScratch(backend, 0, size, (_, total) =>
    nativeKernels(backend).conv2d_backprop_filter(
      offsetOf(backend, x), offsetOf(backend, dy), offsetOf(backend, dw), total,
      info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels,
      info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
    ),
  );
  return dw;
};

export const conv2dBackpropFilterKernel: ProjectKernel = {
  kernelName: Conv2DBackpropFilter,
  create: (original) => wasmKernelConfig(Conv2DBackpropFilter, original, conv2dBackpropFilter),
};
