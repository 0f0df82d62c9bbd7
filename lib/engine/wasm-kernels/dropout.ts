import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { checkSeededDropoutAttrs, scale, SEEDED_DROPOUT, threshold, type SeededDropoutAttrs } from '../../model/seeded-dropout';
import { nativeKernels, offsetOf } from './native';
import { type ProjectKernel, wasmKernelConfig } from './project-kernel';

/** The model's seeded dropout in SIMD C: the same masks as its cpu kernel. */
export const seededDropoutKernel: ProjectKernel = {
  kernelName: SEEDED_DROPOUT,
  create: (original: KernelConfig | undefined) =>
    wasmKernelConfig<{ x: TensorInfo }, SeededDropoutAttrs>(SEEDED_DROPOUT, original, ({ inputs: { x }, backend, attrs }) => {
      checkSeededDropoutAttrs(x, attrs);
      const out = backend.makeOutput(x.shape, 'float32');
      nativeKernels(backend).seeded_dropout(
        offsetOf(backend, x), offsetOf(backend, out), tf.util.sizeFromShape(x.shape), attrs.seed >>> 0,
        threshold(attrs.rate), scale(attrs.rate),
      );
      return out;
    }),
};
