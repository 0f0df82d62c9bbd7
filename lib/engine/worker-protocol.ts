/** The messages between the parallel engine and its worker threads (lib/engine/gradient-worker.ts). */
import type * as tf from '@tensorflow/tfjs';
import type { BackendName } from './backend';
import type { Chunk, ChunkResult } from './chunks';

/** What a worker is started with (its workerData). */
export interface WorkerInit {
  /** `model.toJSON(null, false)`: the worker rebuilds the model from it. */
  topology: tf.serialization.ConfigDict;
  /**
   * The model's weights, `model.weights` one after another, on a
   * SharedArrayBuffer: the main thread writes them before each request and
   * the workers read them from there, so a step posts no weights.
   */
  weights: Float32Array;
}

/** Images and labels on SharedArrayBuffers: posting them to a worker copies nothing. */
export interface SharedImages {
  pixels: Float32Array;
  labels: Int32Array;
  /** [height, width, channels] of one image. */
  imageShape: [number, number, number];
}

/** One batch for one worker: its chunks of the batch. */
export interface StepRequest {
  /** `gradients` trains (dropout on); `evaluate` is the inference-mode forward pass only. */
  kind: 'gradients' | 'evaluate';
  /** Images in the whole batch, across all workers. */
  batchSize: number;
  source: SharedImages;
  chunks: Chunk[];
  /**
   * SharedArrayBuffer for the chunks' gradient shares (lib/engine/chunks.ts,
   * `chunkGradients`): chunk k's at k times the trainable parameter count.
   */
  shares: Float32Array;
}

export type WorkerReply =
  | { type: 'ready'; backend: BackendName }
  | { type: 'results'; results: ChunkResult[] }
  | { type: 'error'; message: string; stack?: string };
