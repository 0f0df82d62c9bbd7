import type * as tf from '@tensorflow/tfjs';
import type { LabeledTensors } from '../data/tensors';
import type { Evaluation } from '../model/predict';

/** What one batch contributes to an optimiser step. */
export interface BatchGradients {
  /** Sum of the per-image losses over the batch. */
  lossSum: number;
  /** Number of images classified correctly (before the update). */
  correct: number;
  /**
   * The gradient of the batch's mean loss, in one array: each trainable
   * variable's (trainableVariables(model), lib/model/variables.ts) after the
   * other, as Adam reads them.
   */
  values: Float32Array;
}

/**
 * Computes a batch's gradients for a model. Implementations may split the
 * batch into micro-batches or across workers; the result is always the
 * gradient of the mean loss over the whole batch, so one optimiser step per
 * batch keeps the original training semantics.
 *
 * Each call takes an optional stop signal: when it aborts, the call rejects
 * with the signal's reason within a chunk's time or sooner, and the model is
 * as it was before the call. (An engine with worker threads ends them then:
 * it cannot be used again.)
 */
export interface GradientEngine {
  readonly description: string;
  gradients(x: tf.Tensor4D, labels: tf.Tensor1D, signal?: AbortSignal): Promise<BatchGradients>;
  /** `gradients()` of the rows `indices` of `data`; engines with workers gather them there. */
  gradientsAt(data: LabeledTensors, indices: Int32Array, signal?: AbortSignal): Promise<BatchGradients>;
  /** evaluate() of lib/model/predict.ts on the engine's own threads, where it has them. */
  evaluate?(data: LabeledTensors, signal?: AbortSignal): Promise<Evaluation>;
  /** Frees what the engine holds (worker threads, for one); safe to await either way. */
  dispose(): void | Promise<void>;
}
