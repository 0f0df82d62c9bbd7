import type * as tf from '@tensorflow/tfjs';
import { betterHyperparameters, buildBetterModel } from '../model/better';
import { buildModel } from '../model/cnn';
import { resolveHyperparameters, type Hyperparameters } from '../model/hyperparams';
import { oneCycle } from './schedule';
import type { TrainOptions } from './train';

/**
 * How the better model (lib/model/better.ts) is trained, on top of `options`:
 * the one-cycle schedule peaking at `hp.learningRate`.
 */
export function betterTrainOptions(hp: Pick<Hyperparameters, 'learningRate'>, options: TrainOptions = {}): TrainOptions {
  return { ...options, learningRateSchedule: oneCycle(hp.learningRate) };
}

/** A model and how it is trained, chosen by name (`npm run train -- --model NAME`). */
export interface Recipe {
  /** Its defaults with `overrides`, checked. */
  hyperparameters(overrides?: Partial<Hyperparameters>): Hyperparameters;
  build(hp: Hyperparameters): tf.LayersModel;
  trainOptions(hp: Hyperparameters, options?: TrainOptions): TrainOptions;
}

export const RECIPES = {
  // The original notebook's model and training, as lib/model/cnn.ts and hyperparams.ts define them.
  seed: { hyperparameters: resolveHyperparameters, build: buildModel, trainOptions: (_hp, options = {}) => options },
  better: { hyperparameters: betterHyperparameters, build: buildBetterModel, trainOptions: betterTrainOptions },
} as const satisfies Record<string, Recipe>;

export type RecipeName = keyof typeof RECIPES;

/** The recipe called `name`; throws naming the value and the recipes there are. */
export function recipeByName(name: string): Recipe {
  if (!Object.hasOwn(RECIPES, name)) {
    throw new RangeError(`--model must be one of: ${Object.keys(RECIPES).join(', ')}; got ${JSON.stringify(name)}`);
  }
  return RECIPES[name as RecipeName];
}
