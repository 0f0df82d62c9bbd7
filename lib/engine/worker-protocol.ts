/** The messages between the parallel engine and its worker threads (lib/engine/gradient-worker.ts). */
import type * as tf from '@tensorflow/tfjs';
import type { BackendName } from './backend';

/** What a worker is started with (its workerData). */
export interface WorkerInit {
  /** `model.toJSON(null, false)`: the worker rebuilds the model from it. */
  topology: tf.serialization.ConfigDict;
  chunkSize: number;
}

/** Images and labels on SharedArrayBuffers: posting them to a worker copies nothing. */
export interface SharedImages {
  pixels: Float32Array;
  labels: Int32Array;
  /** [height, width, channels] of one image. */
  imageShape: [number, number, number];
}

/** Images a worker runs in one forward and backward pass, and the dropout seed for them. */
export interface Chunk {
  /** Position of the chunk in the batch; results are summed in this order. */
  index: number;
  /** Rows of the request's source. */
  rows: Int32Array;
  seed: number;
}

/** One batch for one worker: the current weights (in `model.weights` order) and its chunks. */
export interface StepRequest {
  /** `gradients` trains (dropout on); `evaluate` is the inference-mode forward pass only. */
  kind: 'gradients' | 'evaluate';
  /** Images in the whole batch, across all workers. */
  batchSize: number;
  weights: Float32Array[];
  source: SharedImages;
  chunks: Chunk[];
}

export interface ChunkResult {
  index: number;
  count: number;
  lossSum: number;
  correct: number;
  /**
   * The chunk's share of the batch mean's gradient (its mean loss's gradient
   * times count / batchSize), in `model.trainableWeights` order; empty for `evaluate`.
   */
  grads: Float32Array[];
  /**
   * The model's non-trainable weights (batch-norm moving statistics) after the
   * chunk's training pass, each chunk starting from the request's values, in
   * `model.nonTrainableWeights` order; empty for `evaluate` and for models without any.
   */
  state: Float32Array[];
}

export type WorkerReply =
  | { type: 'ready'; backend: BackendName }
  | { type: 'results'; results: ChunkResult[] }
  | { type: 'error'; message: string; stack?: string };
