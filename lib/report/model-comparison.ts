/**
 * Two models' answers on the same test images, side by side: per-class F1
 * and which of the first model's mistakes the second one fixed. Plain
 * arrays, like metrics.ts, so it is tested without tensors.
 */
import type { ClassificationReport } from './metrics';

/** One class's F1 under both models. */
export interface F1Change {
  label: number;
  name: string;
  before: number;
  after: number;
}

/** Per-class F1 of `before` and `after`, which must report the same classes. */
export function f1Changes(before: ClassificationReport, after: ClassificationReport): F1Change[] {
  if (before.classes.length !== after.classes.length) {
    throw new RangeError(`the reports have ${before.classes.length} and ${after.classes.length} classes; expected the same classes`);
  }
  return before.classes.map((c, i) => {
    if (after.classes[i].name !== c.name) {
      throw new RangeError(`class ${i} is "${c.name}" in one report and "${after.classes[i].name}" in the other`);
    }
    return { label: c.label, name: c.name, before: c.f1, after: after.classes[i].f1 };
  });
}

/** Rows of one true class, split by which model got them right. */
export interface MistakeChanges {
  /** Wrong before, right after. */
  fixed: number[];
  /** Right before, wrong after. */
  broken: number[];
  /** Wrong under both. */
  stillWrong: number[];
}

/**
 * For the images whose true class is `label`: which the second model fixed,
 * broke, or still gets wrong, as row indices in split order.
 */
export function mistakeChanges(
  trueLabels: ArrayLike<number>,
  predictedBefore: ArrayLike<number>,
  predictedAfter: ArrayLike<number>,
  label: number,
): MistakeChanges {
  const n = trueLabels.length;
  if (predictedBefore.length !== n || predictedAfter.length !== n) {
    throw new RangeError(
      `${n} labels but ${predictedBefore.length} and ${predictedAfter.length} predictions; expected one prediction per label from each model`,
    );
  }
  const changes: MistakeChanges = { fixed: [], broken: [], stillWrong: [] };
  for (let i = 0; i < n; i++) {
    if (trueLabels[i] !== label) continue;
    const rightBefore = predictedBefore[i] === label;
    const rightAfter = predictedAfter[i] === label;
    if (!rightBefore && rightAfter) changes.fixed.push(i);
    else if (rightBefore && !rightAfter) changes.broken.push(i);
    else if (!rightBefore && !rightAfter) changes.stillWrong.push(i);
  }
  return changes;
}
