/**
 * Labelled image sets other than Fashion-MNIST as the shipped files: IDX
 * folders of any image size, Kaggle's CSV form, DataFrames filtered,
 * relabelled and concatenated in danfo, colour images; and every refusal
 * that keeps such data from training silently wrong.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import * as dfd from 'danfojs-node';
import { CLASS_NAMES } from '../../lib/data/classes';
import { readImageCsv, writeImageCsv } from '../../lib/data/csv';
import { fromDataFrame, toDataFrame } from '../../lib/data/frames';
import { loadIdxDataset } from '../../lib/data/idx-dataset';
import type { LabeledImages } from '../../lib/data/labeled-images';
import { takeRows } from '../../lib/data/split';
import { toTensors } from '../../lib/data/tensors';
import { selectBackend } from '../../lib/engine/backend';
import { resolveHyperparameters } from '../../lib/model/hyperparams';
import { buildZooModel } from '../../lib/model/zoo';
import { predictProbabilities } from '../../lib/model/predict';
import { historyFigure, imageGridFigure, predictionFigure } from '../../lib/notebook/plots';
import { classifyImages } from '../../lib/report/classify';
import { disposeData, prepareData } from '../../lib/pipeline';
import { testModel } from '../../lib/report/test-results';
import { DIVERGED_LOSS, divergedLoss } from '../../lib/training/divergence';
import { train } from '../../lib/training/train';
import { realData } from '../helpers/data-fixture';
import { idxImageBytes, idxLabelBytes } from '../helpers/idx-bytes';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'datasets-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

const idxImages = (set: LabeledImages) => idxImageBytes(set.count, set.shape[0], set.shape[1], set.images);
const idxLabels = (set: LabeledImages) => idxLabelBytes(set.labels);

/** Every second row and column of each image: 14x14 images that are not in the repository. */
function halved(set: LabeledImages): LabeledImages {
  const images = new Uint8Array(set.count * 14 * 14);
  for (let i = 0; i < set.count; i++) for (let r = 0; r < 14; r++) for (let c = 0; c < 14; c++) images[i * 196 + r * 14 + c] = set.images[i * 784 + 2 * r * 28 + 2 * c];
  return { ...set, images, shape: [14, 14, 1] };
}

test('loadIdxDataset reads an IDX folder of another image size, gzipped or not, with its own class names, and never downloads', async () => {
  const raw = await realData();
  const dir = path.join(scratch, 'small-idx');
  fs.mkdirSync(dir);
  const train = halved(takeRows(raw.train, Array.from({ length: 300 }, (_, i) => i)));
  const test = halved(takeRows(raw.test, Array.from({ length: 100 }, (_, i) => i)));
  fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idxImages(train)));
  fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idxLabels(train));
  fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte'), idxImages(test));
  fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(idxLabels(test)));
  const loaded = await loadIdxDataset(dir, { classNames: DIGITS });
  assert.deepEqual(loaded.train.shape, [14, 14, 1]);
  assert.deepEqual(loaded.train.classNames, DIGITS);
  assert.deepEqual(Buffer.from(loaded.train.images), Buffer.from(train.images));
  assert.deepEqual(Buffer.from(loaded.test.labels), Buffer.from(test.labels));
  assert.equal((await loadIdxDataset(dir, { classNames: DIGITS, limit: 10 })).train.count, 10);
  const { x } = toTensors(loaded.test);
  assert.deepEqual(x.shape, [100, 14, 14, 1]);
  x.dispose();

  fs.rmSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'));
  await assert.rejects(loadIdxDataset(dir, { classNames: DIGITS }), new RegExp(`${dir} has no t10k-labels-idx1-ubyte \\(nor t10k-labels-idx1-ubyte.gz\\)`));
  fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(idxLabels(test)));
  await assert.rejects(loadIdxDataset(dir, { classNames: ['a', 'b', 'c'] }), /train-labels-idx1-ubyte: label \d at index \d+, expected a class index 0-2 \(3 class names\)/);
  await assert.rejects(loadIdxDataset(path.join(scratch, 'nowhere'), { classNames: DIGITS }), /nowhere: no such folder; expected a folder of IDX files/);
  fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte'), idxImages(takeRows(raw.test, Array.from({ length: 100 }, (_, i) => i))));
  await assert.rejects(loadIdxDataset(dir, { classNames: DIGITS }), /the training images are 14x14x1 but the test images 28x28x1/);
});

