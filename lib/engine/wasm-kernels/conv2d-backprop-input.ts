import * as tf from '@tensorflow/tfjs';
import { backend_util, Conv2D, Conv2DBackpropInput, util } from '@tensorflow/tfjs';
import type { Conv2DBackpropInputAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapBuffer, nativeKernels, offsetOf } from './native';
import { callOriginal, type ProjectKernel, wasmKernelConfig } from './project-kernel';
import { fillOnX86, x86Addon, x86ConvShape, x86Takes, x86Threads } from './x86-64';

type Inputs = { dy: TensorInfo; filter: TensorInfo };

/** The wasm Conv2D kernel: tfjs's XNNPACK one, since this runs only where the x86-64 kernels do not. */
function xnnpackConv2d(backend: BackendWasm, x: TensorInfo, filter: TensorInfo, pad: backend_util.ExplicitPadding): TensorInfo {
  const conv = tf.getKernel(Conv2D, 'wasm');
  if (conv === undefined) throw new Error('Conv2DBackpropInput on wasm needs the wasm Conv2D kernel, which is not registered');
  return conv.kernelFunc({ inputs: { x, filter }, backend, attrs: { strides: 1, pad, dataFormat: 'NHWC', dilations: 1 } }) as TensorInfo;
}

/**
 * The gradient of Conv2D with respect to its input (tfjs's wasm kernel is
 * scalar: 2.3 s of a 4.3 s bn-cnn step): on the x86-64 kernels where they
 * run, any strides and padding. Without them, the filter is rotated half a turn
 * with its channel axes swapped (native flip_filter); for stride 1 the
 * gradient is then tfjs's XNNPACK Conv2D of dy with that filter and the
 * complementary padding (~1.2-1.4x faster than the direct kernel on 'same'
 * convolutions); otherwise the native direct kernel gathers it. NHWC float32; anything else
 * goes to tfjs's kernel.
 */
function create(original: KernelConfig | undefined): KernelConfig {
  return wasmKernelConfig<Inputs, Conv2DBackpropInputAttrs>(Conv2DBackpropInput, original, (args) => {
    const { inputs: { dy, filter }, backend, attrs: { inputShape, strides, pad, dataFormat, dimRoundingMode } } = args;
    if (dataFormat !== 'NHWC' || dy.dtype !== 'float32' || filter.dtype !== 'float32') {
      return callOriginal(original, Conv2DBackpropInput, args, `only NHWC float32 is implemented, got ${dataFormat} ${dy.dtype}/${filter.dtype}`);
    }
    const info = backend_util.computeConv2DInfo(
      inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast',
    );
    if (!util.arraysEqual(dy.shape, info.outShape)) {
      // tfjs does not check dy against inputShape (tf.conv2dTranspose passes any): its own kernel decides.
      return callOriginal(original, Conv2DBackpropInput, args, `dy is [${dy.shape}], but inputShape and filter give [${info.outShape}]`);
    }
    const addon = x86Addon();
    if (addon !== null && x86Takes(info)) {
      return fillOnX86(backend, backend.makeOutput(inputShape, 'float32'), (dx) => addon.conv2dInputGrad(
        heapBuffer(backend), offsetOf(backend, dy), offsetOf(backend, filter), offsetOf(backend, dx), x86Threads(), ...x86ConvShape(info),
      ));
    }
    const { filterHeight: fh, filterWidth: fw, inChannels: cin, outChannels: cout, padInfo } = info;
    const native = nativeKernels(backend);
    const flipped = backend.makeOutput([fh, fw, cout, cin], 'float32');
    try {
      native.flip_filter(offsetOf(backend, filter), offsetOf(backend, flipped), fh, fw, cin, cout);
      // Padding of dy that lines the flipped filter's taps up with dx's pixels; negative when pad exceeds the filter.
      const top = fh - 1 - padInfo.top;
      const left = fw - 1 - padInfo.left;
      const bottom = info.inHeight - info.outHeight + fh - 1 - top;
      const right = info.inWidth - info.outWidth + fw - 1 - left;
      // With more padding than 'same' needs (e.g. the gradient of a 'valid' convolution) XNNPACK multiplies
      // a wide zero border of small images; the direct kernel skips it and measured 1.4x faster (13x13x32 <- 64).
      const sameOrLess = top + bottom <= fh - 1 && left + right <= fw - 1;
      if (info.strideHeight === 1 && info.strideWidth === 1 && Math.min(top, left, bottom, right) >= 0 && sameOrLess) {
        return xnnpackConv2d(backend, dy, flipped, [[0, 0], [top, bottom], [left, right], [0, 0]]);
      }
      const dx = backend.makeOutput(inputShape, 'float32');
      native.conv2d_backprop_input(
        offsetOf(backend, dy), offsetOf(backend, flipped), offsetOf(backend, dx),
        info.batchSize, info.inHeight, info.inWidth, cin, info.outHeight, info.outWidth, cout,
        fh, fw, info.strideHeight, info.strideWidth, padInfo.top, padInfo.left,
      );
      return dx;
    } finally {
      backend.disposeData(flipped.dataId);
    }
  });
}

export const conv2dBackpropInputKernel: ProjectKernel = { kernelName: Conv2DBackpropInput, create };
