/**
 * The project's kernels for tfjs's wasm backend, which trains the CNN when
 * tfjs-node is unavailable. tfjs 4.22's wasm backend lacks
 * Conv2DBackpropFilter and runs several training kernels slowly; these add or
 * replace them. The arithmetic is SIMD C (native/kernels.c, committed as
 * kernels.wasm, rebuilt by scripts/build-wasm.sh) instantiated on the
 * backend's own memory so it works on tensors in place (native.ts). Each
 * replacement hands the cases it does not cover to tfjs's kernel.
 *
 * One kernel is new rather than a replacement: the model's seeded dropout
 * (lib/model/seeded-dropout.ts), whose masks are hashed in wasm, not drawn in JS.
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs';
import { castKernel, identityKernel } from './identity-cast';
import { addKernel } from './add';
import { avgPoolGradKernel } from './avg-pool-grad';
import { batchMatMulKernel } from './batch-mat-mul';
import { batchNormGradKernel, fusedBatchNormGradient, fusedBatchNormKernel } from './batch-norm';
import { conv2dKernel, fusedConv2dKernel } from './conv2d';
import { conv2dBackpropFilterKernel } from './conv2d-backprop-filter';
import { conv2dBackpropInputKernel } from './conv2d-backprop-input';
import { seededDropoutKernel } from './dropout';
import { maxPoolGradKernel } from './max-pool-grad';
import type { ProjectGradient, ProjectKernel } from './project-kernel';
import { sliceKernel } from './slice';
import { meanGradient, meanGradKernel, meanKernel, sumKernel } from './sum';

/** Every kernel the project adds to or replaces in the wasm backend. */
export const PROJECT_KERNELS: readonly ProjectKernel[] = [
  conv2dKernel,
  fusedConv2dKernel,
  conv2dBackpropFilterKernel,
  conv2dBackpropInputKernel,
  maxPoolGradKernel,
  avgPoolGradKernel,
  sumKernel,
  meanKernel,
  meanGradKernel,
  fusedBatchNormKernel,
  batchNormGradKernel,
  batchMatMulKernel,
  addKernel,
  identityKernel,
  castKernel,
  sliceKernel,
  seededDropoutKernel,
];

/**
 * Gradients the project re-registers for every backend, each falling back to
 * tfjs's where the project's kernels are missing: batch-norm layers' training
 * graph is otherwise dominated by full-size temporaries.
 */
export const PROJECT_GRADIENTS: readonly ProjectGradient[] = [fusedBatchNormGradient, meanGradient];

const installed = new Map<string, KernelConfig>();
const installedGradients = new Map<string, GradConfig>();

/**
 * Installs the project's kernels for the wasm backend, replacing tfjs's own
 * where one exists. Must run after @tensorflow/tfjs-backend-wasm is loaded
 * (so ours replace its kernels, not the other way round) and before
 * setBackend('wasm') (tfjs runs kernel setup when a backend is selected).
 * Idempotent.
 */
export function registerProjectKernels(): void {
  for (const kernel of PROJECT_KERNELS) {
    const current = tf.getKernel(kernel.kernelName, 'wasm');
    if (current !== undefined && current === installed.get(kernel.kernelName)) continue;
    const config = kernel.create(current);
    if (current !== undefined) tf.unregisterKernel(kernel.kernelName, 'wasm');
    tf.registerKernel(config);
    installed.set(kernel.kernelName, config);
  }
  for (const gradient of PROJECT_GRADIENTS) {
    const current = tf.getGradient(gradient.kernelName);
    if (current === undefined) throw new Error(`tfjs has no gradient for ${gradient.kernelName} to build on`);
    if (current === installedGradients.get(gradient.kernelName)) continue;
    const config = gradient.create(current);
    tf.registerGradient(config);
    installedGradients.set(gradient.kernelName, config);
  }
}

/** The config registerProjectKernels installed for `kernelName`, to check it is the one registered. */
export function projectKernelConfig(kernelName: string): KernelConfig | undefined {
  return installed.get(kernelName);
}

/** The gradient registerProjectKernels installed for `kernelName`. */
export function projectGradientConfig(kernelName: string): GradConfig | undefined {
  return installedGradients.get(kernelName);
}
