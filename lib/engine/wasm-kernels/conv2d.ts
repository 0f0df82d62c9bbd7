import { backend_util, Conv2D, FusedConv2D, util } from '@tensorflow/tfjs';
import type { Conv2DAttrs, FusedConv2DAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { heapBuffer, offsetOf } from './native';
import { callOriginal, type ProjectKernel, wasmKernelConfig } from './project-kernel';
import { fillOnX86, x86Addon, x86ConvShape, x86Takes, x86Threads } from './x86-64';

type Inputs = { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };

/** Why the x86-64 convolution cannot run this call, or null when it can. */
function unsupported(inputs: Inputs, attrs: Conv2DAttrs & Partial<FusedConv2DAttrs>): string | null {
  const { x, filter, bias, preluActivationWeights } = inputs;
  if (attrs.dataFormat !== 'NHWC' || x.dtype !== 'float32' || filter.dtype !== 'float32') return 'only NHWC float32 is implemented';
  if (backend_util.tupleValuesAreOne(attrs.dilations) === false) return 'dilated convolutions are not implemented';
  if (attrs.activation !== undefined && attrs.activation !== 'linear' && attrs.activation !== 'relu') return `activation ${attrs.activation} is not implemented`;
  if (preluActivationWeights !== undefined) return 'prelu is not implemented';
  // One value per output channel: size cout and the last axis cout ([1, cout, 1] would vary along another axis).
  const cout = filter.shape[3];
  if (bias !== undefined && (bias.dtype !== 'float32' || util.sizeFromShape(bias.shape) !== cout || (bias.shape[bias.shape.length - 1] ?? 1) !== cout)) {
    return 'only a bias of one value per output channel is implemented';
  }
  return null;
}

/**
 * Conv2D and FusedConv2D (a bias and relu fused in) on the x86-64 kernels
 * where they run: tfjs's XNNPACK convolution is wasm SIMD128, half the
 * vector width of AVX2 and a quarter of AVX-512. Everything else
 * (no addon, dilations, other activations) goes to tfjs's wasm kernel.
 */
function create(kernelName: string, original: KernelConfig | undefined): KernelConfig {
  return wasmKernelConfig<Inputs, Conv2DAttrs & Partial<FusedConv2DAttrs>>(kernelName, original, (args) => {
    const { inputs, backend, attrs } = args;
    const addon = x86Addon();
    if (addon === null) return callOriginal(original, kernelName, args, 'the x86-64 kernels do not run here');
    const why = unsupported(inputs, attrs);
    if (why !== null) return callOriginal(original, kernelName, args, why);
    const { x, filter, bias } = inputs;
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast',
    );
    if (!x86Takes(info)) return callOriginal(original, kernelName, args, 'the x86-64 kernels take no empty tensors');
    return fillOnX86(backend, backend.makeOutput(info.outShape, 'float32'), (y) => addon.conv2d(
      heapBuffer(backend), offsetOf(backend, x), offsetOf(backend, filter), offsetOf(backend, y),
      bias === undefined ? 0 : offsetOf(backend, bias), attrs.activation === 'relu' ? 1 : 0, x86Threads(), ...x86ConvShape(info),
    ));
  });
}

export const conv2dKernel: ProjectKernel = { kernelName: Conv2D, create: (original) => create(Conv2D, original) };
export const fusedConv2dKernel: ProjectKernel = { kernelName: FusedConv2D, create: (original) => create(FusedConv2D, original) };

