/**
 * Evaluation numbers on plain arrays, with scikit-learn's definitions, so the
 * notebook's report can be checked against a Python run of the same model.
 * Deliberately free of tfjs: callers pass `dataSync()` results or arrays.
 */

/** Precision, recall and F1 of one class or of an average, with its support. */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Number of true instances (a matrix row sum; the total for averages). */
  support: number;
}

export interface ClassReport extends ClassMetrics {
  /** Class index: the row and column of the confusion matrix. */
  label: number;
  name: string;
}

export interface ClassificationReport {
  /** One entry per class, indexed by label. */
  classes: ClassReport[];
  /** Share of all instances on the diagonal. */
  accuracy: number;
  /** Number of instances in the matrix. */
  total: number;
  /** Unweighted mean over all classes, including ones absent from the data. */
  macroAvg: ClassMetrics;
  /** Mean over classes weighted by support. */
  weightedAvg: ClassMetrics;
}

/**
 * Counts (true, predicted) pairs: `matrix[t][p]` is how many instances of
 * class t were predicted as p.
 */
export function confusionMatrix(
  trueLabels: ArrayLike<number>,
  predictedLabels: ArrayLike<number>,
  numClasses = 10,
): number[][] {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`numClasses must be a positive integer, got ${numClasses}`);
  }
  if (trueLabels.length !== predictedLabels.length) {
    throw new RangeError(
      `trueLabels has ${trueLabels.length} labels but predictedLabels has ${predictedLabels.length}; ` +
        'expected equal lengths',
    );
  }
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < trueLabels.length; i++) {
    const t = checkLabel(trueLabels[i], 'trueLabels', i, numClasses);
    const p = checkLabel(predictedLabels[i], 'predictedLabels', i, numClasses);
    matrix[t][p]++;
  }
  return matrix;
}

function checkLabel(value: number, arrayName: string, index: number, numClasses: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= numClasses) {
    throw new RangeError(`${arrayName}[${index}] is ${value}; expected an integer in [0, ${numClasses})`);
  }
  return value;
}

/** Throws unless `matrix` is a square matrix of counts with one class name per row. */
function checkCountMatrix(matrix: readonly (readonly number[])[], classNames: readonly string[]): void {
  const n = matrix.length;
  if (classNames.length !== n) {
    throw new RangeError(
      `matrix has ${n} rows but ${classNames.length} class names were given; expected one name per row`,
    );
  }
  matrix.forEach((row, t) => {
    if (row.length !== n) {
      throw new RangeError(`matrix row ${t} has ${row.length} columns; expected ${n} (a square matrix)`);
    }
    row.forEach((count, p) => {
      if (!Number.isInteger(count) || count < 0) {
        throw new RangeError(`matrix[${t}][${p}] is ${count}; expected a non-negative integer count`);
      }
    });
  });
}

/**
 * Per-class precision, recall, F1 and support, accuracy, macro and weighted
 * averages, as scikit-learn's classification_report with
 * `labels=range(n)` and `zero_division=0`: a ratio with a zero denominator is
 * 0, and every class of the matrix counts in the macro average.
 */
export function classificationReport(matrix: readonly (readonly number[])[], classNames: readonly string[]): ClassificationReport {
  checkCountMatrix(matrix, classNames);
  const rowSums = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const colSums = matrix.map((_, p) => matrix.reduce((a, row) => a + row[p], 0));
  const total = rowSums.reduce((a, b) => a + b, 0);
  const classes = classNames.map((name, c): ClassReport => {
    const tp = matrix[c][c];
    return {
      label: c,
      name,
      precision: divide(tp, colSums[c]),
      recall: divide(tp, rowSums[c]),
      // 2TP / (2TP + FP + FN), as scikit-learn computes it; equals 2PR / (P + R).
      f1: divide(2 * tp, rowSums[c] + colSums[c]),
      support: rowSums[c],
    };
  });
  const correct = matrix.reduce((a, row, c) => a + row[c], 0);
  const average = (weight: (c: ClassReport) => number): ClassMetrics => {
    const weightSum = classes.reduce((a, c) => a + weight(c), 0);
    const mean = (key: 'precision' | 'recall' | 'f1') =>
      divide(
        classes.reduce((a, c) => a + weight(c) * c[key], 0),
        weightSum,
      );
    return { precision: mean('precision'), recall: mean('recall'), f1: mean('f1'), support: total };
  };
  return {
    classes,
    accuracy: divide(correct, total),
    total,
    macroAvg: average(() => 1),
    weightedAvg: average((c) => c.support),
  };
}

/** One off-diagonal cell of a confusion matrix: images of one class predicted as another. */
export interface ConfusedPair {
  trueLabel: number;
  predictedLabel: number;
  trueName: string;
  predictedName: string;
  /** Images of the true class predicted as the other. */
  count: number;
  /** `count` as a share of the true class's images (0 for an empty class). */
  shareOfTrue: number;
}

/**
 * The `top` most frequent mistakes, largest count first; ties keep matrix
 * order (by true class, then predicted) so the ranking is reproducible.
 * Each direction is its own pair: Shirt→T-shirt is not T-shirt→Shirt.
 * Cells with no images are left out, so fewer than `top` may come back.
 */
export function confusedPairs(matrix: readonly (readonly number[])[], classNames: readonly string[], top = 10): ConfusedPair[] {
  checkCountMatrix(matrix, classNames);
  if (!Number.isInteger(top) || top < 0) throw new RangeError(`top must be a non-negative integer, got ${top}`);
  const pairs: ConfusedPair[] = [];
  matrix.forEach((row, t) => {
    const support = row.reduce((a, b) => a + b, 0);
    row.forEach((count, p) => {
      if (p !== t && count > 0) {
        pairs.push({ trueLabel: t, predictedLabel: p, trueName: classNames[t], predictedName: classNames[p], count, shareOfTrue: divide(count, support) });
      }
    });
  });
  // Array.prototype.sort is stable, which keeps ties in matrix order.
  return pairs.sort((a, b) => b.count - a.count).slice(0, top);
}

/** zero_division=0: an undefined ratio (nothing predicted, nothing to find) scores 0. */
function divide(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

const HEADERS = ['precision', 'recall', 'f1-score', 'support'] as const;
const LONGEST_AVERAGE_NAME = 'weighted avg';

/**
 * Text table laid out as scikit-learn's classification_report prints it
 * (same columns, widths and blank lines, trailing newline included), so the
 * two can be compared by eye or by diff.
 */
export function formatClassificationReport(report: ClassificationReport, digits = 4): string {
  // toFixed's range.
  if (!Number.isInteger(digits) || digits < 0 || digits > 100) {
    throw new RangeError(`digits must be an integer in [0, 100], got ${digits}`);
  }
  const width = Math.max(LONGEST_AVERAGE_NAME.length, digits, ...report.classes.map((c) => c.name.length));
  const cell = (text: string) => ' ' + text.padStart(9);
  const line = (heading: string, cells: string[]) => heading.padStart(width) + ' ' + cells.map(cell).join('') + '\n';
  const metricsLine = (heading: string, m: ClassMetrics) =>
    line(heading, [m.precision, m.recall, m.f1].map((v) => v.toFixed(digits)).concat(String(m.support)));

  return (
    line('', [...HEADERS]) +
    '\n' +
    report.classes.map((c) => metricsLine(c.name, c)).join('') +
    '\n' +
    line('accuracy', ['', '', report.accuracy.toFixed(digits), String(report.total)]) +
    metricsLine('macro avg', report.macroAvg) +
    metricsLine(LONGEST_AVERAGE_NAME, report.weightedAvg)
  );
}
