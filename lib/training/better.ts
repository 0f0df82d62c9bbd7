import type { Hyperparameters } from '../model/hyperparams';
import { zooSchedule } from './schedule';
import type { TrainOptions } from './train';

/**
 * `options` with the better model's one-cycle schedule peaking at
 * `hp.learningRate`, said outright: train() gives it the same schedule when
 * `hp.model` is 'better' (its zoo entry, lib/model/zoo.ts).
 */
export function betterTrainOptions(hp: Pick<Hyperparameters, 'learningRate'>, options: TrainOptions = {}): TrainOptions {
  return { ...options, learningRateSchedule: zooSchedule({ model: 'better', learningRate: hp.learningRate }) };
}
