import assert from 'node:assert/strict';
import { test } from 'node:test';
import { confusedPairs } from '../../lib/report/metrics';
import { classIndex, findMistakes, mistakeTitle } from '../../lib/report/mistakes';

// true classes down, predicted across; worked by hand below
const MATRIX = [
  [5, 3, 1],
  [3, 6, 0],
  [2, 4, 7],
];
const NAMES = ['a', 'b', 'c'];

test('confused pairs: off-diagonal cells by count, ties in matrix order, empty cells left out', () => {
  const pairs = confusedPairs(MATRIX, NAMES, 10);
  assert.deepEqual(
    pairs.map((p) => [p.trueName, p.predictedName, p.count]),
    [
      ['c', 'b', 4],
      ['a', 'b', 3],
      ['b', 'a', 3],
      ['c', 'a', 2],
      ['a', 'c', 1],
    ],
  );
  assert.deepEqual(pairs[0], { trueLabel: 2, predictedLabel: 1, trueName: 'c', predictedName: 'b', count: 4, shareOfTrue: 4 / 13 });
  assert.equal(pairs[1].shareOfTrue, 3 / 9);
  assert.deepEqual(
    confusedPairs(MATRIX, NAMES, 2).map((p) => p.count),
    [4, 3],
  );
  assert.deepEqual(confusedPairs([[4, 0], [0, 0]], ['x', 'y']), [], 'a perfect matrix has no confused pairs');
});

test('confused pairs: bad input is named', () => {
  assert.throws(() => confusedPairs(MATRIX, ['a', 'b']), /3 rows but 2 class names/);
  assert.throws(() => confusedPairs([[1, 2], [3]], ['a', 'b']), /row 1 has 1 columns; expected 2/);
  assert.throws(() => confusedPairs(MATRIX, NAMES, -1), /top must be a non-negative integer, got -1/);
});

// 4 images, 3 classes: 0 wrong at .7, 1 right, 2 wrong at .9, 3 wrong at .8
const LABELS = [0, 1, 2, 1];
const PROBS = [0.2, 0.7, 0.1, 0.1, 0.8, 0.1, 0.9, 0.05, 0.05, 0.1, 0.1, 0.8];

test('mistakes: only wrong predictions, most confident first, with both probabilities', () => {
  assert.deepEqual(findMistakes(LABELS, PROBS, 3), [
    { index: 2, trueLabel: 2, predictedLabel: 0, confidence: 0.9, trueProbability: 0.05 },
    { index: 3, trueLabel: 1, predictedLabel: 2, confidence: 0.8, trueProbability: 0.1 },
    { index: 0, trueLabel: 0, predictedLabel: 1, confidence: 0.7, trueProbability: 0.2 },
  ]);
  assert.deepEqual(
    findMistakes([0, 0, 0], [0.2, 0.8, 0.4, 0.6, 0.2, 0.8], 2).map((m) => m.index),
    [0, 2, 1],
    'equal confidence keeps split order',
  );
  assert.deepEqual(findMistakes([1, 0], Float32Array.from([0.1, 0.9, 0.9, 0.1]), 2), [], 'all right: no mistakes');
});

test('mistakes: filtered by true class, predicted class, or both; null keeps all', () => {
  const indices = (filter: Parameters<typeof findMistakes>[3]) => findMistakes(LABELS, PROBS, 3, filter).map((m) => m.index);
  assert.deepEqual(indices({ trueLabel: 1 }), [3]);
  assert.deepEqual(indices({ predictedLabel: 0 }), [2]);
  assert.deepEqual(indices({ trueLabel: 0, predictedLabel: 1 }), [0]);
  assert.deepEqual(indices({ trueLabel: 0, predictedLabel: 2 }), []);
  assert.deepEqual(indices({ trueLabel: null, predictedLabel: null }), [2, 3, 0]);
});

test('mistakes: inconsistent input is named', () => {
  assert.throws(() => findMistakes(LABELS, PROBS.slice(1), 3), /probabilities has 11 values for 4 labels; expected labels \* numClasses = 12/);
  assert.throws(() => findMistakes(LABELS, PROBS, 3, { trueLabel: 3 }), /filter.trueLabel is 3; expected an integer in \[0, 3\) or null/);
  assert.throws(() => findMistakes([0, 5, 0, 0], PROBS, 3), /trueLabels\[1\] is 5; expected an integer in \[0, 3\)/);
});

test('class names: looked up for filters, a typo lists the valid names; titles show both classes and confidence', () => {
  assert.equal(classIndex('b', NAMES), 1);
  assert.throws(() => classIndex('B', NAMES), /unknown class "B"; expected one of: a, b, c/);
  const [worst] = findMistakes(LABELS, PROBS, 3);
  assert.equal(mistakeTitle(worst, NAMES), 'c<br>→ a 90%');
});
