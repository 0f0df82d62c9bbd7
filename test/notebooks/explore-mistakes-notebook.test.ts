import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { CLASS_NAMES } from '../../lib/data/classes';
import { figureTitle } from '../../lib/notebook/display';
import { figuresInHtml } from '../../scripts/screenshots';
import { executeCleanly, jupyterMissing } from '../helpers/notebook-run';

test('explore-mistakes.ipynb runs headless without a saved model and shows every part', { skip: jupyterMissing }, () => {
  // The scratch copy has no models/, so the notebook trains its quick model: one epoch with EPOCHS=1, as each compared setting.
  const { html, scratch, text, texts } = executeCleanly('explore-mistakes.ipynb', { EPOCHS: '1' });
  assert.match(text, /no model saved in ..\/models\/fashion-cnn: training model seed here for 1 epochs/);
  const [, accuracy, wrong] = /test accuracy (0\.\d+): (\d+) of 10000 test images misclassified/.exec(text) ?? [];
  assert.ok(Number(accuracy) > 0.5, `one epoch already beats guessing by far: ${accuracy}`);

  const figures = texts.flatMap(figuresInHtml);
  assert.deepEqual(
    figures.map((f) => figureTitle(f).replace(/^\d+ most confident of \d+ mistakes/, 'N most confident of M mistakes')),
    ['Accuracy per class (test set)', 'N most confident of M mistakes (true class Shirt, predicted any)', 'Validation accuracy per run', 'Validation loss per run'],
  );
  const [perClass, gallery, curves] = figures;
  assert.deepEqual(perClass.data[0].x, CLASS_NAMES);

  const pairs = texts.find((t) => t.includes('<th>predicted as</th>'));
  assert.ok(pairs, 'a table of confused pairs');
  assert.equal(pairs.match(/<tr>/g)?.length, 11, 'header and ten pairs');

  const [, shown, of] = /^(\d+) most confident of (\d+)/.exec(figureTitle(gallery)) ?? [];
  assert.equal(Number(shown), Math.min(32, Number(of)));
  assert.ok(Number(of) > 0 && Number(of) <= Number(wrong), `${of} misclassified shirts of ${wrong} mistakes`);
  const titles = (gallery.layout.annotations as { text: string }[]).map((a) => a.text);
  assert.equal(titles.length, Number(shown));
  assert.ok(titles.every((t) => t.startsWith('Shirt<br>→ ') && !t.startsWith('Shirt<br>→ Shirt ')), 'only misclassified shirts');
  const confidences = titles.map((t) => Number(/(\d+)%$/.exec(t)?.[1]));
  assert.deepEqual(confidences, [...confidences].sort((a, b) => b - a), 'most confident first');

  assert.deepEqual(
    curves.data.map((d) => [d.name, d.x]),
    [
      ['learning rate 0.001', [1]],
      ['learning rate 0.003', [1]],
    ],
  );
  // The exported page carries plotly once and draws from it, offline.
  assert.equal(html.match(/plotly\.js v4/g)?.length, 1);
  fs.rmSync(scratch, { recursive: true, force: true });
});
