import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, NUM_CLASSES } from './classes';
import type { Hyperparameters } from './hyperparams';
import { Rng } from './rng';
import { seededDropout } from './wasm-kernels/index';

export interface SeededDropoutArgs {
  rate: number;
  seed: number;
  name?: string;
}

/**
 * Dropout with a seeded stream of masks. tfjs's own Dropout, given a seed,
 * draws the same mask at every step; this one draws a new seed per call from
 * its generator, so runs are reproducible and masks still vary. The masks
 * come from the project's kernel, which hashes (seed, index) instead of
 * drawing random numbers in JavaScript.
 */
export class SeededDropout extends tf.layers.Layer {
  static className = 'SeededDropout';
  readonly rate: number;
  readonly seed: number;
  private rng: Rng;

  constructor(args: SeededDropoutArgs) {
    super({ name: args.name });
    this.rate = args.rate;
    this.seed = args.seed;
    this.rng = new Rng(args.seed);
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return x;
    return seededDropout(x, this.rate, this.rng.seed());
  }

  /** Restarts the mask stream from `seed`; the parallel engine draws one per chunk on the main thread. */
  reseed(seed: number): void {
    this.rng = new Rng(seed);
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(SeededDropout);

/**
 * The original notebook's CNN:
 * Conv2D(3x3, relu) -> MaxPool(2) -> Dropout -> Flatten -> Dense(relu) -> Dense(10, softmax).
 * With the default hyperparameters it has 173,738 parameters.
 */
export function buildModel(hp: Pick<Hyperparameters, 'filters' | 'denseUnits' | 'dropout' | 'seed'>): tf.Sequential {
  const rng = new Rng(hp.seed);
  const init = () => tf.initializers.glorotUniform({ seed: rng.seed() });
  const model = tf.sequential({ name: 'fashion_cnn' });
  model.add(
    tf.layers.conv2d({
      name: 'conv',
      inputShape: [IMAGE_SIZE, IMAGE_SIZE, 1],
      filters: hp.filters,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: init(),
    }),
  );
  model.add(tf.layers.maxPooling2d({ name: 'pool', poolSize: 2 }));
  model.add(new SeededDropout({ name: 'dropout', rate: hp.dropout, seed: rng.seed() }));
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ name: 'hidden', units: hp.denseUnits, activation: 'relu', kernelInitializer: init() }));
  model.add(tf.layers.dense({ name: 'output', units: NUM_CLASSES, activation: 'softmax', kernelInitializer: init() }));
  return model;
}
