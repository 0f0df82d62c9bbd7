import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLASS_NAMES } from '../../lib/data/classes';
import { classificationReport, confusionMatrix, formatClassificationReport, type ClassMetrics } from '../../lib/report/metrics';

/** Averages sum in a different order than a fraction is written, so allow float rounding. */
function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: expected ${expected}, got ${actual}`);
}

function assertMetrics(actual: ClassMetrics, expected: ClassMetrics, what: string): void {
  assertClose(actual.precision, expected.precision, `${what} precision`);
  assertClose(actual.recall, expected.recall, `${what} recall`);
  assertClose(actual.f1, expected.f1, `${what} f1`);
  assert.equal(actual.support, expected.support, `${what} support`);
}

/*
 * Worked by hand. Labels:
 *   true = 0 0 0 0 1 1 1 1 2 2
 *   pred = 0 0 0 1 0 1 1 2 2 2
 * Confusion matrix (rows true, columns predicted), row sums = support:
 *          p0 p1 p2 | support
 *     t0    3  1  0 | 4
 *     t1    1  2  1 | 4
 *     t2    0  0  2 | 2
 *   column  4  3  3 | 10, diagonal 7 -> accuracy 7/10
 * precision = diag / column, recall = diag / row, F1 = 2 diag / (row + column):
 *   class 0: 3/4, 3/4, 6/8 = 3/4
 *   class 1: 2/3, 2/4 = 1/2, 4/7
 *   class 2: 2/3, 2/2 = 1, 4/5
 * macro    = plain means: P (3/4 + 2/3 + 2/3)/3 = 25/36, R (3/4 + 1/2 + 1)/3 = 3/4,
 *            F1 (3/4 + 4/7 + 4/5)/3 = (105 + 80 + 112)/420 = 99/140
 * weighted = support-weighted means: P (4*3/4 + 4*2/3 + 2*2/3)/10 = 7/10,
 *            R (3 + 2 + 2)/10 = 7/10, F1 (3 + 16/7 + 8/5)/10 = 241/350
 */
const HAND_TRUE = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2];
const HAND_PRED = [0, 0, 0, 1, 0, 1, 1, 2, 2, 2];
const HAND_NAMES = ['zero', 'one', 'two'];

describe('confusionMatrix', () => {
  it('counts (true, predicted) pairs with rows = true labels', () => {
    assert.deepEqual(confusionMatrix(HAND_TRUE, HAND_PRED, 3), [
      [3, 1, 0],
      [1, 2, 1],
      [0, 0, 2],
    ]);
  });

  it('accepts typed arrays, as tfjs dataSync() returns them, and defaults to 10 classes', () => {
    const m = confusionMatrix(Float32Array.from([9, 9, 0]), Int32Array.from([9, 1, 0]));
    assert.equal(m.length, 10);
    assert.ok(m.every((row) => row.length === 10));
    assert.equal(m[9][9], 1);
    assert.equal(m[9][1], 1);
    assert.equal(m[0][0], 1);
    assert.equal(m.flat().reduce((a, b) => a + b, 0), 3);
  });

  it('gives an all-zero matrix for no labels', () => {
    assert.deepEqual(confusionMatrix([], [], 2), [
      [0, 0],
      [0, 0],
    ]);
  });

  it('rejects arrays of different lengths, naming both lengths', () => {
    assert.throws(() => confusionMatrix([0, 1, 2], [0, 1], 3), /trueLabels has 3 labels but predictedLabels has 2/);
  });

  it('rejects labels out of range or not integers, naming the array, index and value', () => {
    assert.throws(() => confusionMatrix([0, 3], [0, 0], 3), /trueLabels\[1\] is 3; expected an integer in \[0, 3\)/);
    assert.throws(() => confusionMatrix([0, 0], [-1, 0], 3), /predictedLabels\[0\] is -1/);
    assert.throws(() => confusionMatrix([0, 0.5], [0, 0], 3), /trueLabels\[1\] is 0\.5/);
    assert.throws(() => confusionMatrix([NaN], [0], 3), /trueLabels\[0\] is NaN/);
  });

  it('rejects a class count that is not a positive integer', () => {
    assert.throws(() => confusionMatrix([], [], 0), /numClasses must be a positive integer, got 0/);
  });
});

describe('classificationReport', () => {
  it('matches the hand-worked 3-class example', () => {
    const r = classificationReport(confusionMatrix(HAND_TRUE, HAND_PRED, 3), HAND_NAMES);
    assert.deepEqual(
      r.classes.map((c) => [c.label, c.name]),
      [
        [0, 'zero'],
        [1, 'one'],
        [2, 'two'],
      ],
    );
    assertMetrics(r.classes[0], { precision: 3 / 4, recall: 3 / 4, f1: 3 / 4, support: 4 }, 'class 0');
    assertMetrics(r.classes[1], { precision: 2 / 3, recall: 1 / 2, f1: 4 / 7, support: 4 }, 'class 1');
    assertMetrics(r.classes[2], { precision: 2 / 3, recall: 1, f1: 4 / 5, support: 2 }, 'class 2');
    assertClose(r.accuracy, 7 / 10, 'accuracy');
    assert.equal(r.total, 10);
    assertMetrics(r.macroAvg, { precision: 25 / 36, recall: 3 / 4, f1: 99 / 140, support: 10 }, 'macro avg');
    assertMetrics(r.weightedAvg, { precision: 7 / 10, recall: 7 / 10, f1: 241 / 350, support: 10 }, 'weighted avg');
  });

  it('scores 0, not NaN, for a class never predicted and a class absent from the data', () => {
    // Class 1 is never predicted (precision 0/0) but has support; class 2 is in neither array.
    const r = classificationReport(confusionMatrix([0, 0, 1], [0, 0, 0], 3), ['a', 'b', 'c']);
    assertMetrics(r.classes[0], { precision: 2 / 3, recall: 1, f1: 4 / 5, support: 2 }, 'class a');
    assertMetrics(r.classes[1], { precision: 0, recall: 0, f1: 0, support: 1 }, 'class b');
    assertMetrics(r.classes[2], { precision: 0, recall: 0, f1: 0, support: 0 }, 'class c');
    // Absent classes still count in the macro average, as with scikit-learn's labels=range(3).
    assertMetrics(r.macroAvg, { precision: 2 / 9, recall: 1 / 3, f1: 4 / 15, support: 3 }, 'macro avg');
    assertMetrics(r.weightedAvg, { precision: 4 / 9, recall: 2 / 3, f1: 8 / 15, support: 3 }, 'weighted avg');
  });

  it('scores an empty matrix as 0 everywhere', () => {
    const r = classificationReport(confusionMatrix([], [], 2), ['a', 'b']);
    assert.equal(r.accuracy, 0);
    assert.equal(r.total, 0);
    assertMetrics(r.macroAvg, { precision: 0, recall: 0, f1: 0, support: 0 }, 'macro avg');
    assertMetrics(r.weightedAvg, { precision: 0, recall: 0, f1: 0, support: 0 }, 'weighted avg');
  });

  it('works with the Fashion-MNIST class names', () => {
    const labels = Array.from({ length: 20 }, (_, i) => i % 10);
    const r = classificationReport(confusionMatrix(labels, labels), CLASS_NAMES);
    assert.equal(r.classes[9].name, 'Ankle boot');
    assert.equal(r.accuracy, 1);
    assertMetrics(r.macroAvg, { precision: 1, recall: 1, f1: 1, support: 20 }, 'macro avg');
  });

  it('rejects malformed matrices, naming what was expected and found', () => {
    assert.throws(() => classificationReport([[1]], ['a', 'b']), /matrix has 1 rows but 2 class names/);
    assert.throws(
      () =>
        classificationReport(
          [
            [1, 0],
            [0, 1, 2],
          ],
          ['a', 'b'],
        ),
      /matrix row 1 has 3 columns; expected 2/,
    );
    assert.throws(
      () =>
        classificationReport(
          [
            [1, -1],
            [0, 1],
          ],
          ['a', 'b'],
        ),
      /matrix\[0\]\[1\] is -1; expected a non-negative integer count/,
    );
  });
});

describe('formatClassificationReport', () => {
  it("reproduces scikit-learn's documented classification_report output", () => {
    // From the scikit-learn docs: classification_report([0, 1, 2, 2, 2], [0, 0, 2, 2, 1],
    // target_names=['class 0', 'class 1', 'class 2']), digits=2.
    const expected = [
      '              precision    recall  f1-score   support',
      '',
      '     class 0       0.50      1.00      0.67         1',
      '     class 1       0.00      0.00      0.00         1',
      '     class 2       1.00      0.67      0.80         3',
      '',
      '    accuracy                           0.60         5',
      '   macro avg       0.50      0.56      0.49         5',
      'weighted avg       0.70      0.60      0.61         5',
      '',
    ].join('\n');
    const matrix = confusionMatrix([0, 1, 2, 2, 2], [0, 0, 2, 2, 1], 3);
    const r = classificationReport(matrix, ['class 0', 'class 1', 'class 2']);
    assert.equal(formatClassificationReport(r, 2), expected);
  });

  it('prints 4 digits by default and widens the name column for long names', () => {
    const r = classificationReport(confusionMatrix(HAND_TRUE, HAND_PRED, 3), ['zero', 'a much longer name', 'two']);
    const lines = formatClassificationReport(r).split('\n');
    assert.equal(lines[0], ' '.repeat(19) + ' precision    recall  f1-score   support');
    assert.equal(lines[3], 'a much longer name     0.6667    0.5000    0.5714         4');
    assert.equal(lines[6], ' '.repeat(10) + 'accuracy' + ' '.repeat(25) + '0.7000        10');
    assert.equal(lines[7], '         macro avg     0.6944    0.7500    0.7071        10');
  });

  it('rejects a digit count toFixed cannot print', () => {
    const r = classificationReport([[1]], ['a']);
    assert.throws(() => formatClassificationReport(r, -1), /digits must be an integer in \[0, 100\], got -1/);
  });
});
