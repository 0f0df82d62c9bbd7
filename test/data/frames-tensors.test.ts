import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLASS_NAMES } from '../../lib/data/classes';
import { classCounts, toDataFrame, FRAME_COLUMNS } from '../../lib/data/frames';
import { splitValidation, takeRows } from '../../lib/data/split';
import { toTensors } from '../../lib/data/tensors';
import { realData } from '../helpers/data-fixture';

test('a split as a DataFrame: Label, then pixel columns 0..783, the file bytes as values', async () => {
  const { test: split } = await realData();
  const df = toDataFrame(split);
  assert.deepEqual(df.shape, [10_000, 785]);
  assert.deepEqual(df.columns.slice(0, 3), ['Label', '0', '1']);
  assert.equal(df.columns[784], '783');
  assert.deepEqual(df.columns, [...FRAME_COLUMNS]);
  const rows = df.head(2).values as number[][];
  for (const r of [0, 1]) {
    assert.equal(rows[r][0], split.labels[r]);
    assert.deepEqual(rows[r].slice(1), Array.from(split.images.subarray(r * 784, (r + 1) * 784)));
  }
  assert.equal(rows[0][0], 9, 'first test image is an ankle boot');
  assert.deepEqual(
    classCounts(df, split.classNames),
    CLASS_NAMES.map((name, label) => ({ label, name, images: 1000 })),
  );
  assert.deepEqual(classCounts(df)[9], { label: 9, name: '9', images: 1000 }, 'a frame has no names: numbered without them');
});

test('tensors: float32 pixels / 255 shaped [N, 28, 28, 1], float32 labels', async () => {
  const { test: split } = await realData();
  const small = takeRows(split, [0, 1, 2, 9999]);
  const { x, y } = toTensors(small);
  assert.deepEqual(x.shape, [4, 28, 28, 1]);
  assert.equal(x.dtype, 'float32');
  assert.equal(y.dtype, 'float32');
  const px = x.dataSync();
  for (const i of [0, 300, 784 + 406, 3 * 784 + 783]) assert.equal(px[i], Math.fround(small.images[i] / 255));
  assert.deepEqual(Array.from(y.dataSync()), [split.labels[0], split.labels[1], split.labels[2], split.labels[9999]]);
  assert.ok(Math.max(...px) <= 1 && Math.min(...px) >= 0);
  x.dispose();
  y.dispose();
});

test('validation split: 48,000 / 12,000, disjoint, seeded', async () => {
  const { train } = await realData();
  // Tag each row with its index in its first four pixels to follow rows through the split.
  const tagged = { ...train, images: train.images.slice() };
  for (let i = 0; i < train.count; i++) new DataView(tagged.images.buffer).setUint32(i * 784, i);
  const ids = (s: { images: Uint8Array; count: number }) =>
    Array.from({ length: s.count }, (_, i) => new DataView(s.images.buffer).getUint32(i * 784));
  const a = splitValidation(tagged, 0.2, 42);
  assert.equal(a.train.count, 48_000);
  assert.equal(a.validation.count, 12_000);
  const all = new Set([...ids(a.train), ...ids(a.validation)]);
  assert.equal(all.size, 60_000, 'every image lands in exactly one split');
  const trainIds = ids(a.train);
  assert.ok(trainIds.every((id, k) => a.train.labels[k] === train.labels[id]), 'labels travel with their images');
  assert.deepEqual(ids(splitValidation(tagged, 0.2, 42).validation), ids(a.validation));
  assert.notDeepEqual(ids(splitValidation(tagged, 0.2, 43).validation).slice(0, 100), ids(a.validation).slice(0, 100));
  assert.throws(() => splitValidation(train, 1, 42), /validationFraction must be in \(0, 1\), got 1/);
  assert.throws(() => splitValidation(takeRows(train, [0, 1]), 0.1, 42), /leaves an empty split/);
});
