import * as tf from '@tensorflow/tfjs';
import { BatchMatMul, Transpose, util } from '@tensorflow/tfjs';
import type { BatchMatMulAttrs, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeKernels, offsetOf } from './native';
import { callOriginal, type ProjectKernel, wasmKernelConfig } from './project-kernel';

type Inputs = { a: TensorInfo; b: TensorInfo };

/** Swaps the last two axes with tfjs's wasm Transpose. */
function transposeInner(t: TensorInfo, backend: BackendWasm): TensorInfo {
  const rank = t.shape.length;
  const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
  const transpose = tf.getKernel(Transpose, 'wasm');
  if (transpose === undefined) throw new Error('BatchMatMul on wasm needs the wasm Transpose kernel, which is not registered');
  return transpose.kernelFunc({ inputs: { x: t }, backend, attrs: { perm } }) as TensorInfo;
}

/**
 * tfjs's wasm BatchMatMul is fast (XNNPACK) only without transpose flags, and
 * both matmuls of every Dense layer's gradient set one.
 * - Aᵀ·B (the kernel gradient xᵀ·dy) runs the native matmul_tn: XNNPACK
 *   would first repack its right operand, and every rewrite of this product
 *   makes the big activation x that operand.
 * - Otherwise the operands are transposed so the product is flag-free,
 *   choosing whichever of op(A)·op(B) (transpose each flagged operand) and
 *   (op(B)ᵀ·op(A)ᵀ)ᵀ (transpose each unflagged one and the result) moves
 *   fewer elements; e.g. the input gradient dy·Wᵀ transposes only the small W.
 * float32 with equal batch dims only; anything else goes to tfjs's kernel.
 */
function create(original: KernelConfig | undefined): KernelConfig {
  return wasmKernelConfig<Inputs, BatchMatMulAttrs>(BatchMatMul, original, (args) => {
    const { inputs: { a, b }, backend, attrs: { transposeA, transposeB } } = args;
    const sameBatch = util.arraysEqual(a.shape.slice(0, -2), b.shape.slice(0, -2));
    if ((!transposeA && !transposeB) || !sameBatch || a.shape.length < 2 || b.shape.length < 2) {
      return callOriginal(original, BatchMatMul, args, 'only equal batch dims with a transpose flag are rewritten');
    }
    const batchShape = a.shape.slice(0, -2);
    const batch = util.sizeFromShape(batchShape);
    const m = transposeA ? a.shape[a.shape.length - 1] : a.shape[a.shape.length - 2];
    const n = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    const k = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
    if (transposeA && !transposeB && a.dtype === 'float32' && b.dtype === 'float32') {
      if (b.shape[b.shape.length - 2] !== k) {
        throw new Error(`BatchMatMul: inner dimensions ${k} of a ${a.shape} (transposed) and ${b.shape[b.shape.length - 2]} of b ${b.shape} must match`);
      }
      const out = backend.makeOutput([...batchShape, m, n], 'float32');
      nativeKernels(backend).matmul_tn(offsetOf(backend, a), offsetOf(backend, b), offsetOf(backend, out), batch, k, m, n);
      return out;
    }
    const size = (t: TensorInfo) => util.sizeFromShape(t.shape);
    const outSize = batch * m * n;
    // Elements moved: the transposes, plus XNNPACK's repacking of the right operand (op(B), or op(A)ᵀ when swapped).
    const directCost = (transposeA ? size(a) : 0) + (transposeB ? size(b) : 0) + size(b);
    const swappedCost = (transposeA ? 0 : size(a)) + (transposeB ? 0 : size(b)) + outSize + size(a);

    const temporaries: TensorInfo[] = [];
    const transposed = (t: TensorInfo) => {
      const r = transposeInner(t, backend);
      temporaries.push(r);
      return r;
    };
    const plain = (left: TensorInfo, right: TensorInfo) =>
      callOriginal(original, BatchMatMul, { inputs: { a: left, b: right }, backend, attrs: { transposeA: false, transposeB: false } },
        'the flag-free product needs it');
    try {
      if (directCost <= swappedCost) {
        return plain(transposeA ? transposed(a) : a, transposeB ? transposed(b) : b);
      }
      const swapped = plain(transposeB ? b : transposed(b), transposeA ? a : transposed(a));
      temporaries.push(swapped);
      return transposeInner(swapped, backend);
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  });
}

export const batchMatMulKernel: ProjectKernel = { kernelName: BatchMatMul, create };
