/**
 * The unit of work every engine shares: a batch is cut into chunks of
 * `chunkSize` images, each chunk gets a dropout seed drawn in chunk order, its
 * gradient is computed in one forward and backward pass, and the chunks are
 * summed in chunk order. Whether a chunk runs on the main thread or on a
 * worker, it runs this code, so a seed gives the same history on any engine
 * and any number of workers.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng';
import { DEFAULT_CHUNK_SIZE } from './chunk-size';
import { countCorrect, crossEntropyPerImage } from '../model/loss';
import { evaluate } from '../model/predict';
import { SeededDropout } from '../model/seeded-dropout';
import { checkpoint } from '../util/interrupt';
import type { BatchGradients } from './gradient-engine';

// Keeps the dropout stream apart from the other streams a caller seeds with the same number.
const DROPOUT_STREAM = 0x0d40_9017;

/** Images run in one forward and backward pass, and the dropout seed for them. */
export interface Chunk {
  /** Position of the chunk in the batch; results are summed in this order. */
  index: number;
  /** Rows of the batch's source (a copy: posting a view would copy its whole buffer). */
  rows: Int32Array;
  seed: number;
}

/** What one chunk contributes: sums over its images, and its share of the batch mean's gradient. */
export interface ChunkSums {
  lossSum: number;
  correct: number;
  /**
   * The model's non-trainable weights (batch-norm moving statistics) after the
   * chunk's training pass, in `model.nonTrainableWeights` order; empty for
   * evaluation and for models without any.
   */
  state: Float32Array[];
}

/** A chunk's sums, tagged with its position in the batch. */
export interface ChunkResult extends ChunkSums {
  index: number;
}

/** Rows 0 to n-1: every image of a batch or split. */
export function allRows(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** Cuts batches into chunks and draws their dropout seeds from the run's seed. */
export class ChunkPlanner {
  private readonly rng: Rng;

  constructor(
    seed: number,
    readonly chunkSize = DEFAULT_CHUNK_SIZE,
  ) {
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    this.rng = new Rng(seed ^ DROPOUT_STREAM);
  }

  /**
   * Chunks of `rows`. Only training draws seeds, so evaluation leaves the
   * run's dropout masks as they were; evaluation uses DEFAULT_CHUNK_SIZE
   * chunks whatever the batch size, as inference has no step to share.
   */
  plan(rows: Int32Array, kind: 'gradients' | 'evaluate'): Chunk[] {
    const size = kind === 'gradients' ? this.chunkSize : DEFAULT_CHUNK_SIZE;
    const chunks: Chunk[] = [];
    for (let start = 0; start < rows.length; start += size) {
      const seed = kind === 'gradients' ? this.rng.seed() : 0;
      chunks.push({ index: chunks.length, rows: rows.slice(start, start + size), seed });
    }
    return chunks;
  }
}

/**
 * Gives each SeededDropout layer a generator seeded from the chunk's seed, so
 * the masks depend on the seed drawn for the chunk, not on what ran before.
 */
function reseedDropout(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const layer of model.layers) {
    if (layer instanceof SeededDropout) layer.reseed(rng.seed());
  }
}

/**
 * One chunk's forward and backward pass with dropout seeded by `seed`. Writes
 * its share of the gradient of the batch's mean loss (the gradient of its loss
 * sum over `batchSize`) into `out`, trainable weights one after another.
 */
export async function chunkGradients(
  model: tf.LayersModel,
  variables: tf.Variable[],
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  seed: number,
  batchSize: number,
  out: Float32Array,
): Promise<ChunkSums> {
  reseedDropout(model, seed);
  const { grads, sums } = tf.tidy(() => {
    let sums: tf.Scalar[] = [];
    const { grads } = tf.variableGrads(() => {
      const probs = model.apply(x, { training: true }) as tf.Tensor2D;
      const lossSum = tf.sum(crossEntropyPerImage(probs, y)) as tf.Scalar;
      // Kept here: variableGrads disposes what its function made when it returns.
      sums = [tf.keep(lossSum), tf.keep(countCorrect(probs, y))];
      return tf.div(lossSum, batchSize) as tf.Scalar;
    }, variables);
    return { grads, sums };
  });
  const ordered = variables.map((v) => grads[v.name]);
  const values = await Promise.all([...sums, ...ordered].map((t) => t.data()));
  tf.dispose([...sums, ...ordered]);
  let offset = 0;
  for (const v of values.slice(2)) {
    out.set(v as Float32Array, offset);
    offset += v.length;
  }
  return { lossSum: values[0][0], correct: values[1][0], state: readState(model) };
}

