import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../../scripts/jupyter';
import { KERNEL_DISPLAY_NAME, KERNEL_NAME } from '../../scripts/kernel-spec';
import { jupyterMissing, outputText, scratchNotebooks, type ExecutedNotebook } from '../helpers/notebook-run';

/** The first TypeScript block of README's "Your own notebook" section, as printed. */
function readmeExample(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Your own notebook'));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'README has a ts block under "Your own notebook"');
  return block[1];
}

const COUNT = "import * as tf from '@tensorflow/tfjs';\nconsole.log(`tensors: ${tf.memory().numTensors}`);";

test("README's own-notebook example can be rerun in one kernel without leaking tensors", { skip: jupyterMissing, timeout: 15 * 60_000 }, () => {
  const example = readmeExample();
  assert.match(example, /keepLatest\(/, 'the example keeps only its latest data and model');
  const dir = scratchNotebooks('test-readme-');
  const cell = (source: string) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source });
  const notebook = {
    cells: [example, COUNT, example, COUNT, example, COUNT].map(cell),
    metadata: { kernelspec: { name: KERNEL_NAME, display_name: KERNEL_DISPLAY_NAME, language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 4,
  };
  fs.writeFileSync(path.join(dir, 'example.ipynb'), JSON.stringify(notebook));
  const out = path.dirname(dir);
  try {
    const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'execute.ts'), '--out-dir', out, path.join(dir, 'example.ipynb')], {
      cwd: ROOT,
      // A few thousand images: the example's 5 epochs in seconds.
      env: { ...process.env, FASHION_MNIST_IMAGES: '2000' },
      encoding: 'utf8',
      timeout: 15 * 60_000,
    });
    assert.equal(result.status, 0, result.stderr.slice(-4000));
    const executed = JSON.parse(fs.readFileSync(path.join(out, 'example.ipynb'), 'utf8')) as ExecutedNotebook;
    const texts = executed.cells.map((c) => (c.outputs ?? []).map(outputText).join(''));
    const counts = texts.filter((_, i) => i % 2 === 1).map((t) => Number(/tensors: (\d+)/.exec(t)?.[1]));
    assert.ok(counts.every((n) => n > 0), `tensor counts printed: ${texts.join(' | ')}`);
    assert.ok(counts[1] <= counts[0] && counts[2] <= counts[1], `the tensor count does not grow from run to run: ${counts.join(' -> ')}`);
    assert.match(texts[0], /0\.\d+/, 'the example prints its test accuracy');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