test("writeImageCsv writes Kaggle's CSV, and readImageCsv reads it to exactly the IDX files' pixels and labels, failing a bad line with its number", async () => {
  const { test: split } = await realData();
  const file = path.join(scratch, 'a folder made for it', 'fashion-mnist_test.csv');
  await writeImageCsv(split, file);
  const text = fs.readFileSync(file, 'utf8');
  assert.equal(text.slice(0, 28), 'label,pixel1,pixel2,pixel3,p');
  assert.equal(text.split('\n')[1], [split.labels[0], ...split.images.subarray(0, 784)].join(','), "Kaggle's form: the label, then the 784 pixel values");
  assert.deepEqual(fs.readdirSync(path.dirname(file)).filter((f) => f.includes('.tmp-')), [], 'no temporary file is left');
  const df = await readImageCsv(file);
  assert.deepEqual(df.shape, [10_000, 785]);
  assert.deepEqual(df.columns.slice(0, 3), ['Label', '0', '1']);
  const back = fromDataFrame(df, { classNames: CLASS_NAMES });
  assert.deepEqual(Buffer.from(back.images), Buffer.from(split.images));
  assert.deepEqual(Buffer.from(back.labels), Buffer.from(split.labels));
  assert.deepEqual(back.classNames, CLASS_NAMES);

  // The label in another column, named otherwise; Windows line ends.
  const moved = path.join(scratch, 'moved.csv');
  fs.writeFileSync(moved, 'p1,p2,p3,p4,class\r\n1,2,3,4,1\r\n5,6,7,8,0\r\n\r\n');
  const small = await readImageCsv(moved, { labelColumn: 'class' });
  assert.deepEqual(small.values, [[1, 1, 2, 3, 4], [0, 5, 6, 7, 8]]);
  assert.deepEqual(fromDataFrame(small, { shape: [2, 2, 1], classNames: ['no', 'yes'] }).classNames, ['no', 'yes']);

  const bad = (name: string, text: string) => {
    const f = path.join(scratch, name);
    fs.writeFileSync(f, text);
    return readImageCsv(f);
  };
  await assert.rejects(bad('short.csv', 'label,a,b\n1,2,3\n4,5\n'), /short\.csv:3: 2 values, expected 3 \(the header's columns: a label and 2 pixel values\)/);
  await assert.rejects(bad('long.csv', 'label,a,b\n1,2,3,4\n'), /long\.csv:2: 4 values, expected 3/);
  await assert.rejects(bad('text.csv', 'label,a,b\n1,2,3\n1,x7,3\n'), /text\.csv:3: column a is "x7"; expected an integer 0-255/);
  await assert.rejects(bad('big.csv', 'label,a,b\n1,256,3\n'), /big\.csv:2: column a is "256"; expected an integer 0-255/);
  await assert.rejects(bad('nolabel.csv', 'a,b\n1,2\n'), /nolabel\.csv: no "label" column in the header line/);
  await assert.rejects(bad('return.csv', 'label,a,b\n1,2\r3,4\n'), /return\.csv:2: column a is "2\\r3"; expected an integer 0-255/);
  await assert.rejects(bad('old-mac.csv', 'label,a,b\r1,2,3\r'), /old-mac\.csv: no "label" column|old-mac\.csv: no image after the header line/);
  await assert.rejects(bad('header-only.csv', 'label,a,b\n'), /header-only\.csv: no image after the header line/);
});

test('fromDataFrame takes the frame as danfo left it: filtered, relabelled, concatenated (columns reordered), in row order', async () => {
  const { test: split } = await realData();
  const first = takeRows(split, Array.from({ length: 200 }, (_, i) => i));
  const df = toDataFrame(first);
  const label = df.column('Label');
  // Trousers and sneakers only, relabelled 0 and 1.
  const kept = df.query(label.eq(1).or(label.eq(7)));
  kept.addColumn('Label', kept.column('Label').map((l) => (l === 1 ? 0 : 1)), { inplace: true });
  const expected = Array.from({ length: 200 }, (_, i) => i).filter((i) => first.labels[i] === 1 || first.labels[i] === 7);
  const both = fromDataFrame(kept, { classNames: ['Trouser', 'Sneaker'] });
  assert.equal(both.count, expected.length);
  assert.deepEqual(Array.from(both.labels), expected.map((i) => (first.labels[i] === 1 ? 0 : 1)));
  assert.deepEqual(Buffer.from(both.images), Buffer.from(takeRows(first, expected).images));

  const twice = dfd.concat({ dfList: [df, df.head(3)], axis: 0 }) as dfd.DataFrame;
  assert.notDeepEqual(twice.columns.slice(0, 2), ['Label', '0'], 'danfo reorders the columns');
  const back = fromDataFrame(twice);
  assert.equal(back.count, 203);
  assert.deepEqual(Buffer.from(back.images.subarray(0, 200 * 784)), Buffer.from(first.images));
  assert.deepEqual(Buffer.from(back.images.subarray(200 * 784)), Buffer.from(first.images.subarray(0, 3 * 784)));

  assert.throws(() => fromDataFrame(df, { shape: [32, 32, 3] }), /the frame has 784 pixel columns \(named 0, 1, \.\.\.\), but 32x32x3 images need 3072 \(columns 0\.\.3071\)/);
  assert.throws(() => fromDataFrame(kept, { classNames: ['Trouser'] }), /label 1 of image \d+ is outside \[0, 1\): there are 1 class names \(Trouser\)/);
  assert.throws(() => fromDataFrame(new dfd.DataFrame([[0, 1.5, 2, 3, 4]], { columns: ['Label', '0', '1', '2', '3'] }), { shape: [2, 2, 1] }), /row 0 of the frame \(counting from 0\), column "0": 1\.5 is not a pixel value/);
  assert.throws(() => fromDataFrame(new dfd.DataFrame([[0, 1]], { columns: ['class', '0'] }), { shape: [1, 1, 1] }), /the frame has no "Label" column/);
  // danfo reads an empty CSV cell as null; a string label is no class index either.
  for (const label of [null, '1', 1.5]) {
    assert.throws(() => fromDataFrame(new dfd.DataFrame([[label, 1]], { columns: ['Label', '0'] }), { shape: [1, 1, 1] }), /row 0 of the frame \(counting from 0\): label .+ is not a class index 0-255/, String(label));
  }
  assert.deepEqual(fromDataFrame(new dfd.DataFrame([[2, 1]], { columns: ['Label', '0'] }), { shape: [1, 1, 1] }).classNames, ['0', '1', '2'], 'unnamed classes are numbered, not guessed');
});

/**
 * 32x32 colour images of three classes that differ by colour: class k has channel k brighter,
 * with seeded noise, so a small model learns them in a few epochs.
 */
function colourSet(count: number, seed: number): LabeledImages {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
  const images = new Uint8Array(count * 32 * 32 * 3);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 3;
    for (let p = 0; p < 32 * 32; p++) for (let c = 0; c < 3; c++) images[(i * 1024 + p) * 3 + c] = Math.floor(random() * 120 + (c === labels[i] ? 100 : 0));
  }
  return { images, labels, count, shape: [32, 32, 3], classNames: ['red', 'green', 'blue'] };
}

test('a 32x32x3 colour set with its own names: through a DataFrame and back, a model sized for it trains, and the report has its three classes', async () => {
  await selectBackend();
  const raw = { train: colourSet(600, 1), test: colourSet(150, 2) };
  const df = toDataFrame(raw.test);
  assert.deepEqual(df.shape, [150, 1 + 3072]);
  const back = fromDataFrame(df, { shape: [32, 32, 3], classNames: ['red', 'green', 'blue'] });
  assert.deepEqual(Buffer.from(back.images), Buffer.from(raw.test.images));

  const hp = resolveHyperparameters({ epochs: 3, batchSize: 64, learningRate: 0.003, validationFraction: 0.2 });
  const data = prepareData(raw, hp);
  assert.deepEqual(data.train.x.shape, [480, 32, 32, 3]);
  assert.deepEqual(data.test.classNames, ['red', 'green', 'blue']);
  const model = buildZooModel('seed', { ...hp, inputShape: [32, 32, 3], numClasses: 3 });
  const history = await train(model, data, hp, { verbose: 0 });
  assert.ok(history[2].loss < history[0].loss, `the loss falls: ${history.map((h) => h.loss.toFixed(3)).join(' -> ')}`);
  const results = await testModel(model, data.test);
  assert.deepEqual(results.report.classes.map((c) => c.name), ['red', 'green', 'blue']);
  assert.equal(results.confusionMatrix.length, 3);
  assert.equal(results.confusionMatrix.flat().reduce((a, b) => a + b, 0), 150);
  assert.ok(results.accuracy > 0.9, `test accuracy ${results.accuracy}`);

  const grid = imageGridFigure(raw.test, 2, 3);
  assert.equal(grid.data[0].type, 'image', 'colour images are drawn in colour');
  const z = grid.data[0].z as number[][][];
  const annotations = grid.layout.annotations as { text: string }[];
  assert.deepEqual(annotations.map((a) => a.text), ['red', 'green', 'blue', 'red', 'green', 'blue']);
  assert.deepEqual(z[10][0], Array.from(raw.test.images.subarray(0, 3)), 'the first pixel of the first image, as RGB');
  assert.deepEqual(z[10][1], Array.from(raw.test.images.subarray(3, 6)), 'its second pixel');
  assert.deepEqual(z[10 + 5][7], Array.from(raw.test.images.subarray((5 * 32 + 7) * 3, (5 * 32 + 7) * 3 + 3)), 'a pixel of its sixth row');
  model.dispose();
  disposeData(data);
});

test('a model whose outputs or input do not fit the data is refused before training, naming the values', async () => {
  await selectBackend();
  const raw = { train: colourSet(60, 3), test: colourSet(30, 4) };
  const hp = resolveHyperparameters({ epochs: 1, batchSize: 32 });
  const data = prepareData(raw, hp);
  const fashionShaped = buildZooModel('mlp', resolveHyperparameters({ model: 'mlp' }));
  await assert.rejects(train(fashionShaped, data, hp, { verbose: 0 }), /the model takes 28x28x1 images, but the training data images are 32x32x3; build it with inputShape: \[32, 32, 3\]/);
  const twoOutputs = buildZooModel('seed', { ...hp, inputShape: [32, 32, 3], numClasses: 2 });
  await assert.rejects(train(twoOutputs, data, hp, { verbose: 0 }), /the model has 2 outputs, but the training data has 3 classes \(red, green, blue\); build it with numClasses: 3/);
  await assert.rejects(testModel(twoOutputs, data.test), /the model has 2 outputs, but the test data has 3 classes/);
  // Tensors made by hand carry no names: the labels themselves are checked.
  const unnamed = { x: data.test.x, y: tf.tensor1d([0, 1, 2, 5, ...new Array(26).fill(0)], 'float32') };
  const threeOutputs = buildZooModel('seed', { ...hp, inputShape: [32, 32, 3], numClasses: 3 });
  await assert.rejects(testModel(threeOutputs, unnamed), /the model has 3 outputs, but the test data has labels up to 5; build it with numClasses: 6/);
  assert.throws(() => buildZooModel('seed', { ...hp, numClasses: 1 }), /numClasses must be an integer of at least 2, got 1/);
  assert.throws(() => buildZooModel('seed', { ...hp, inputShape: [28, 28] }), /inputShape must be \[height, width, channels\] of positive integers, got \[28,28\]/);
  unnamed.y.dispose();
  [fashionShaped, twoOutputs, threeOutputs].forEach((m) => m.dispose());
  disposeData(data);
});

test('classifyImages gives the top classes of an image by name, drawn beside their probabilities; historyFigure takes the tf.History of model.fit', async () => {
  await selectBackend();
  const raw = { train: colourSet(300, 5), test: colourSet(30, 6) };
  const hp = resolveHyperparameters({ epochs: 2, batchSize: 64, learningRate: 0.003 });
  const data = prepareData(raw, hp);
  const model = buildZooModel('mlp', { ...hp, inputShape: [32, 32, 3], numClasses: 3 });
  model.compile({ optimizer: tf.train.adam(0.003), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const history = await model.fit(data.train.x, data.train.y, { epochs: 2, batchSize: 64, validationData: [data.validation.x, data.validation.y], verbose: 0 });
  const curves = historyFigure(history, 'accuracy');
  assert.deepEqual(curves.data[0].x, [1, 2]);
  assert.deepEqual(curves.data[1].y, history.history.val_acc);

  const three = takeRows(raw.test, [0, 1, 2]);
  const top = await classifyImages(model, three, three.classNames, 2);
  assert.equal(top.length, 3);
  const tensors = toTensors(three);
  const probabilities = (await predictProbabilities(model, tensors.x)).subarray(0, 3);
  tf.dispose([tensors.x, tensors.y]);
  const best = Array.from(probabilities).indexOf(Math.max(...probabilities));
  assert.deepEqual(top[0][0], { name: three.classNames[best], probability: probabilities[best] }, 'the most likely class first, with its probability');
  assert.ok(top.every((t) => t.length === 2 && t[0].probability >= t[1].probability));
  const figure = predictionFigure(three, top[0]);
  assert.equal(figure.data[0].type, 'image');
  assert.deepEqual(figure.data[1].y, [top[0][1].name, top[0][0].name], 'bars bottom to top, the most likely on top');
  await assert.rejects(classifyImages(model, { images: new Uint8Array(784), count: 1 }), /the model takes 32x32x3 images, got 28x28x1/);
  model.dispose();
  disposeData(data);
});

test('the divergence threshold follows the class count: 4 ln k, which a run that blew up still crosses with many classes', () => {
  assert.equal(divergedLoss(10), DIVERGED_LOSS, "Fashion-MNIST's 9.21 is unchanged");
  assert.equal(divergedLoss(3), 4 * Math.log(3));
  assert.equal(divergedLoss(2), 4 * Math.log(2));
  // A run whose weights blew up sits near -ln(1e-7) = 16.1 per image on all but 1/k of its images.
  for (const k of [60, 100, 256]) assert.ok(divergedLoss(k) < 16.1 * (1 - 1 / k) - 2, `k = ${k}: ${divergedLoss(k)}`);
});
