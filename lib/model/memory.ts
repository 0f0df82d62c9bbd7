/**
 * Whether a model can train here, answered before any work: an estimate of
 * the memory training takes on each wasm heap (the main thread's and each
 * worker's; tfjs's wasm heap stops at 4 GiB) and in all, from the weights'
 * sizes and the layers' output sizes. A model that cannot fit is refused with
 * the estimate and the limit, instead of failing a minute into training with
 * "memory access out of bounds" at 15 GB of RSS.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';

/** The most tfjs's wasm build lets its heap grow to (its getHeapMax(): 65,536 pages less 64 KiB). */
export const WASM_HEAP_LIMIT_BYTES = 4_294_901_760;


/**
 * Heap bytes one image's forward and backward pass takes, per byte of the
 * input and layer outputs. Measured as the wasm heap's growth from 128 to
 * 1,024 images per pass: 5.0x (seed), 5.6x (keras-convnet), 4.5x (bn-cnn).
 * tfjs's tape keeps every op's output (a conv layer's convolution, bias sum
 * and ReLU), and the backward pass makes gradients of the same sizes.
 */
const ACTIVATION_FACTOR = 6;
const FLOAT_BYTES = 4;

/** What a model's memory is made of, in float32 elements. */
export interface ModelFootprint {
  /** Every weight, trainable or not (BatchNormalization's moving statistics are not). */
  weights: number;
  trainableWeights: number;
  /** The largest trainable weight: the parallel engine sums the chunks' gradients one weight at a time. */
  largestWeight: number;
  /** One input image. */
  input: number;
  /** The input and every layer's output, for one image. */
  activationsPerImage: number;
}

/** How training runs a batch, as far as memory goes. */
export interface TrainingLayout {
  /** Images per optimiser step. */
  batchSize: number;
  /** Images per forward and backward pass: a chunk of the engines (chunkSizeFor). */
  microBatchSize: number;
  /** Worker threads, each with a replica of the model on its own wasm heap; 0 trains on the main thread. */
  workers: number;
  /** Images held as float32 tensors on the main heap: the data's, of the model's input shape. */
  datasetImages: number;
}

/** Bytes, by where they live, and the limits they must stay under. */
export interface MemoryEstimate {
  footprint: ModelFootprint;
  layout: TrainingLayout;
  /** The main thread's wasm heap: weights, Adam's two moments, a rollback copy, gradients, the data. */
  mainHeap: number;
  /** One worker's wasm heap (0 without workers): a replica, the step's weights, gradients, activations. */
  workerHeap: number;
  /** The activations of one micro-batch or chunk, on the heap that runs it. */
  activations: number;
  /** The heaps plus the JavaScript copies of weights and gradients that the threads exchange. */
  total: number;
  /** What one wasm heap can hold (Infinity on a backend without one). */
  heapLimit: number;
  /** What this machine has for training: free memory plus what this process already holds. */
  machineLimit: number;
}

/** Thrown before any work when a model cannot train in this machine's memory. */
export class ModelTooLargeError extends RangeError {
  constructor(
    message: string,
    readonly estimate: MemoryEstimate,
  ) {
    super(message);
    this.name = 'ModelTooLargeError';
  }
}

/** `model`'s footprint, from its built weights and its layers' output shapes. */
export function modelFootprint(model: tf.LayersModel): ModelFootprint {
  const trainable = model.trainableWeights.map((w) => elements(w.shape));
  const input = elements(model.inputs[0].shape);
  return {
    weights: sum(model.weights.map((w) => elements(w.shape))),
    trainableWeights: sum(trainable),
    largestWeight: Math.max(0, ...trainable),
    input,
    activationsPerImage: input + sum(model.layers.map((layer) => elements(layer.outputShape as tf.Shape))),
  };
}

/** The part of tfjs's Layer that builds weights; its type marks it protected. */
interface WeightAdder {
  addWeight(name: string, shape: number[], dtype?: unknown, initializer?: unknown, regularizer?: unknown, trainable?: boolean): null;
}

/**
 * The footprint of a model of `layers` on images of `inputShape`, without
 * making it: each layer is built with its weight allocation replaced by a
 * note of the weight's shape, so a model of billions of parameters is sized
 * in microseconds. The layers are spent (built without weights) afterwards;
 * make new ones for the model.
 */
export function layersFootprint(layers: tf.layers.Layer[], inputShape: number[]): ModelFootprint {
  let shape: tf.Shape = [null, ...inputShape];
  const input = elements(shape);
  const footprint: ModelFootprint = { weights: 0, trainableWeights: 0, largestWeight: 0, input, activationsPerImage: input };
  for (const layer of layers) {
    (layer as unknown as WeightAdder).addWeight = (_name, weightShape, _dtype, _initializer, _regularizer, trainable) => {
      const size = elements(weightShape);
      footprint.weights += size;
      if ((trainable ?? true) && layer.trainable) {
        footprint.trainableWeights += size;
        footprint.largestWeight = Math.max(footprint.largestWeight, size);
      }
      return null;
    };
    layer.build(shape);
    shape = layer.computeOutputShape(shape) as tf.Shape;
    footprint.activationsPerImage += elements(shape);
  }
  return footprint;
}