/** One chunk's inference-mode loss sum and right answers. */
export async function chunkEvaluation(model: tf.LayersModel, x: tf.Tensor4D, y: tf.Tensor1D): Promise<ChunkSums> {
  const count = x.shape[0];
  const { loss, accuracy } = await evaluate(model, { x, y }, count);
  return { lossSum: loss * count, correct: Math.round(accuracy * count), state: [] };
}

/**
 * Runs `chunks` one after another on this thread, the main thread's or a
 * worker's: each trains from the batch-norm statistics the first one started
 * from (as on separate workers), gradients go to chunk k's share of `shares`
 * at `k * parameters`. `gather` makes a chunk's tensors; they are disposed here.
 * When `signal` aborts, it stops before the next chunk with the signal's
 * reason, the model's statistics as they were before the call.
 */
export async function runChunks(
  model: tf.LayersModel,
  variables: tf.Variable[],
  chunks: readonly Chunk[],
  kind: 'gradients' | 'evaluate',
  batchSize: number,
  shares: Float32Array,
  gather: (rows: Int32Array) => { x: tf.Tensor4D; y: tf.Tensor1D },
  signal?: AbortSignal,
): Promise<ChunkResult[]> {
  const parameters = parameterCount(variables);
  const start = kind === 'gradients' ? readState(model) : [];
  const results: ChunkResult[] = [];
  for (const [k, chunk] of chunks.entries()) {
    try {
      await checkpoint(signal);
    } catch (e) {
      if (start.length > 0) writeState(model, start);
      throw e;
    }
    if (k > 0 && start.length > 0) writeState(model, start);
    const { x, y } = gather(chunk.rows);
    try {
      const sums =
        kind === 'gradients'
          ? await chunkGradients(model, variables, x, y, chunk.seed, batchSize, shares.subarray(chunk.index * parameters))
          : await chunkEvaluation(model, x, y);
      results.push({ index: chunk.index, ...sums });
    } finally {
      tf.dispose([x, y]);
    }
  }
  return results;
}

/** Mean loss and accuracy over `n` images from their chunks' sums. */
export function meanEvaluation(sums: readonly ChunkSums[], n: number): { loss: number; accuracy: number } {
  return { loss: sums.reduce((s, r) => s + r.lossSum, 0) / n, accuracy: sums.reduce((s, r) => s + r.correct, 0) / n };
}

/** The model's non-trainable weights (batch-norm moving statistics); small, so read synchronously. */
export function readState(model: tf.LayersModel): Float32Array[] {
  return model.nonTrainableWeights.map((w) => w.read().dataSync() as Float32Array);
}

export function writeState(model: tf.LayersModel, state: readonly Float32Array[]): void {
  tf.tidy(() => model.nonTrainableWeights.forEach((w, i) => w.write(tf.tensor(state[i], w.read().shape))));
}

/**
 * Sets the model's batch-norm statistics after a batch. Every chunk started
 * from the same statistics and moved them by one momentum step, so their mean
 * is that step with the mean of the chunks' batch statistics (ghost batch
 * normalisation over chunks), summed in chunk order: the same on any engine.
 */
function applyMeanState(model: tf.LayersModel, sums: readonly ChunkSums[]): void {
  const states = sums.map((s) => s.state).filter((state) => state.length > 0);
  if (states.length === 0) return;
  writeState(
    model,
    states[0].map((_, i) => {
      const mean = Float32Array.from(states[0][i]);
      for (let k = 1; k < states.length; k++) for (let j = 0; j < mean.length; j++) mean[j] += states[k][i][j];
      for (let j = 0; j < mean.length; j++) mean[j] /= states.length;
      return mean;
    }),
  );
}

/** Number of values in the trainable weights, the length of one chunk's gradient. */
export function parameterCount(variables: readonly tf.Variable[]): number {
  return variables.reduce((sum, v) => sum + v.size, 0);
}

/**
 * The batch's gradients from its chunks' shares, summed in chunk order (in
 * float32, as tf.addN would), so the sum does not depend on where each chunk ran;
 * the model's batch-norm statistics become the chunks' mean (applyMeanState).
 * `shares` holds chunk k's gradient at `k * parameters`.
 */
export function finishBatch(model: tf.LayersModel, sums: ChunkSums[], shares: Float32Array, variables: readonly tf.Variable[]): BatchGradients {
  applyMeanState(model, sums);
  const total = parameterCount(variables);
  const sum = shares.slice(0, total);
  for (let k = 1; k < sums.length; k++) {
    const share = shares.subarray(k * total, (k + 1) * total);
    for (let i = 0; i < total; i++) sum[i] += share[i];
  }
  return {
    lossSum: sums.reduce((s, r) => s + r.lossSum, 0),
    correct: sums.reduce((s, r) => s + r.correct, 0),
    values: sum,
  };
}
