import type { GradConfig, KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeKernels } from './native';

/** A kernel function as the project writes it: typed inputs, attrs and backend. */
export type WasmKernelFunc<I, A> = (args: { inputs: I; backend: BackendWasm; attrs: A }) => TensorInfo;

/** A kernel the project adds to the wasm backend or replaces in it. */
export interface ProjectKernel {
  readonly kernelName: string;
  /** Builds the config; `original` is tfjs's own wasm kernel, if it has one. */
  create(original: KernelConfig | undefined): KernelConfig;
}

/**
 * A wasm KernelConfig that first runs the original kernel's setup (its
 * kernelFunc may still be called for the cases ours leave to it), then
 * instantiates the native module.
 */
export function wasmKernelConfig<I, A>(
  kernelName: string, original: KernelConfig | undefined, kernelFunc: WasmKernelFunc<I, A>,
): KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    setupFunc: (backend) => {
      original?.setupFunc?.(backend);
      nativeKernels(backend as BackendWasm);
    },
    // tfjs types every kernel's args loosely (NamedTensorInfoMap / NamedAttrMap); ours are the op's real types.
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

/** Calls tfjs's original kernel for a case the project's kernel does not handle. */
export function callOriginal(
  original: KernelConfig | undefined, kernelName: string, args: { inputs: object; backend: BackendWasm; attrs: object },
  why: string,
): TensorInfo {
  if (original === undefined) throw new Error(`${kernelName} on wasm: ${why}, and tfjs has no wasm kernel to fall back to`);
  return original.kernelFunc({ ...args, inputs: args.inputs as NamedTensorInfoMap } as Parameters<KernelFunc>[0]) as TensorInfo;
}

/**
 * A gradient the project re-registers (gradients are shared by all
 * backends): `create` wraps tfjs's, which it must call where it does not
 * apply, e.g. on backends without the project's kernels.
 */
export interface ProjectGradient {
  readonly kernelName: string;
  create(original: GradConfig): GradConfig;
}
