import { backend_util, Conv2DBackpropFilter, util } from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, TensorInfo } from '@tensorflow/tfjs';
import { heapBuffer, nativeKernels, offsetOf, withScratch } from './native';
import { type ProjectKernel, type WasmKernelFunc, wasmKernelConfig } from './project-kernel';
import { fillOnX86, x86Addon, x86ConvShape, x86Takes, x86Threads } from './x86-64';

/**
 * The gradient of Conv2D with respect to its filter, which the wasm backend
 * lacks: on the x86-64 kernels where they run, else on the wasm ones. NHWC float32, any strides and padding (tfjs has no gradient for
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
  if (!util.arraysEqual(dy.shape, info.outShape)) {
    throw new Error(`Conv2DBackpropFilter: dy has shape [${dy.shape}], but x ${x.shape} and filter ${filterShape} give [${info.outShape}]`);
  }
  const addon = x86Addon();
  if (addon !== null && x86Takes(info)) {
    return fillOnX86(backend, backend.makeOutput(info.filterShape, 'float32'), (dw) => addon.conv2dFilterGrad(
      heapBuffer(backend), offsetOf(backend, x), offsetOf(backend, dy), offsetOf(backend, dw), x86Threads(), ...x86ConvShape(info),
    ));
  }
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
