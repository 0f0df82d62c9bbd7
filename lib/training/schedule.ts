import type { Hyperparameters } from '../model/hyperparams';
import { zooEntry } from '../model/zoo';

/**
 * Learning-rate schedules for train(): the rate of each optimiser step,
 * `step` counting from 0 to `totalSteps - 1` over the whole run.
 */
export type LearningRateSchedule = (step: number, totalSteps: number) => number;

export interface OneCycleOptions {
  /** Share of the steps spent warming up to the peak. */
  warmupFraction?: number;
  /** The first step's rate is peak / startDivisor. */
  startDivisor?: number;
  /** The last step's rate is peak / startDivisor / endDivisor. */
  endDivisor?: number;
}

/**
 * One cycle (L. Smith, 2018) as PyTorch's OneCycleLR without momentum
 * cycling: a cosine rise from peak / 25 to `peak` over the first 30 % of the
 * steps, then a cosine fall to nearly zero. The high middle trains fast; the
 * long tail settles the weights, which is most of the gain over a constant rate.
 */
export function oneCycle(peak: number, options: OneCycleOptions = {}): LearningRateSchedule {
  const { warmupFraction = 0.3, startDivisor = 25, endDivisor = 1e4 } = options;
  if (!(Number.isFinite(peak) && peak > 0)) throw new RangeError(`oneCycle peak must be a finite number > 0, got ${peak}`);
  if (!(warmupFraction > 0 && warmupFraction < 1)) {
    throw new RangeError(`oneCycle warmupFraction must be in (0, 1), got ${warmupFraction}`);
  }
  const start = peak / startDivisor;
  const end = start / endDivisor;
  const cosine = (from: number, to: number, t: number) => to + ((from - to) * (1 + Math.cos(Math.PI * t))) / 2;
  return (step, totalSteps) => {
    const warmupEnd = warmupFraction * totalSteps - 1;
    if (step <= warmupEnd) return cosine(start, peak, warmupEnd > 0 ? step / warmupEnd : 1);
    return cosine(peak, end, Math.min(1, (step - warmupEnd) / Math.max(1, totalSteps - 1 - warmupEnd)));
  };
}

/**
 * The schedule zoo model `hp.model` trains with (its entry's `schedule`,
 * lib/model/zoo.ts): the better model's one cycle peaking at `hp.learningRate`;
 * undefined for a constant rate, and when `hp` names no model.
 */
export function zooSchedule(hp: Partial<Pick<Hyperparameters, 'model'>> & Pick<Hyperparameters, 'learningRate'>): LearningRateSchedule | undefined {
  if (hp.model === undefined) return undefined;
  return zooEntry(hp.model).schedule === 'one-cycle' ? oneCycle(hp.learningRate) : undefined;
}
