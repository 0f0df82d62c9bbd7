import type * as tf from '@tensorflow/tfjs';
import { resolveHyperparameters, type Hyperparameters } from '../model/hyperparams';
import { buildZooModel, ZOO_MODELS, type ModelName } from '../model/zoo';
import { oneCycle } from './schedule';
import { asTrainOptions, type TrainOptions } from './train';

/**
 * How the better model (lib/model/better.ts) is trained, on top of `options`:
 * the one-cycle schedule peaking at `hp.learningRate`.
 */
export function betterTrainOptions(hp: Pick<Hyperparameters, 'learningRate'>, options: TrainOptions | tf.Callback = {}): TrainOptions {
  return { ...asTrainOptions(options), learningRateSchedule: oneCycle(hp.learningRate) };
}

/** A model and how it is trained, chosen by name (`npm run train -- --model NAME`). */
export interface Recipe {
  /** Its defaults with `overrides`, checked. */
  hyperparameters(overrides?: Partial<Hyperparameters>): Hyperparameters;
  build(hp: Hyperparameters): tf.LayersModel;
  trainOptions(hp: Hyperparameters, options?: TrainOptions | tf.Callback): TrainOptions;
}

/**
 * Zoo model `name` (lib/model/zoo.ts) with its defaults, trained as the original
 * is (the hyperparameters' constant learning rate), except the better model,
 * which has its one-cycle schedule.
 */
function zooRecipe(name: ModelName): Recipe {
  return {
    hyperparameters: (overrides = {}) => resolveHyperparameters({ ...overrides, model: name }),
    build: (hp) => buildZooModel(hp.model, hp),
    trainOptions: name === 'better' ? betterTrainOptions : (_hp, options = {}) => asTrainOptions(options),
  };
}

export type RecipeName = ModelName;

/** A recipe per zoo model. */
export const RECIPES: Readonly<Record<RecipeName, Recipe>> = Object.freeze(
  Object.fromEntries(ZOO_MODELS.map((name) => [name, zooRecipe(name)])) as Record<ModelName, Recipe>,
);

/** The recipe called `name`; throws naming the value and the recipes there are. */
export function recipeByName(name: string): Recipe {
  if (!Object.hasOwn(RECIPES, name)) {
    throw new RangeError(`--model must be one of: ${Object.keys(RECIPES).join(', ')}; got ${JSON.stringify(name)}`);
  }
  return RECIPES[name as RecipeName];
}
