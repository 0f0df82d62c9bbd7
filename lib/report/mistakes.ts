/**
 * The images a classifier gets wrong, from its class probabilities, to look
 * at the worst ones first. Works on plain arrays (what predictProbabilities
 * returns), so it can be tested and used without tensors.
 */
import { argMaxRows } from './predictions';

/** One misclassified image. */
export interface Mistake {
  /** Row of the image in the evaluated split. */
  index: number;
  trueLabel: number;
  predictedLabel: number;
  /** Probability the model gave its (wrong) prediction. */
  confidence: number;
  /** Probability the model gave the true class. */
  trueProbability: number;
}

/** Keeps only mistakes of one true and/or one predicted class; null or absent keeps all. */
export interface MistakeFilter {
  trueLabel?: number | null;
  predictedLabel?: number | null;
}

/**
 * Every image whose most likely class is not its label, most confident
 * first: a model sure of a wrong answer says more than one torn between two
 * classes. Ties keep split order. `probabilities` is `[N, numClasses]`
 * row-major, as predictProbabilities returns it.
 */
export function findMistakes(
  trueLabels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  numClasses: number,
  filter: MistakeFilter = {},
): Mistake[] {
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new RangeError(`numClasses must be an integer >= 2, got ${numClasses}`);
  }
  if (probabilities.length !== trueLabels.length * numClasses) {
    throw new RangeError(
      `probabilities has ${probabilities.length} values for ${trueLabels.length} labels; ` +
        `expected labels * numClasses = ${trueLabels.length * numClasses}`,
    );
  }
  for (const key of ['trueLabel', 'predictedLabel'] as const) {
    const label = filter[key];
    if (label != null && !(Number.isInteger(label) && label >= 0 && label < numClasses)) {
      throw new RangeError(`filter.${key} is ${label}; expected an integer in [0, ${numClasses}) or null`);
    }
  }
  const predicted = argMaxRows(probabilities, numClasses);
  const mistakes: Mistake[] = [];
  for (let i = 0; i < trueLabels.length; i++) {
    const t = trueLabels[i];
    const p = predicted[i];
    if (!(Number.isInteger(t) && t >= 0 && t < numClasses)) {
      throw new RangeError(`trueLabels[${i}] is ${t}; expected an integer in [0, ${numClasses})`);
    }
    if (t === p || (filter.trueLabel != null && t !== filter.trueLabel) || (filter.predictedLabel != null && p !== filter.predictedLabel)) {
      continue;
    }
    mistakes.push({ index: i, trueLabel: t, predictedLabel: p, confidence: probabilities[i * numClasses + p], trueProbability: probabilities[i * numClasses + t] });
  }
  // Array.prototype.sort is stable, which keeps ties in split order.
  return mistakes.sort((a, b) => b.confidence - a.confidence);
}

/** The label of a class name, for filters written as names; throws naming the valid ones. */
export function classIndex(name: string, classNames: readonly string[]): number {
  const index = classNames.indexOf(name);
  if (index < 0) throw new RangeError(`unknown class "${name}"; expected one of: ${classNames.join(', ')}`);
  return index;
}

/** Two-line tile title: the true class, then the prediction and its confidence. */
export function mistakeTitle(mistake: Mistake, classNames: readonly string[]): string {
  return `${classNames[mistake.trueLabel]}<br>→ ${classNames[mistake.predictedLabel]} ${(100 * mistake.confidence).toFixed(0)}%`;
}