/**
 * The memory training a model of `footprint` takes with `layout`, term by
 * term as the engines in lib/engine hold it, and the limits it must fit in.
 */
export function estimateTrainingMemory(footprint: ModelFootprint, layout: TrainingLayout): MemoryEstimate {
  const f = FLOAT_BYTES;
  const { weights, trainableWeights: trainable } = footprint;
  const micro = Math.min(layout.microBatchSize, layout.batchSize);
  const chunks = Math.ceil(layout.batchSize / micro);
  const activations = ACTIVATION_FACTOR * f * footprint.activationsPerImage * micro;
  const dataset = f * footprint.input * layout.datasetImages;
  // Weights, Adam's two moments, the copy train() rolls back to on divergence, the batch's gradients.
  const resident = f * (weights + 4 * trainable) + dataset;
  let mainHeap: number;
  let workerHeap = 0;
  let javascript = 0;
  if (layout.workers > 0) {
    // Summing the chunks' gradients holds one tensor per chunk of the weight being summed.
    mainHeap = resident + f * chunks * footprint.largestWeight;
    // A replica, the step's weights as tensors, the chunk's gradients and its share of the batch's.
    workerHeap = f * (2 * weights + 2 * trainable) + activations;
    // The weights read out and posted to every worker, every chunk's gradients posted back, and the
    // images shared with the workers.
    javascript = f * (weights + chunks * trainable + layout.workers * (weights + trainable)) + dataset;
  } else {
    // The micro-batch's gradients, while they are added to the batch's.
    mainHeap = resident + f * trainable + activations;
  }
  const backend = tf.engine().backendName;
  return {
    footprint,
    layout,
    mainHeap,
    workerHeap,
    activations,
    total: mainHeap + layout.workers * workerHeap + javascript,
    // Before a backend is chosen, the wasm backend is the one that will be (tfjs-node does not install here).
    heapLimit: backend == null || backend === 'wasm' ? WASM_HEAP_LIMIT_BYTES : Infinity,
    machineLimit: Math.min(os.totalmem(), os.freemem() + process.memoryUsage().rss),
  };
}

/**
 * Throws ModelTooLargeError, naming the estimate and the limit, when training
 * a model of `footprint` with `layout` cannot fit a wasm heap or the machine.
 * `subject` names the model in the message, `remedy` says what to change.
 */
export function checkFootprintFits(footprint: ModelFootprint, layout: TrainingLayout, subject: string, remedy: string): MemoryEstimate {
  const e = estimateTrainingMemory(footprint, layout);
  const micro = Math.min(layout.microBatchSize, layout.batchSize);
  const model =
    `${subject} has ${footprint.weights.toLocaleString('en-US')} weights (${bytes(FLOAT_BYTES * footprint.weights)}) ` +
    `and ${bytes(ACTIVATION_FACTOR * FLOAT_BYTES * footprint.activationsPerImage)} of activations per image`;
  const training = `training it at batch ${layout.batchSize}, in passes of ${micro} images,`;
  const overHeap = (need: number, where: string, activations: number) =>
    new ModelTooLargeError(
      `${model}; ${training} needs ~${bytes(need)} on ${where} ` +
        `(${activations > 0 ? `${bytes(activations)} of it activations` : 'weights, Adam state, gradient copies and data'}), ` +
        `above the wasm heap's limit of ${bytes(e.heapLimit)}. ${remedy}`,
      e,
    );
  if (e.mainHeap > e.heapLimit) {
    throw overHeap(e.mainHeap, "the main thread's wasm heap", layout.workers > 0 ? 0 : e.activations);
  }
  if (e.workerHeap > e.heapLimit) throw overHeap(e.workerHeap, "each worker thread's wasm heap", e.activations);
  if (e.total > e.machineLimit) {
    const threads = layout.workers > 0 ? `the main thread and ${layout.workers} workers` : 'the main thread';
    throw new ModelTooLargeError(
      `${model}; ${training} needs ~${bytes(e.total)} in all (${threads}), ` +
        `above the ${bytes(e.machineLimit)} this machine has free (${bytes(os.totalmem())} in all). ${remedy}`,
      e,
    );
  }
  return e;
}

/**
 * Refuses, before any work, to train `model` with `layout` when it cannot
 * fit in memory (see checkFootprintFits); returns the estimate when it fits.
 */
export function checkModelFits(model: tf.LayersModel, layout: TrainingLayout): MemoryEstimate {
  return checkFootprintFits(
    modelFootprint(model),
    layout,
    `model "${model.name}"`,
    'Use a smaller model (the seed and better models: lower filters or denseUnits), or a smaller batchSize if the activations are the most of it.',
  );
}

function elements(shape: readonly (number | null)[]): number {
  return shape.reduce<number>((n, d) => n * (d ?? 1), 1);
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function bytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  return n >= 1e6 ? `${Math.round(n / 1e6)} MB` : `${Math.round(n / 1e3)} kB`;
}
