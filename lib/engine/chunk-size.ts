/**
 * How many images one forward and backward pass holds. The engines cut every
 * batch into chunks of this size (lib/engine/chunks.ts), and the memory
 * estimate sizes a pass's activations by it, so both read it from here.
 */

/**
 * Images per chunk. On the default model with 2 workers, chunks of 256 / 512 /
 * 1024 trained at ~9.3k / 9.6k / 9.8k images/s; each doubling adds ~0.35 GB to
 * a worker's peak memory.
 */
export const DEFAULT_CHUNK_SIZE = 512;

/** Batches up to this size are one chunk, run on the main thread: a worker's round trip costs more than splitting saves. */
const SMALL_BATCH = 64;

/**
 * Images per chunk for a batch: the whole batch when it is small, else at
 * least two chunks, so two cores share every step, of at most
 * DEFAULT_CHUNK_SIZE images. A function of the batch size alone, so a seed
 * gives the same history on any machine.
 */
export function chunkSizeFor(batchSize: number): number {
  if (!Number.isFinite(batchSize)) return DEFAULT_CHUNK_SIZE;
  return batchSize <= SMALL_BATCH ? batchSize : Math.min(DEFAULT_CHUNK_SIZE, Math.ceil(batchSize / 2));
}
