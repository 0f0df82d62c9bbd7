import * as tf from '@tensorflow/tfjs';
import type { BatchGradients } from '../engine/gradient-engine';

/**
 * Adam as tf.train.adam computes it (same defaults: beta1 0.9, beta2 0.999,
 * epsilon 1e-7, bias correction), run as one loop over all the model's
 * parameters in plain JavaScript. tf.train.adam runs ~14 tensor ops per weight
 * tensor, whose fixed cost dominated small batches: at batch 32 it took ~18 %
 * of a step on the main thread. The weights are read from the variables at
 * every step, so anything that assigns them between steps is respected.
 */
export class Adam {
  private readonly sizes: number[];
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly weights: Float32Array;
  private accBeta1: number;
  private accBeta2: number;

  constructor(
    private readonly variables: readonly tf.Variable[],
    /** Read at every step, so a schedule may change it between steps. */
    public learningRate: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = 1e-7,
  ) {
    this.sizes = variables.map((v) => v.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    [this.m, this.v, this.weights] = [0, 0, 0].map(() => new Float32Array(total));
    this.accBeta1 = beta1;
    this.accBeta2 = beta2;
  }

  /** One update from a batch's gradients. */
  applyGradients(batch: BatchGradients): void {
    const g = batch.values;
    if (g.length !== this.weights.length) {
      throw new RangeError(`the gradients hold ${g.length} values; the variables Adam updates have ${this.weights.length}`);
    }
    const w = this.readWeights();
    const { beta1, beta2, epsilon, m, v } = this;
    // Bias corrections folded into two factors: w -= lr * (m / c1) / (sqrt(v / c2) + epsilon).
    const [a1, a2] = [1 - beta1, 1 - beta2];
    const [s1, s2] = [-this.learningRate / (1 - this.accBeta1), 1 / (1 - this.accBeta2)];
    for (let i = 0; i < w.length; i++) {
      const gi = g[i];
      const mi = beta1 * m[i] + a1 * gi;
      const vi = beta2 * v[i] + a2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      w[i] += (s1 * mi) / (Math.sqrt(vi * s2) + epsilon);
    }
    this.accBeta1 *= beta1;
    this.accBeta2 *= beta2;
    let offset = 0;
    this.variables.forEach((variable, k) => {
      const value = tf.tensor(w.subarray(offset, offset + this.sizes[k]), variable.shape, 'float32');
      variable.assign(value);
      value.dispose();
      offset += this.sizes[k];
    });
  }

  /** The variables' values, one after another, in `this.weights`. */
  private readWeights(): Float32Array {
    let offset = 0;
    for (const variable of this.variables) {
      this.weights.set(variable.dataSync() as Float32Array, offset);
      offset += variable.size;
    }
    return this.weights;
  }
}
