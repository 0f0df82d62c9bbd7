import * as tf from '@tensorflow/tfjs';
import { NUM_CLASSES } from '../data/classes';

/** Cross-entropy of a uniform guess over `classes` classes: where training starts. */
export const chanceLoss = (classes: number) => Math.log(classes);
/**
 * A window's mean loss above this is divergence. The clipped loss tops out at
 * -ln(1e-7) = 16.1 per image, where a run whose weights blew up sits; four
 * times chance is well clear of any mean a working run passes through. At
 * most 12: past 56 classes four times chance would pass 16.1, and a run
 * that blew up (a mean near 16.1 x (k-1)/k) could never cross it.
 */
const MAX_DIVERGED_LOSS = 12;
export const divergedLoss = (classes: number) => Math.min(4 * chanceLoss(Math.max(2, classes)), MAX_DIVERGED_LOSS);
/** Fashion-MNIST's chance loss, ln 10. */
export const CHANCE_LOSS = chanceLoss(NUM_CLASSES);
/** Fashion-MNIST's divergence threshold, 4 ln 10 = 9.21. */
export const DIVERGED_LOSS = divergedLoss(NUM_CLASSES);
/**
 * Training images a window of steps covers at least (one step when a batch
 * has that many; one epoch when an epoch has fewer). One image adds at most
 * 16.1 / 1024 = 0.016 to a window's mean, so no single image, however
 * confidently wrong, can cross DIVERGED_LOSS.
 */
export const DIVERGENCE_WINDOW_IMAGES = 1024;

/** The rule for `classes` classes, as the error message states it. */
export const divergenceRule = (classes: number) =>
  `training stops when a step's loss is NaN or infinite, or when the mean loss over consecutive steps covering ` +
  `${DIVERGENCE_WINDOW_IMAGES} training images (or an epoch, if it has fewer) stays above ${divergedLoss(classes).toFixed(2)} (guessing gives ${chanceLoss(classes).toFixed(2)}); ` +
  `one wrong image, one unlucky batch or a rising validation loss (overfitting) never stops it`;
/** Fashion-MNIST's rule. */
export const DIVERGENCE_RULE = divergenceRule(NUM_CLASSES);

/**
 * Watches the training loss for divergence: NaN or infinity at any step, or a
 * mean above DIVERGED_LOSS over a window of consecutive steps covering at least
 * DIVERGENCE_WINDOW_IMAGES images, or an epoch's images if that is fewer. Windows follow one another (they do not
 * overlap and may span epochs); at the start of each one the watch keeps the
 * weights, so a run that diverged can go back to where its last healthy window
 * ended. The validation loss is no part of the rule beyond NaN: a validation
 * loss that rises is overfitting.
 */
export class DivergenceWatch {
  private lossSum = 0;
  private images = 0;
  private steps = 0;
  private checkpoint: tf.Tensor[];
  private readonly windowImages: number;
  private readonly threshold: number;

  /** `classes`: the model's outputs, which set the chance loss. */
  constructor(
    private readonly weights: tf.Variable[],
    imagesPerEpoch: number,
    classes: number = NUM_CLASSES,
  ) {
    this.windowImages = Math.min(DIVERGENCE_WINDOW_IMAGES, imagesPerEpoch);
    this.threshold = divergedLoss(classes);
    // Clones share the variables' data; an optimiser step assigns new data and leaves theirs alone.
    this.checkpoint = weights.map((w) => tf.clone(w));
  }

  /** After a step: null while training is healthy, else what diverged. */
  afterStep(lossSum: number, images: number): string | null {
    if (!Number.isFinite(lossSum)) return `the loss is ${lossSum / images}`;
    this.lossSum += lossSum;
    this.images += images;
    this.steps += 1;
    if (this.images < this.windowImages) return null;
    const mean = this.lossSum / this.images;
    if (mean > this.threshold) {
      return `the mean loss over the last ${this.steps} step${this.steps > 1 ? 's' : ''} (${this.images} images) is ${mean.toFixed(2)}`;
    }
    tf.dispose(this.checkpoint);
    this.checkpoint = this.weights.map((w) => tf.clone(w));
    this.lossSum = this.images = this.steps = 0;
    return null;
  }

  /** Puts the weights back to the start of the current window. */
  restore(): void {
    this.checkpoint.forEach((v, i) => this.weights[i].assign(v));
  }

  dispose(): void {
    tf.dispose(this.checkpoint);
  }
}
