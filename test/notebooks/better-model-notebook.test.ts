import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CLASS_NAMES } from '../../lib/data/classes';
import { figureTitle } from '../../lib/notebook/display';
import { figuresInHtml } from '../../scripts/screenshots';
import { executeCleanly, jupyterMissing } from '../helpers/notebook-run';

test('better-model.ipynb runs headless without a saved model and shows every part', { skip: jupyterMissing }, () => {
  // The scratch copy has no models/, so the notebook trains the original too; EPOCHS=1 makes every run one epoch,
  // FASHION_MNIST_IMAGES keeps the first images of each split so the two batch-norm runs stay short.
  const { html, scratch, text, texts } = executeCleanly('better-model.ipynb', { EPOCHS: '1', FASHION_MNIST_IMAGES: '6000' });
  assert.match(text, /no model saved in ..\/models\/fashion-cnn: training model seed here for 1 epochs/);
  assert.match(text, /block2_conv \(Conv2D\) .*\[null,14,14,32\]/, 'the better model summary');
  assert.match(text, /\d+ steps: rate 1\.2e-4 at the start, 3\.0e-3 at the peak, 1\.2e-8 at the end/);

  const figures = texts.flatMap(figuresInHtml);
  assert.deepEqual(
    figures.map((f) => figureTitle(f).replace(/^\d+ of the original's \d+/, 'N of the original\'s M')),
    [
      'Validation accuracy per run',
      'Validation accuracy per run',
      'Validation loss per run',
      'F1 per class (test set)',
      'Confusion matrix: original model',
      'Confusion matrix: better model',
      "N of the original's M Shirt mistakes fixed",
    ],
  );
  const [steps, , , f1, , betterMatrix, gallery] = figures;
  assert.deepEqual(
    steps.data.map((d) => [d.name, d.x]),
    [
      ['original (1 epochs)', [1]],
      ['batch-norm CNN, constant learning rate', [1]],
    ],
  );
  assert.deepEqual(f1.data.map((d) => [d.name, d.x]), [['original', CLASS_NAMES], ['better', CLASS_NAMES]]);

  const table = texts.find((t) => t.includes('<td>test accuracy</td>'));
  assert.ok(table, 'the side-by-side table');
  const row = (name: string) => Array.from(new RegExp(`<td>${name}</td>(.*?)</tr>`, 's').exec(table)![1].matchAll(/<td>(.*?)<\/td>/g), (m) => m[1]);
  const [originalAccuracy, betterAccuracy] = row('test accuracy').map(Number);
  // Two steps of the original and 19 of the better model, whose moving batch-norm statistics are still young:
  // both beat guessing (0.1), which a model whose statistics never left the workers would not.
  assert.ok(originalAccuracy > 0.2 && betterAccuracy > 0.2, `test accuracies ${originalAccuracy}, ${betterAccuracy}`);
  assert.equal(row('Shirt F1').length, 2);
  assert.ok(row('training time').every((t) => /^\d+\.\d min$/.test(t)), row('training time').join(', '));

  const tested = (betterMatrix.data[0].z as number[][]).flat().reduce((a, b) => a + b, 0);
  const [, fixed, of] = /^(\d+) of the original's (\d+)/.exec(figureTitle(gallery)) ?? [];
  assert.match(text, new RegExp(`Shirt: ${fixed} mistakes fixed, \\d+ new ones, ${Number(of) - Number(fixed)} wrong under both`));
  assert.equal((gallery.layout.annotations as unknown[]).length, Math.min(32, Number(fixed)));
  assert.ok(Number(of) < tested);

  const saved = path.join(scratch, 'models', 'better-cnn');
  assert.ok(fs.existsSync(path.join(saved, 'model.json')), 'the better model is saved beside the original');
  const metadata = JSON.parse(fs.readFileSync(path.join(saved, 'metadata.json'), 'utf8'));
  assert.equal(metadata.model, 'better');
  assert.equal(metadata.hyperparameters.model, 'better');
  assert.equal(metadata.history.length, 1);
  assert.equal(html.match(/plotly\.js v4/g)?.length, 1);
  fs.rmSync(scratch, { recursive: true, force: true });
});
