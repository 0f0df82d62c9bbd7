import assert from 'node:assert/strict';
import { test } from 'node:test';
import { curvesFigure, imageGalleryFigure, perClassAccuracyFigure } from '../../lib/notebook/plots';
import type { EpochLog } from '../../lib/training/epoch-log';

type Axis = { title: { text: string } };

test('gallery: tiles in rows of `cols`, two-line titles get twice the room above each image', () => {
  // image k is filled with the value 10k + 1, so a tile shows which image it holds
  const count = 3;
  const images = new Uint8Array(count * 784);
  for (let k = 0; k < count; k++) images.fill(10 * k + 1, k * 784, (k + 1) * 784);
  const titles = ['a<br>→ b 90%', 'c<br>→ d 80%', 'e<br>→ f 70%'];
  const fig = imageGalleryFigure({ images, count }, titles, 2, 'Mistakes');
  const z = fig.data[0].z as (number | null)[][];
  // cells are 28 + 10 wide and 28 + 2 * 10 high; 3 images in rows of 2 make 2 rows
  assert.equal(z.length, 2 * 48);
  assert.equal(z[0].length, 2 * 38);
  assert.equal(z[20][0], 1, 'image 0 starts below two title lines');
  assert.equal(z[19][0], null);
  assert.equal(z[20][38 + 27], 11, 'image 1: first row, second column');
  assert.equal(z[48 + 20 + 27][0], 21, 'image 2: second row');
  assert.equal(z[48 + 20][38], null, 'no fourth image');
  assert.deepEqual(
    (fig.layout.annotations as { text: string; y: number }[]).map((a) => [a.text, a.y]),
    [
      [titles[0], 10],
      [titles[1], 10],
      [titles[2], 58],
    ],
  );
  assert.deepEqual((fig.layout.title as { text: string }).text, 'Mistakes');
  assert.equal(fig.layout.width, 240);
  assert.equal(fig.layout.height, Math.round((120 * 96) / 38) + 60, 'square pixels: height follows the width');
});

test('gallery: an empty selection is an empty figure; mismatched input is named', () => {
  const empty = imageGalleryFigure({ images: new Uint8Array(0), count: 0 }, [], 4);
  assert.deepEqual(empty.layout.annotations, []);
  assert.equal((empty.layout.title as { text: string }).text, '0 images');
  assert.throws(() => imageGalleryFigure({ images: new Uint8Array(784), count: 1 }, [], 4), /1 images but 0 titles/);
  assert.throws(() => imageGalleryFigure({ images: new Uint8Array(700), count: 1 }, ['x'], 4), /images holds 700 pixels; expected count \* 784 = 784/);
  assert.throws(() => imageGalleryFigure({ images: new Uint8Array(784), count: 1 }, ['x'], 0), /cols must be a positive integer, got 0/);
});

test('per-class accuracy: one bar per class at its recall, overall accuracy as a line', () => {
  const fig = perClassAccuracyFigure(
    [
      [8, 2],
      [1, 9],
    ],
    ['a', 'b'],
  );
  const bar = fig.data[0];
  assert.equal(bar.type, 'bar');
  assert.deepEqual(bar.x, ['a', 'b']);
  assert.deepEqual(bar.y, [0.8, 0.9]);
  assert.deepEqual(bar.text, ['80.0%', '90.0%']);
  assert.deepEqual(bar.customdata, [10, 10], 'support, for the hover text');
  const [line] = fig.layout.shapes as { y0: number; y1: number }[];
  assert.equal(line.y0, 0.85);
  assert.equal(line.y1, 0.85);
  assert.match((fig.layout.annotations as { text: string }[])[0].text, /^overall<br>85\.0%$/);
  assert.throws(() => perClassAccuracyFigure([[1]], ['a', 'b']), /1 rows but 2 class names/);
});

test('curves: one line per run of the chosen metric, labelled by run', () => {
  const history = (scale: number): EpochLog[] =>
    [1, 2].map((epoch) => ({ epoch, loss: 1, accuracy: 0.5, val_loss: scale / epoch, val_accuracy: scale * epoch, seconds: 1 }));
  const runs = [
    { name: 'lr 0.001', history: history(0.3) },
    { name: 'lr 0.003', history: history(0.4) },
  ];
  const fig = curvesFigure(runs, 'val_accuracy');
  assert.deepEqual(
    fig.data.map((d) => [d.name, d.x, d.y]),
    [
      ['lr 0.001', [1, 2], [0.3, 0.6]],
      ['lr 0.003', [1, 2], [0.4, 0.8]],
    ],
  );
  assert.equal((fig.layout.title as { text: string }).text, 'Validation accuracy per run');
  assert.equal((fig.layout.yaxis as Axis).title.text, 'validation accuracy');
  assert.equal((fig.layout.xaxis as Axis).title.text, 'epoch');
  assert.equal((curvesFigure(runs, 'loss').layout.yaxis as Axis).title.text, 'training loss');
  assert.deepEqual(curvesFigure(runs, 'val_loss').data[1].y, [0.4, 0.2]);
});
